"""Receiving one mail that SES accepted: find the channels it was sent to, record it once per
department, and announce it so the tickets service opens or continues a ticket.

Rule for a mail sent to two department addresses: one ticket per department. Each department's
copy is recorded under the mail's Message-ID and the department, so the same mail delivered again
(by SES, or through a second address of the same department) is applied once per department and
never lost for one of them. Mail to no known channel is announced without a department: admins
(and the triage department, if one is set) see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import getaddresses
from typing import Any, Protocol

from services.channels.logic.channel import ChannelRepository, channels_for
from services.channels.logic.threading import (
    MailFacts,
    ThreadRepository,
    find_thread,
    message_ids,
)
from shared.clock import Clock, isoformat
from shared.events.catalogue import EmailReceived, MailVerdicts, Person
from shared.events.envelope import OutgoingEvent

INBOUND_PREFIX = "inbound/"  # where the SES receipt rule's S3 action stores raw MIME


class InboundRepository(Protocol):
    def record(self, received: EmailReceived, events: Sequence[OutgoingEvent]) -> bool:
        """Store the mail for its department, with its events; False if it was recorded before
        (same SES message, or same Message-ID for the same department)."""
        ...


def _sender(headers: dict[str, Any], envelope_from: str) -> Person:
    for name, address in getaddresses(headers.get("from") or []):
        if "@" in address:
            return Person(email=address.lower(), name=name or None)
    return Person(email=envelope_from.lower())


def _addresses(headers: dict[str, Any], field: str) -> list[str]:
    return [address.lower() for _, address in getaddresses(headers.get(field) or []) if address]


def _header(mail: dict[str, Any], name: str) -> str | None:
    """A header from SES's list of the mail's headers (present unless SES truncated them)."""
    for header in mail.get("headers") or []:
        if header.get("name", "").lower() == name.lower():
            return str(header.get("value", ""))
    return None


def receive_mail(
    ses_record: dict[str, Any],
    repository: InboundRepository,
    channels: ChannelRepository,
    threads: ThreadRepository,
    clock: Clock,
    reply_secret: str | None,
) -> int:
    """Handle one record of an SES receipt event; returns how many departments it was new for."""
    mail, receipt = ses_record["mail"], ses_record["receipt"]
    headers = mail.get("commonHeaders") or {}
    recipients = [address.lower() for address in receipt.get("recipients", [])]
    to, cc = _addresses(headers, "to"), _addresses(headers, "cc")
    # SES's recipients are the envelope's (they include Bcc and forwarding); headers add the rest.
    matched = channels_for(recipients + to + cc, channels)
    base = EmailReceived(
        ses_message_id=mail["messageId"],
        # Message-IDs travel without their angle brackets, as the threading tables key them.
        message_id=next(iter(message_ids(headers.get("messageId"))), None),
        raw_key=INBOUND_PREFIX + mail["messageId"],
        sender=_sender(headers, mail.get("source", "")),
        recipients=recipients,
        cc=cc,
        subject=headers.get("subject") or "",
        received_at=isoformat(datetime.fromisoformat(mail["timestamp"])),
        verdicts=MailVerdicts(
            **{
                name: (receipt.get(f"{name}Verdict") or {}).get("status")
                for name in ("spam", "virus", "spf", "dkim", "dmarc")
            }
        ),
    )
    verdicts = base.verdicts
    decision = find_thread(
        MailFacts(
            sender=base.sender.email,
            subject=base.subject,
            recipients=recipients + to + cc,
            in_reply_to=message_ids(_header(mail, "In-Reply-To"))[:1],
            references=message_ids(_header(mail, "References")),
            authentication_failed="FAIL" in {verdicts.dkim, verdicts.dmarc},
        ),
        threads,
        reply_secret,
    )
    if decision.ticket_id is not None:
        # A reply belongs to its ticket, whichever of our addresses it went to.
        thread = threads.thread(decision.ticket_id)
        department = thread.department_id if thread else None
        copies = [
            base.model_copy(update={"ticket_id": decision.ticket_id, "department_id": department})
        ]
    else:
        base = base.model_copy(update={"possible_follow_up_of": decision.suspected_ticket})
        copies = [
            base.model_copy(update={"department_id": c.department_id, "channel_id": c.id})
            for c in {c.department_id: c for c in reversed(matched)}.values()  # first wins
        ] or [base]
    return sum(repository.record(copy, [OutgoingEvent.of(copy, clock.now())]) for copy in copies)
