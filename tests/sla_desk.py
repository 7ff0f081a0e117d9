"""Ticket events as the tickets service sends them to the SLA service's use cases, at chosen
times, and sweeps on a clock the test moves; on whichever storage the test gives it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.sla.logic.dependencies import Dependencies
from services.sla.logic.edit_policy import change_policy
from services.sla.logic.keep_timers import (
    facts_of_created,
    facts_of_merge,
    facts_of_message,
    facts_of_status,
    facts_of_update,
    record_facts,
)
from services.sla.logic.policy import DEFAULT_RULES, PolicyRules
from services.sla.logic.sweep import SweepReport, sweep
from services.sla.logic.timer import Fact, Timer
from shared.clock import FixedClock, isoformat
from shared.events.catalogue import (
    FieldChange,
    MessagePosted,
    Person,
    TicketCreated,
    TicketMerged,
    TicketStatusChanged,
    TicketUpdated,
)
from shared.identity import Caller

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
ADMIN = Caller("admin@example.com", "admin")

# The events the SLA service wrote to its outbox, oldest first: (event name, data).
Outbox = Callable[[], list[tuple[str, dict[str, Any]]]]


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


class Desk:
    """Ticket events as the tickets service sends them, at chosen times, and sweeps on a clock
    the test moves."""

    def __init__(self, clock: FixedClock, deps: Dependencies, outbox: Outbox) -> None:
        self.clock = clock
        self.deps = deps
        self._outbox = outbox

    def created(
        self, ticket: str, at: datetime = T0, priority: str = "urgent", department: str = "support"
    ) -> list[Fact]:
        return facts_of_created(
            TicketCreated(
                ticket_id=ticket,
                number="TKT-0001",
                subject="Help",
                status="open",
                priority=priority,
                department_id=department,
                requester=Person(email="client@example.org"),
                created_at=isoformat(at),
            )
        )

    def status(self, ticket: str, new: str, at: datetime) -> list[Fact]:
        return facts_of_status(
            TicketStatusChanged(
                ticket_id=ticket,
                number="TKT-0001",
                old="open",
                new=new,
                priority="urgent",
                department_id="support",
                reason="agent",
                changed_at=isoformat(at),
            )
        )

    def priority(self, ticket: str, old: str, new: str, at: datetime) -> list[Fact]:
        return facts_of_update(
            TicketUpdated(
                ticket_id=ticket,
                number="TKT-0001",
                changes=[FieldChange(field="priority", old=old, new=new)],
                actor="agent@example.com",
                version=2,
                updated_at=isoformat(at),
            )
        )

    def reply(self, ticket: str, at: datetime, first: bool = True) -> list[Fact]:
        return facts_of_message(
            MessagePosted(
                ticket_id=ticket,
                number="TKT-0001",
                subject="Help",
                message_id="m1",
                visibility="public",
                author={"type": "agent", "email": "agent@example.com", "name": None},
                department_id="support",
                requester=Person(email="client@example.org"),
                first_response=first,
                created_at=isoformat(at),
            )
        )

    def merged(self, ticket: str, into: str, at: datetime) -> list[Fact]:
        return facts_of_merge(
            TicketMerged(
                source_ticket_id=ticket,
                source_number="TKT-0001",
                target_ticket_id="target",
                target_number=into,
                actor="agent@example.com",
                merged_at=isoformat(at),
            )
        )

    def apply(self, ticket: str, *facts: list[Fact]) -> Timer | None:
        timer = None
        for batch in facts:
            timer = record_facts(ticket, batch, self.deps)
        return timer

    def sweep(self, at: datetime) -> SweepReport:
        self.clock.advance(at - self.clock.now())
        return sweep(self.deps)

    def timer(self, ticket: str) -> Timer:
        found = self.deps.timers.get(ticket)
        assert found is not None
        return found

    def announced(self, kind: str | None = None, ticket: str | None = None) -> list[dict[str, Any]]:
        """The data of every SLA event in the outbox."""
        return [
            {"event": event, **data}
            for event, data in self._outbox()
            if (kind is None or event == kind) and ticket in (None, data["ticket_id"])
        ]

    def policy(self, at: datetime, **changes: Any) -> None:
        self.clock.advance(at - self.clock.now())
        rules = PolicyRules.model_validate({**DEFAULT_RULES.model_dump(), **changes})
        change_policy(rules, ADMIN, self.deps)
