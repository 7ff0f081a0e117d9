"""Tickets' automatic steps: tickets read, DynamoDB round trips and time per run with 1k and 10k
open tickets of which a fixed 10 are due (resolved long enough ago to close). What a run reads must
grow with the steps due, not with the open tickets.

Half of the other tickets are open (no pending step: not in the index at all), half resolved a day
ago (in the index, due in three days): the run must read neither. As in bench_sla_sweep.py, the
tickets are put straight into the emulator's table, and moto's Query walks the whole table (so its
time grows with the table though the items read do not); the whole run, with its ten conditional
transactions, runs at 1k.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from bench.harness import DynamoCalls, Row, emulated_system
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
from shared.settings import get_settings
from tests.fakes.tickets import FakeAgentDirectory, FakeFileLinks

SIZES = (1_000, 10_000)
DUE = 10
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TIMINGS = AutomationTimings(auto_close_after=timedelta(days=4))


def _template(status: Status, changed: datetime) -> dict[str, Any]:
    """The stored attributes of a ticket last changed at `changed`, as the service writes them;
    copies differ only in the ticket id."""
    ticket = Ticket(
        id="TEMPLATE",
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


def _fill(table: Any, template: dict[str, Any], prefix: str, count: int) -> None:
    for number in range(count):
        ticket_id = f"{prefix}-{number:06d}"
        item = {
            name: {kind: value.replace("TEMPLATE", ticket_id) if isinstance(value, str) else value}
            for name, attribute in template.items()
            for kind, value in attribute.items()
        }
        if "automation_bucket" in item:  # spread over the buckets as the service does
            item["automation_bucket"] = {"S": str(automation_bucket(ticket_id))}
        table.put_item(item)


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


def run() -> list[Row]:
    rows: list[Row] = []
    for size in SIZES:
        with emulated_system():
            deps = _deps()
            backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][get_settings().region]
            table = backend.get_table(get_settings().table_name("tickets"))
            quiet = (size - DUE) // 2
            _fill(table, _template("open", NOW - timedelta(days=10)), "open", quiet)
            _fill(table, _template("resolved", NOW - timedelta(days=1)), "fresh", quiet)
            _fill(table, _template("resolved", NOW - timedelta(days=5)), "due", DUE)
            label = f"ticket automations, {size:,} open tickets, {DUE} due"
            with DynamoCalls() as calls:
                started = time.perf_counter()
                read = _read_side(deps)
                elapsed_ms = (time.perf_counter() - started) * 1000
            rows += [
                Row(f"{label}: tickets read", str(read), f"= {DUE}"),
                Row(
                    f"{label}: reads' round trips and time (moto)",
                    f"{len(calls.operations)} {'/'.join(sorted(set(calls.operations)))}, "
                    f"{elapsed_ms:.0f} ms",
                    f"{AUTOMATION_BUCKETS} Query, no Scan",
                ),
            ]
            if size == SIZES[0]:
                with DynamoCalls() as calls:
                    started = time.perf_counter()
                    report = run_automations(deps)
                    elapsed_ms = (time.perf_counter() - started) * 1000
                assert (report.read, report.closed) == (DUE, DUE), report
                operations = ", ".join(
                    f"{calls.operations.count(name)} {name}"
                    for name in sorted(set(calls.operations))
                )
                rows.append(
                    Row(
                        f"{label}: whole run, tickets closed (moto)",
                        f"{operations}; {elapsed_ms:.0f} ms",
                        f"{DUE} transactions",
                    )
                )
    return rows
