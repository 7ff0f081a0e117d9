"""A dry run of mail in (`POST /channels/simulate`, admins): what a raw mail would do, decided by
the same code as real mail, without writing anything."""

from __future__ import annotations

from services.channels.logic.dependencies import Dependencies
from services.channels.logic.mail_parser import ParsedAttachment, parse_mail
from services.channels.logic.receive_mail import (
    Decision,
    ReceivedMail,
    decide,
    incoming_from_parse,
)
from shared.errors import Forbidden
from shared.events.catalogue import Attachment, MailVerdicts
from shared.identity import Caller

SIMULATION = "simulation"
AUTHENTICATED = {"spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}


def _not_stored(files: list[ParsedAttachment]) -> list[Attachment]:
    """The dry run reports attachments without storing them."""
    return [
        Attachment(name=f.name, content_type=f.content_type, size=f.size, key="(not stored)")
        for f in files
    ]


def simulate(
    raw: bytes, recipients: list[str], verdicts: dict[str, str], caller: Caller, deps: Dependencies
) -> tuple[Decision, list[str]]:
    """The decision for this mail, and the problems the parser found in it."""
    if not caller.is_admin:
        raise Forbidden("Only admins simulate mail.")
    parsed = parse_mail(raw)
    sender = parsed.sender.email if parsed.sender else ""
    incoming = incoming_from_parse(parsed, sender, _not_stored)
    received = ReceivedMail(
        ses_message_id=SIMULATION,
        received_at=deps.clock.now(),
        envelope_sender=sender,
        recipients=recipients or [a.email for a in parsed.to + parsed.cc],
        # Mail authenticates unless the admin pretends otherwise, as most mail does.
        verdicts=MailVerdicts.model_validate({**AUTHENTICATED, **verdicts}),
        summary=incoming,
    )
    return decide(received, incoming, deps), parsed.defects
