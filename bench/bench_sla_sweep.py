"""SLA sweep: timers read, DynamoDB round trips and time with 1k, 10k and 100k open timers of which
a fixed 10 are due. What a sweep reads must not grow with the open timers.

Two emulator costs are kept out of the way, and the rows say which figure is which:
- The timers are put straight into the emulator's table (moto's backend): batch writes of 100,000
  items through the API take many minutes in moto, and how they got there changes nothing here.
- moto answers a Query on an index by walking every item of the table, and copies the whole table
  for every transaction (to roll back). DynamoDB does neither: a Query reads the matching items
  only, and a transaction touches its own items. So the whole sweep, with its ten conditional
  transactions, runs at 1k; at every size the sweep's reads (its index Queries) are run and timed
  alone, and their time under moto grows with the table though the items read do not.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from bench.harness import DynamoCalls, Row, emulated_system
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
from shared.settings import get_settings

SIZES = (1_000, 10_000, 100_000)
DUE = 10
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _template(opened: datetime) -> dict[str, Any]:
    """The stored attributes of an urgent ticket's timer opened at `opened`, as the service
    writes them; copies differ only in the ticket id."""
    created = TicketCreated(
        ticket_id="TEMPLATE",
        number="TKT-0001",
        subject="Bench",
        status="open",
        priority="urgent",
        department_id="bench",
        requester=Person(email="b@example.org"),
        created_at=isoformat(opened),
    )
    timer = Timer(ticket_id="TEMPLATE").with_facts(facts_of_created(created))
    timer = timer.refresh(PolicyHistory([]))
    return timer_item(timer).serialize()  # type: ignore[no-any-return]


def _fill(table: Any, template: dict[str, Any], prefix: str, count: int) -> None:
    for number in range(count):
        ticket_id = f"{prefix}-{number:06d}"
        item = {
            name: {kind: value.replace("TEMPLATE", ticket_id) if isinstance(value, str) else value}
            for name, attribute in template.items()
            for kind, value in attribute.items()
        }
        # Spread over the buckets as the service does
        item["alarm_bucket"] = {"S": str(alarm_bucket(ticket_id))}
        table.put_item(item)


def _deps() -> Dependencies:
    clock = FixedClock(NOW)
    return Dependencies(
        DynamoTimerRepository(clock), DynamoPolicyRepository(), department_store(), clock
    )


def _read_side(deps: Dependencies) -> int:
    """What a sweep reads: the due timers of every bucket."""
    return sum(1 for bucket in range(ALARM_BUCKETS) for _ in deps.timers.due(bucket, NOW))


def run() -> list[Row]:
    rows: list[Row] = []
    for size in SIZES:
        with emulated_system():
            deps = _deps()
            backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][get_settings().region]
            table = backend.get_table(get_settings().table_name("sla"))
            # Opened 10 minutes ago: warned at 45, nothing due. Opened 50 minutes ago: due.
            _fill(table, _template(NOW - timedelta(minutes=10)), "quiet", size - DUE)
            _fill(table, _template(NOW - timedelta(minutes=50)), "due", DUE)
            label = f"sla sweep, {size:,} open timers, {DUE} due"
            with DynamoCalls() as calls:
                started = time.perf_counter()
                read = _read_side(deps)
                elapsed_ms = (time.perf_counter() - started) * 1000
            rows += [
                Row(f"{label}: timers read", str(read), f"= {DUE}"),
                Row(
                    f"{label}: reads' round trips and time (moto)",
                    f"{len(calls.operations)} {'/'.join(sorted(set(calls.operations)))}, "
                    f"{elapsed_ms:.0f} ms",
                    f"{ALARM_BUCKETS} Query, no Scan",
                ),
            ]
            if size == SIZES[0]:
                with DynamoCalls() as calls:
                    started = time.perf_counter()
                    report = sweep(deps)
                    elapsed_ms = (time.perf_counter() - started) * 1000
                assert (report.read, report.warned) == (DUE, DUE), report
                operations = ", ".join(
                    f"{calls.operations.count(name)} {name}"
                    for name in sorted(set(calls.operations))
                )
                rows.append(
                    Row(
                        f"{label}: whole sweep, warnings written (moto)",
                        f"{operations}; {elapsed_ms:.0f} ms",
                        f"{DUE} transactions",
                    )
                )
    return rows
