"""Tickets' automatic steps: tickets read, DynamoDB round trips and time per run with 1k and 10k
open tickets of which a fixed 10 are due (resolved long enough ago to close). What a run reads must
grow with the steps due, not with the open tickets.

Half of the other tickets are open (no pending step: not in the index at all), half resolved a day
ago (in the index, due in three days): the run must read neither. How the tickets get into the
emulator, and what its times mean, as for every sweep: bench/due_sweeps.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench.due_sweeps import TEMPLATE_ID, EmulatedTable, read_rows, whole_run_row
from bench.harness import Row, emulated_system
from services.tickets.data.dynamodb import DynamoTicketRepository, ticket_item
from services.tickets.logic.automations import run_automations
from services.tickets.logic.dependencies import Dependencies, DeskConfig
from services.tickets.logic.pending_steps import (
    AUTOMATION_BUCKETS,
    AutomationTimings,
    automation_bucket,
    pending_step,
)
from services.tickets.logic.ticket import Status, Ticket
from shared.clock import FixedClock
from shared.events.catalogue import Person
from tests.fakes.tickets import FakeAgentDirectory, FakeFileLinks

SIZES = (1_000, 10_000)
DUE = 10
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TIMINGS = AutomationTimings(auto_close_after=timedelta(days=4))


def _template(status: Status, changed: datetime) -> dict[str, Any]:
    """The stored attributes of a ticket last changed at `changed`, as the service writes them;
    copies differ only in the ticket id."""
    ticket = Ticket(
        id=TEMPLATE_ID,
        number="TKT-0001",
        subject="Bench",
        status=status,
        department_id="bench",
        requester=Person(email="b@example.org"),
        created_at=changed,
        updated_at=changed,
        resolved_at=changed if status == "resolved" else None,
    )
    return ticket_item(ticket, pending_step(ticket, TIMINGS)).serialize()  # type: ignore[no-any-return]


def _deps() -> Dependencies:
    clock = FixedClock(NOW)
    return Dependencies(
        DynamoTicketRepository(clock, TIMINGS),
        clock,
        DeskConfig(automations=TIMINGS),
        FakeAgentDirectory(),
        FakeFileLinks(),
    )


def _read_side(deps: Dependencies) -> int:
    """What a run reads: the due tickets of every bucket."""
    return sum(
        len(deps.repository.automations_due(bucket, NOW)) for bucket in range(AUTOMATION_BUCKETS)
    )


def _whole_run(deps: Dependencies) -> None:
    report = run_automations(deps)
    assert (report.read, report.closed) == (DUE, DUE), report


def run() -> list[Row]:
    rows: list[Row] = []
    for size in SIZES:
        with emulated_system():
            deps = _deps()
            table = EmulatedTable("tickets", "automation_bucket", automation_bucket)
            quiet = (size - DUE) // 2
            table.fill(_template("open", NOW - timedelta(days=10)), "open", quiet)
            table.fill(_template("resolved", NOW - timedelta(days=1)), "fresh", quiet)
            table.fill(_template("resolved", NOW - timedelta(days=5)), "due", DUE)
            label = f"ticket automations, {size:,} open tickets, {DUE} due"
            rows += read_rows(label, "tickets", DUE, AUTOMATION_BUCKETS, partial(_read_side, deps))
            if size == SIZES[0]:
                what = f"{label}: whole run, tickets closed (moto)"
                rows.append(whole_run_row(what, DUE, partial(_whole_run, deps)))
    return rows
