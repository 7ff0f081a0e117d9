"""The unit of work a tickets use case hands to storage: new state, messages, history and events,
written all or nothing, with the guards it is written under; and the plans lists are read by."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from services.tickets.logic.pending_steps import AutomationTimings
from services.tickets.logic.ticket import (
    STATUSES,
    HistoryEntry,
    Message,
    Status,
    Ticket,
)
from shared.events.envelope import OutgoingEvent


@dataclass(frozen=True)
class MemberGuard:
    """The write happens only if `email` belongs to `department_id` at that moment."""

    email: str
    department_id: str
    # caller: may change the ticket; destination: may move it there; assignee: may be assigned
    role: Literal["caller", "destination", "assignee"] = "caller"


@dataclass(frozen=True)
class OpenDepartmentGuard:
    """The write happens only if the department exists and is not archived."""

    department_id: str


Guard = MemberGuard | OpenDepartmentGuard


class GuardFailed(Exception):
    def __init__(self, guard: Guard) -> None:
        super().__init__(guard)
        self.guard = guard


class StaleVersion(Exception):
    """The ticket changed since it was read: its version is no longer the expected one."""


@dataclass(frozen=True)
class Turn:
    """A new ticket given to `assignee` as the department's turn number `taken`: stored only if
    no other ticket took that turn meanwhile and the assignee is still below `open_limit`."""

    department_id: str
    assignee: str
    taken: int  # the rotation's count of turns when it was read
    open_limit: int | None = None


class TurnTaken(Exception):
    """Another ticket took the turn first, or the assignee reached the limit meanwhile."""


@dataclass(frozen=True)
class AgentLoad:
    """What an agent said of themself (available for turns) and how many of the tickets they
    are assigned are still open (neither resolved nor closed), kept with every commit."""

    available: bool = False
    open_tickets: int = 0


# The statuses a ticket counts in its assignee's open tickets with: until it is resolved.
OPEN_STATUSES: tuple[Status, ...] = tuple(s for s in STATUSES if s not in ("resolved", "closed"))


def open_assignee(ticket: Ticket | None) -> str | None:
    """Whose count of open tickets the ticket is in: its assignee's, until it is resolved."""
    if ticket is None or ticket.status not in OPEN_STATUSES:
        return None
    return ticket.assignee


@dataclass(frozen=True)
class Rotation:
    """Where a department's turns stand: how many were taken and who had the last one."""

    turns: int = 0
    last: str | None = None


@dataclass(frozen=True)
class RatingTally:
    """A change to the count of clients' ratings of one day, department and agent."""

    day: date
    department_id: str | None
    agent: str | None
    good: int = 0
    bad: int = 0


@dataclass
class Commit:
    """One change of one ticket, stored in one transaction with its events."""

    ticket: Ticket
    previous: Ticket | None  # None when the ticket is new
    messages: list[Message] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    events: list[OutgoingEvent] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    tallies: list[RatingTally] = field(default_factory=list)  # kept with a rating
    turn: Turn | None = None  # a new ticket assigned by turns


@dataclass(frozen=True)
class Partition:
    """One ordered run of tickets to read: an index and the key within it."""

    index: Literal[
        "by_queue_updated", "by_queue_created", "by_queue_sla", "by_assignee", "by_contact"
    ]
    key: str


@dataclass(frozen=True)
class TicketFilter:
    """Conditions applied while reading partitions (on the server, as a filter expression)."""

    priority: str | None = None
    tag: str | None = None
    sla_state: str | None = None
    assignee: str | None = None  # an email, or "" for unassigned
    statuses: tuple[Status, ...] = ()
    departments: tuple[str, ...] | None = None  # None: any; "" stands for no department


@dataclass(frozen=True)
class ListPlan:
    partitions: tuple[Partition, ...]
    filter: TicketFilter
    newest_first: bool  # false for SLA due: soonest first


@dataclass(frozen=True)
class FiledStep:
    """A ticket, and when the automations' index has its pending step due (None: not there)."""

    ticket: Ticket
    due_at: datetime | None


@dataclass(frozen=True)
class AutomationFiling:
    """The desk's one record of the timings its tickets are filed under in the automations' index,
    and how far a refile under new timings has got."""

    filed: AutomationTimings | None = None  # every ticket is filed under these; None: not known
    refiling: AutomationTimings | None = None  # a refile under these is under way
    queue: str | None = None  # the queue the refile reads next
    cursor: str | None = None  # where in that queue; None: from its start
    revision: int = 0  # one more with each record stored; 0: none stored yet
