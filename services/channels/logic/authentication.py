"""What SES's receipt verdicts say about who sent a mail.

SES checks SPF (the sending server may send for the envelope's domain), DKIM (a domain signed the
mail) and DMARC (the From domain's policy, with SPF or DKIM aligned to it), each PASS, FAIL, GRAY
(nothing to check: no record, no signature, no policy) or PROCESSING_FAILED. The From header alone
proves nothing: anyone can write any address there.
"""

from __future__ import annotations

from shared.events.catalogue import MailVerdicts

PASS, FAIL = "PASS", "FAIL"
ABSENT = {None, "GRAY"}  # SES reported nothing, or found nothing to check


def authenticated(verdicts: MailVerdicts) -> bool:
    """The mail proves where it came from: DMARC or DKIM passed, or, with neither there to
    check, SPF passed."""
    if PASS in (verdicts.dmarc, verdicts.dkim):
        return True
    return verdicts.dkim in ABSENT and verdicts.dmarc in ABSENT and verdicts.spf == PASS


def may_answer(verdicts: MailVerdicts) -> bool:
    """An automatic answer may go to the sender: they authenticated and no check failed. An
    answer to a forged sender is mail to someone who never wrote (backscatter)."""
    failed = FAIL in (verdicts.spf, verdicts.dkim, verdicts.dmarc)
    return authenticated(verdicts) and not failed


def signed(verdicts: MailVerdicts) -> bool:
    """The mail is signed for its sender's domain (DKIM or DMARC passed) and no check failed:
    what an agent's mail must show to write on a ticket. SPF alone proves only the server."""
    failed = FAIL in (verdicts.spf, verdicts.dkim, verdicts.dmarc)
    return PASS in (verdicts.dmarc, verdicts.dkim) and not failed
