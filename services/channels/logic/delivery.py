"""What became of the mail we send for a ticket: its attempts and refusals.

An agent's reply is sent at least once and at most MAX_SEND_ATTEMPTS times. Throttling and
outages are retried with backoff: botocore backs off within a call, then the event queue hands
the event back after its visibility timeout. A refusal (SES rejects the message or the address)
is final at once, and so is a mail that cannot be written (a header or a file the MIME writer
refuses): writing it is part of the attempt. Either way the outcome reaches the ticket as an event:
no failure is silent.

SES then reports what the receiving servers did: see delivery_reports.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.clock import isoformat
from shared.events.catalogue import EmailBounced, RecipientOutcome

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
    """The mail for one message of a ticket (or an automatic mail about it, which is no message:
    its acknowledgement, a reminder), as it is being sent and after."""

    ticket_id: str
    ticket_message_id: str | None  # None: an automatic mail
    ticket_message_at: str | None
    message_id: str  # the Message-ID we give it: the same on every attempt
    recipients: list[str]
    attempts: int = 0
    state: OutboundState = "sending"
    ses_message_id: str | None = None
    # Which automatic mail of the ticket it is: `ack`, or `reminder-<time>` (a ticket may have
    # several reminders, one per wait); stored only as part of the key.
    automatic: str = "ack"

    @property
    def key(self) -> str:
        """What the mail is kept under: its message, or the ticket and which automatic mail."""
        return self.ticket_message_id or f"{self.automatic}-{self.ticket_id}"

    def about(self) -> dict[str, str | None]:
        """What an event about this mail names."""
        return {
            "ticket_id": self.ticket_id,
            "ticket_message_id": self.ticket_message_id,
            "ticket_message_at": self.ticket_message_at,
            "message_id": self.message_id,
        }


def failure(outbound: Outbound, error: SendFailed, at: datetime) -> EmailBounced:
    """The event that puts a mail we could not send on its ticket."""
    return EmailBounced(
        **outbound.about(),
        recipients=[RecipientOutcome(email=r, detail=error.reason) for r in outbound.recipients],
        at=isoformat(at),
        kind=error.kind,
        permanent=error.permanent,
        reason=error.reason,
    )


def gave_up(outbound: Outbound, error: SendFailed) -> bool:
    return error.permanent or outbound.attempts >= MAX_SEND_ATTEMPTS
