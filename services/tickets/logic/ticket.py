"""A ticket, its messages, its history and its departments as the domain sees them, with the rules
of how a ticket's status may move."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from shared.errors import Conflict
from shared.events.catalogue import OPENING_VERSION, Attachment, Person
from shared.events.catalogue import SYSTEM as SYSTEM  # the actor of automatic changes
from shared.model import Model

# What an erased requester's address becomes: a reserved domain, so nothing is ever mailed there.
ERASED_EMAIL = "erased@erased.invalid"

Status = Literal["open", "in_progress", "waiting_on_client", "resolved", "closed"]
Priority = Literal["low", "medium", "high", "urgent"]
Visibility = Literal["public", "internal"]
AuthorType = Literal["agent", "client", "system"]
SlaState = Literal["ok", "at_risk", "breached", "met"]
STATUSES: tuple[Status, ...] = ("open", "in_progress", "waiting_on_client", "resolved", "closed")
MAX_TAGS = 50  # on one ticket


class Author(Model):
    model_config = ConfigDict(frozen=True)

    type: AuthorType
    email: str | None = None
    name: str | None = None


DeliveryState = Literal["sent", "delivered", "bounced", "failed", "complained"]
# A later report never overwrites a worse one: a bounce after "delivered" stands.
DELIVERY_RANK: dict[str, int] = {
    "sent": 0,
    "delivered": 1,
    "bounced": 2,
    "failed": 2,
    "complained": 2,
}


class Delivery(Model):
    """What became of the mail of a public reply, for one recipient."""

    model_config = ConfigDict(frozen=True)

    state: DeliveryState
    detail: str | None = None
    at: datetime


class Message(Model):
    id: str
    ticket_id: str
    visibility: Visibility
    author: Author
    body: str
    html: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    attachments_omitted: int = 0  # of the mail it came in: beyond the limit, not stored
    mail_message_id: str | None = None
    delivery: dict[str, Delivery] = Field(default_factory=dict)  # by recipient address
    created_at: datetime


class Sla(Model):
    state: SlaState | None = None
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    # Of the SLA announcement the due times came from: a late, older one is ignored.
    sequence: int = 0

    def next_due(self, first_response_done: bool) -> datetime | None:
        """The due time that matters now: first response until it happened, then resolution."""
        if not first_response_done and self.first_response_due_at is not None:
            return self.first_response_due_at
        return self.resolution_due_at


class Satisfaction(Model):
    """The client's rating of a resolution of their ticket, by the links of the rating mail."""

    model_config = ConfigDict(frozen=True)

    rating: Literal["good", "bad"]
    comment: str | None = None
    rated_at: datetime
    resolved_at: str  # the resolution rated, as its rating link names it
    # Whom the rating counts for: the ticket's assignee and department when the client rated.
    agent: str | None = None
    department_id: str | None = None


class Ticket(Model):
    id: str
    number: str
    subject: str
    status: Status = "open"
    priority: Priority = "medium"
    department_id: str | None = None
    assignee: str | None = None
    requester: Person
    contact_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    channel_id: str | None = None
    sla: Sla = Field(default_factory=Sla)
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    # When the client was last reminded of a ticket waiting on them (see logic.automations).
    reminded_at: datetime | None = None
    merged_into: str | None = None
    follow_up_of: str | None = None
    # Mail named this ticket in its subject but could not prove it belongs there: agents decide.
    possible_follow_up_of: str | None = None
    satisfaction: Satisfaction | None = None
    created_at: datetime
    updated_at: datetime
    # What agents see and name in If-Match: it moves when people change the ticket. The system's
    # own updates (SLA state and due times, the contact link) do not move it: an agent's edit is
    # never refused because a due time moved.
    version: int = OPENING_VERSION
    # Moves on every write; what each write is conditional on. Kept by the repository.
    revision: int = 1


class Change(Model):
    model_config = ConfigDict(frozen=True)

    field: str
    old: Any = None
    new: Any = None


class HistoryEntry(Model):
    ticket_id: str
    field: str
    old: Any = None
    new: Any = None
    actor: str  # agent email, or "system"
    at: datetime
    reason: str | None = None  # why the system made an automatic change


Assignment = Literal["manual", "round_robin"]


class Department(Model):
    id: str
    name: str
    members: list[str] = Field(default_factory=list)
    archived: bool = False
    # round_robin: new tickets go to the next available member in turn (logic.assign_by_turns)
    assignment: Assignment = "manual"
    open_limit: int | None = None  # a member with this many open tickets is skipped


def format_number(prefix: str, width: int, value: int) -> str:
    """`TKT-0042`: the prefix, a dash and the counter value padded to `width` digits."""
    return f"{prefix}-{value:0{width}d}"


def check_status_change(ticket: Ticket, new: Status) -> None:
    """Agents may set any status by hand, except that a closed ticket is final."""
    if ticket.status == "closed" and new != "closed":
        raise Conflict(
            f"{ticket.number} is closed, and a closed ticket is final: open a new ticket instead."
        )


def status_after_client_message(status: Status) -> Status:
    """A client writing again re-opens a ticket that waited on them or was resolved."""
    return "open" if status in ("waiting_on_client", "resolved") else status


def status_after_agent_reply(status: Status, requested: Status | None) -> Status:
    """An agent's public reply hands the ticket to the client, unless the reply says otherwise."""
    if requested is not None:
        return requested
    return "waiting_on_client" if status in ("open", "in_progress") else status


def apply_status(ticket: Ticket, new: Status, at: datetime) -> Change | None:
    """Set the status and the times it implies; the change made, if any."""
    if new == ticket.status:
        return None
    change = Change(field="status", old=ticket.status, new=new)
    ticket.status = new
    if new == "resolved":
        ticket.resolved_at = at
    elif new == "closed":
        ticket.closed_at = at
    return change
