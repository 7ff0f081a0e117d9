"""What every SLA use case is given: the timers and policies in storage, the departments the
tickets service announced, the clock and the deployment's triage department (who may see tickets
without one)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.sla.logic.policy import PolicyVersion
from services.sla.logic.timer import Timer
from shared.clock import Clock
from shared.departments import DepartmentStore
from shared.events.envelope import OutgoingEvent
from shared.model import Model

# The sweep's index is partitioned into this many buckets, so due timers are found by a few
# Queries (one per bucket) while writes spread over several index partitions.
ALARM_BUCKETS = 4


def alarm_bucket(ticket_id: str) -> int:
    """A stable bucket per ticket (crc32, not `hash`, which changes from process to process)."""
    return zlib.crc32(ticket_id.encode()) % ALARM_BUCKETS


class StaleTimer(Exception):
    """The timer changed since it was read (another event or another sweep): read it again."""


class StalePolicy(Exception):
    """Another policy version was saved since the one the change was based on."""


class TimerRepository(Protocol):
    def get(self, ticket_id: str) -> Timer | None:
        """The timer as last saved, at the version it was saved as (a copy: changing it changes
        nothing stored)."""
        ...

    def save(self, timer: Timer, events: list[OutgoingEvent]) -> None:
        """Write the timer and its events in one transaction, if it is still at the version it was
        read at (`timer.version`; 0 for a new one); raise StaleTimer otherwise. The stored version
        is one more; `timer` itself is left as it was."""
        ...

    def due(self, bucket: int, now: datetime) -> Iterator[Timer]:
        """Timers of one bucket (`alarm_bucket`) whose next alarm is at or before `now`, soonest
        first."""
        ...

    def with_alarms(
        self, bucket: int, cursor: str | None, limit: int
    ) -> tuple[list[Timer], str | None]:
        """A page of at most `limit` timers of one bucket that have any pending alarm, soonest
        alarm first, and the cursor of the next page (None: no more)."""
        ...

    def started_between(
        self, department_id: str | None, start: datetime, end: datetime
    ) -> Iterator[Timer]:
        """Timers of one department (None: without one) started in [start, end), oldest first."""
        ...


class Retargeting(Model):
    """How far the sweeps got in carrying policy `version` to the open timers."""

    version: int
    bucket: int = 0
    cursor: str | None = None


class PolicyRepository(Protocol):
    def versions(self) -> list[PolicyVersion]:
        """Every saved version, oldest first."""
        ...

    def add(self, version: PolicyVersion) -> None:
        """Store a new version and start carrying it to open timers; StalePolicy if that version
        number exists already."""
        ...

    def retargeting(self) -> Retargeting | None: ...

    def advance(self, current: Retargeting, following: Retargeting | None) -> None:
        """Record progress (None: done), unless a newer version started its own pass."""
        ...


@dataclass(frozen=True)
class Dependencies:
    timers: TimerRepository
    policies: PolicyRepository
    departments: DepartmentStore
    clock: Clock
    triage_department: str | None = None
