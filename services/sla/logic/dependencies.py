"""What every SLA use case is given: the timers and policies in storage, the departments the
tickets service announced, the clock and the deployment's triage department (who may see tickets
without one)."""

from __future__ import annotations

from dataclasses import dataclass

from services.sla.logic.repository import PolicyRepository, TimerRepository
from shared.clock import Clock
from shared.departments import DepartmentStore


@dataclass(frozen=True)
class Dependencies:
    timers: TimerRepository
    policies: PolicyRepository
    departments: DepartmentStore
    clock: Clock
    triage_department: str | None = None
