"""The unit of work a tickets use case hands to storage: new state, messages, history and events,
written all or nothing, with the guards it is written under; and the plans lists are read by."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from services.tickets.logic.ticket import (
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


@dataclass
class Commit:
    """One change of one ticket, stored in one transaction with its events."""

    ticket: Ticket
    previous: Ticket | None  # None when the ticket is new
    messages: list[Message] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    events: list[OutgoingEvent] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)


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
