"""The SLA sweep on DynamoDB: it reads only the due timers, by Query. The use cases themselves
are tested on the in-memory storage (tests/unit/test_sla_logic.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import botocore.client
import pytest

from local_stack.system import LocalSystem
from services.sla.data.dynamodb import (
    DynamoPolicyRepository,
    DynamoTimerRepository,
    department_store,
)
from services.sla.data.tables import SlaOutbox
from services.sla.logic.dependencies import ALARM_BUCKETS, Dependencies
from shared.clock import FixedClock
from tests.sla_desk import T0, Desk, minutes

pytestmark = pytest.mark.service


def outbox() -> list[tuple[str, dict[str, Any]]]:
    """Every SLA event in the outbox (a test may scan; the service never does)."""
    return [(item.detail_type, json.loads(item.detail)["data"]) for item in SlaOutbox.scan()]


class EmulatedDesk(Desk):
    """The desk on the DynamoDB repositories, its events read from the outbox table."""

    def __init__(self, start: datetime = T0) -> None:
        clock = FixedClock(start)
        deps = Dependencies(
            DynamoTimerRepository(clock), DynamoPolicyRepository(), department_store(), clock
        )
        super().__init__(clock, deps, outbox)


@pytest.fixture
def desk(system: LocalSystem) -> Desk:
    return EmulatedDesk()


def test_a_sweep_reads_only_the_due_timers_and_never_scans(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(40):
        desk.apply(f"quiet-{number}", desk.created(f"quiet-{number}", at=minutes(30)))
    for number in range(3):
        desk.apply(f"due-{number}", desk.created(f"due-{number}"))
    operations: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(client: Any, operation: str, params: Any) -> Any:
        operations.append(operation)
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    report = desk.sweep(minutes(50))
    assert (report.read, report.warned) == (3, 3)
    assert "Scan" not in operations
    assert operations.count("Query") <= 1 + ALARM_BUCKETS  # the policy versions, then each bucket
