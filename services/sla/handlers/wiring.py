"""The SLA service's use cases wired to DynamoDB, the one clock and the deployment's settings."""

from __future__ import annotations

from services.sla.data.dynamodb import (
    DynamoPolicyRepository,
    DynamoTimerRepository,
    department_store,
)
from services.sla.logic.dependencies import Dependencies
from shared.clock import get_clock
from shared.settings import get_settings


def dependencies() -> Dependencies:
    clock = get_clock()
    return Dependencies(
        timers=DynamoTimerRepository(clock),
        policies=DynamoPolicyRepository(),
        departments=department_store(),
        clock=clock,
        triage_department=get_settings().triage_department,
    )
