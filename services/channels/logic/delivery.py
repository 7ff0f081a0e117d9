"""What became of the mail we send for a ticket: attempts, refusals, and SES's reports.

An agent's reply is sent at least once and at most MAX_SEND_ATTEMPTS times. Throttling and
outages are retried with backoff: botocore backs off within a call, then the event queue hands
the event back after its visibility timeout. A refusal (SES rejects the message or the address)
is final at once, and so is a mail that cannot be written (a header or a file the MIME writer
refuses): writing it is part of the attempt. Either way the outcome reaches the ticket as an event:
no failure is silent.

SES then reports what the receiving servers did (delivery, bounce, complaint) through its
configuration set's SNS topic; each report is tied back to the ticket's message by the SES
message id we kept when sending.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from shared.clock import isoformat
from shared.events.catalogue import (
    EmailBounced,
    EmailComplained,
    EmailDelivered,
    EmailDeliveryEvent,
    RecipientOutcome,
)
from shared.events.envelope import OutgoingEvent

logger = logging.getLogger(__name__)

# Below the event queue's max receives: the last attempt is recorded before the DLQ takes it.
MAX_SEND_ATTEMPTS = 4

OutboundState = Literal["sending", "sent", "failed"]


class SendFailed(Exception):
    """The mail did not go out. `permanent`: sending it again cannot help."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    @property
    def kind(self) -> str:
        """How EmailBounced names it: `rejected` (refused for good) or `failed` (we gave up)."""
        return "rejected" if self.permanent else "failed"


class MailNotWritten(SendFailed):
    """The mail could not be written as MIME. The same input fails the same way every time, so it
    is final at once; nobody refused it, so it is `failed` rather than `rejected`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)

    @property
    def kind(self) -> str:
        return "failed"


@dataclass(frozen=True)
class Outbound:
    """The mail for one message of a ticket (or for its acknowledgement, which is no message),
    as it is being sent and after."""

    ticket_id: str
    ticket_message_id: str | None  # None: the acknowledgement
    ticket_message_at: str | None
    message_id: str  # the Message-ID we give it: the same on every attempt
    recipients: list[str]
    attempts: int = 0
    state: OutboundState = "sending"
    ses_message_id: str | None = None

    @property
    def key(self) -> str:
        """What the mail is kept under: its message, or the ticket it acknowledges."""
        return self.ticket_message_id or f"ack-{self.ticket_id}"


class OutboundRepository(Protocol):
    def begin_attempt(self, outbound: Outbound) -> Outbound:
        """Count one more attempt (creating the record on the first); the record as stored."""
        ...

    def finish(
        self, outbound: Outbound, events: list[OutgoingEvent], ses_message_id: str | None = None
    ) -> None:
        """Store the outcome (`sent` with SES's id, or `failed`) with its events, in one write."""
        ...

    def record_sent(self, outbound: Outbound, ses_message_id: str) -> None:
        """Keep a mail sent in one attempt (an acknowledgement), so SES's reports find it."""
        ...

    def of_ses_message(self, ses_message_id: str) -> Outbound | None: ...

    def announce(self, events: list[OutgoingEvent]) -> None: ...


def failure(outbound: Outbound, error: SendFailed, at: datetime) -> EmailBounced:
    """The event that puts a mail we could not send on its ticket."""
    return EmailBounced(
        **_about(outbound),
        recipients=[RecipientOutcome(email=r, detail=error.reason) for r in outbound.recipients],
        at=isoformat(at),
        kind=error.kind,
        permanent=error.permanent,
        reason=error.reason,
    )


def gave_up(outbound: Outbound, error: SendFailed) -> bool:
    return error.permanent or outbound.attempts >= MAX_SEND_ATTEMPTS


# --- SES's reports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    """One SES notification about a mail we sent, in the terms the ticket needs."""

    kind: Literal["delivery", "bounce", "complaint"]
    ses_message_id: str
    recipients: list[RecipientOutcome]
    at: str
    permanent: bool = False
    reason: str | None = None
    feedback_type: str | None = None


def parse_notification(body: str) -> DeliveryReport | None:
    """Read an SES notification as it arrives on the queue: inside an SNS envelope or raw, from a
    configuration set (`eventType`) or an identity's topic (`notificationType`). None for kinds
    the ticket has no use for (Send, Open, Click...)."""
    document = json.loads(body)
    if isinstance(document, dict) and document.get("Type") == "Notification":
        document = json.loads(document["Message"])
    kind = str(document.get("eventType") or document.get("notificationType") or "").lower()
    ses_message_id = document["mail"]["messageId"]
    if kind == "delivery":
        delivery = document["delivery"]
        return DeliveryReport(
            "delivery",
            ses_message_id,
            [
                RecipientOutcome(email=r, detail=delivery.get("smtpResponse"))
                for r in delivery.get("recipients", [])
            ],
            _time(delivery, document),
        )
    if kind == "bounce":
        bounce = document["bounce"]
        return DeliveryReport(
            "bounce",
            ses_message_id,
            [
                RecipientOutcome(email=r["emailAddress"], detail=r.get("diagnosticCode"))
                for r in bounce.get("bouncedRecipients", [])
            ],
            _time(bounce, document),
            permanent=bounce.get("bounceType") == "Permanent",
            reason=" / ".join(
                filter(None, [bounce.get("bounceType"), bounce.get("bounceSubType")])
            ),
        )
    if kind == "complaint":
        complaint = document["complaint"]
        return DeliveryReport(
            "complaint",
            ses_message_id,
            [
                RecipientOutcome(email=r["emailAddress"])
                for r in complaint.get("complainedRecipients", [])
            ],
            _time(complaint, document),
            feedback_type=complaint.get("complaintFeedbackType"),
        )
    return None


def report_event(outbound: Outbound, report: DeliveryReport) -> EmailDeliveryEvent:
    common: dict[str, Any] = {
        **_about(outbound),
        "recipients": report.recipients,
        "at": report.at,
    }
    if report.kind == "delivery":
        return EmailDelivered(**common)
    if report.kind == "bounce":
        return EmailBounced(
            **common, kind="bounce", permanent=report.permanent, reason=report.reason
        )
    return EmailComplained(**common, feedback_type=report.feedback_type)


def _about(outbound: Outbound) -> dict[str, str | None]:
    return {
        "ticket_id": outbound.ticket_id,
        "ticket_message_id": outbound.ticket_message_id,
        "ticket_message_at": outbound.ticket_message_at,
        "message_id": outbound.message_id,
    }


def _time(detail: dict[str, Any], document: dict[str, Any]) -> str:
    moment = detail.get("timestamp") or document["mail"].get("timestamp")
    return isoformat(datetime.fromisoformat(str(moment).replace("Z", "+00:00")))


def record_report(body: str, outbound_mail: OutboundRepository, now: datetime) -> bool:
    """Announce SES's report about a mail we sent for a ticket; False if it is about no such mail
    (one sent before its record was kept), or a kind of report nobody has a use for."""
    report = parse_notification(body)
    if report is None:
        return False
    outbound = outbound_mail.of_ses_message(report.ses_message_id)
    if outbound is None:
        logger.info("report about mail of no ticket", extra={"ses": report.ses_message_id})
        return False
    outbound_mail.announce([OutgoingEvent.of(report_event(outbound, report), now)])
    return True
