"""SLA sweep: timers read, DynamoDB round trips and time with 1k, 10k and 100k open timers of which
a fixed 10 are due. What a sweep reads must not grow with the open timers. How the timers get into
the emulator, and what its times mean (the rows say which figure is which): bench/due_sweeps.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench.due_sweeps import TEMPLATE_ID, EmulatedTable, read_rows, whole_run_row
from bench.harness import Row, emulated_system
from services.sla.data.dynamodb import (
    DynamoPolicyRepository,
    DynamoTimerRepository,
    department_store,
    timer_item,
)
from services.sla.logic.dependencies import ALARM_BUCKETS, Dependencies, alarm_bucket
from services.sla.logic.keep_timers import facts_of_created
from services.sla.logic.policy import PolicyHistory
from services.sla.logic.sweep import sweep
from services.sla.logic.timer import Timer
from shared.clock import FixedClock, isoformat
from shared.events.catalogue import Person, TicketCreated

SIZES = (1_000, 10_000, 100_000)
DUE = 10
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _template(opened: datetime) -> dict[str, Any]:
    """The stored attributes of an urgent ticket's timer opened at `opened`, as the service
    writes them; copies differ only in the ticket id."""
    created = TicketCreated(
        ticket_id=TEMPLATE_ID,
        number="TKT-0001",
        subject="Bench",
        status="open",
        priority="urgent",
        department_id="bench",
        requester=Person(email="b@example.org"),
        created_at=isoformat(opened),
    )
    timer = Timer(ticket_id=TEMPLATE_ID).with_facts(facts_of_created(created))
    timer = timer.refresh(PolicyHistory([]))
    return timer_item(timer).serialize()  # type: ignore[no-any-return]


def _deps() -> Dependencies:
    clock = FixedClock(NOW)
    return Dependencies(
        DynamoTimerRepository(clock), DynamoPolicyRepository(), department_store(), clock
    )


def _read_side(deps: Dependencies) -> int:
    """What a sweep reads: the due timers of every bucket."""
    return sum(1 for bucket in range(ALARM_BUCKETS) for _ in deps.timers.due(bucket, NOW))


def _whole_sweep(deps: Dependencies) -> None:
    report = sweep(deps)
    assert (report.read, report.warned) == (DUE, DUE), report


def run() -> list[Row]:
    rows: list[Row] = []
    for size in SIZES:
        with emulated_system():
            deps = _deps()
            table = EmulatedTable("sla", "alarm_bucket", alarm_bucket)
            # Opened 10 minutes ago: warned at 45, nothing due. Opened 50 minutes ago: due.
            table.fill(_template(NOW - timedelta(minutes=10)), "quiet", size - DUE)
            table.fill(_template(NOW - timedelta(minutes=50)), "due", DUE)
            label = f"sla sweep, {size:,} open timers, {DUE} due"
            rows += read_rows(label, "timers", DUE, ALARM_BUCKETS, partial(_read_side, deps))
            if size == SIZES[0]:
                what = f"{label}: whole sweep, warnings written (moto)"
                rows.append(whole_run_row(what, DUE, partial(_whole_sweep, deps)))
    return rows
