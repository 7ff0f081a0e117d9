"""Receiving one mail that SES accepted: record it once and announce it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import getaddresses
from typing import Any, Protocol

from shared.clock import Clock, isoformat
from shared.events.catalogue import EmailReceived, MailVerdicts, Person
from shared.events.envelope import OutgoingEvent

INBOUND_PREFIX = "inbound/"  # where the SES receipt rule's S3 action stores raw MIME


class InboundRepository(Protocol):
    def record(self, received: EmailReceived, events: Sequence[OutgoingEvent]) -> bool:
        """Store the mail and its events; False if this SES message was recorded before."""
        ...


def _sender(headers: dict[str, Any], envelope_from: str) -> Person:
    for name, address in getaddresses(headers.get("from") or []):
        if "@" in address:
            return Person(email=address.lower(), name=name or None)
    return Person(email=envelope_from.lower())


def receive_mail(ses_record: dict[str, Any], repository: InboundRepository, clock: Clock) -> bool:
    """Handle one record of an SES receipt event; True if it was new."""
    mail, receipt = ses_record["mail"], ses_record["receipt"]
    headers = mail.get("commonHeaders") or {}
    received = EmailReceived(
        ses_message_id=mail["messageId"],
        message_id=headers.get("messageId"),
        raw_key=INBOUND_PREFIX + mail["messageId"],
        sender=_sender(headers, mail.get("source", "")),
        recipients=[address.lower() for address in receipt.get("recipients", [])],
        subject=headers.get("subject") or "",
        received_at=isoformat(datetime.fromisoformat(mail["timestamp"])),
        verdicts=MailVerdicts(
            **{
                name: (receipt.get(f"{name}Verdict") or {}).get("status")
                for name in ("spam", "virus", "spf", "dkim", "dmarc")
            }
        ),
    )
    return repository.record(received, [OutgoingEvent.of(received, clock.now())])
