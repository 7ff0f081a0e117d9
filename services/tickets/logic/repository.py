"""What the tickets logic needs from storage (`data.dynamodb` implements it), and the unit of
work a use case hands over: new state, messages, history and events, written all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from services.tickets.logic.ticket import (
    Delivery,
    Department,
    HistoryEntry,
    Message,
    Status,
    Ticket,
)
from shared.events.envelope import OutgoingEvent
from shared.storage import Page


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


class TicketRepository(Protocol):
    def next_number(self) -> int:
        """The next ticket number, from an atomic counter."""
        ...

    def commit(self, *commits: Commit) -> None:
        """Store the changes (of different tickets) in one transaction; raises StaleVersion or
        GuardFailed and then stores nothing."""
        ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def get_by_number(self, number: str) -> Ticket | None: ...

    def get_with_messages(
        self, ticket_id: str, limit: int, cursor: str | None
    ) -> tuple[Ticket | None, Page[Message]]:
        """The ticket and a page of its conversation, oldest first, in one read."""
        ...

    def history(self, ticket_id: str, limit: int, cursor: str | None) -> Page[HistoryEntry]: ...

    def list_page(self, plan: ListPlan, limit: int, cursor: str | None) -> Page[Ticket]: ...

    def tickets_of_contact(self, contact_id: str) -> list[Ticket]: ...

    def departments_of(self, email: str) -> frozenset[str]: ...

    def is_member(self, email: str, department_id: str) -> bool: ...

    def department(self, department_id: str) -> Department | None: ...

    def department_and_membership(
        self, department_id: str, email: str | None
    ) -> tuple[Department | None, bool]:
        """The department, and whether `email` belongs to it, in one read."""
        ...

    def departments(self) -> list[Department]: ...

    def save_department(
        self,
        department: Department,
        events: list[OutgoingEvent],
        *,
        new: bool = False,
        added: str | None = None,
        removed: str | None = None,
    ) -> None:
        """Create or update a department (and one membership), with its events."""
        ...

    def counts(self, department_id: str | None) -> dict[Status, int]: ...

    def record_delivery(
        self, ticket_id: str, message_id: str, posted_at: datetime, outcomes: dict[str, Delivery]
    ) -> list[str]:
        """Note what became of a reply's mail, per recipient, never over a worse outcome."""
        ...

    def copy_messages(self, messages: list[Message]) -> None:
        """Store copies of messages (in batches; used by merges)."""
        ...

    def replace_address(self, ticket_id: str, address: str, replacement: str) -> int:
        """Put `replacement` where the ticket's messages name `address` (as their author, without
        a name, or as a recipient of their mail); returns how many messages changed."""
        ...
