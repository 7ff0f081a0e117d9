"""What the SLA logic needs from storage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from services.sla.logic.policy import PolicyVersion
from services.sla.logic.timer import Timer
from shared.events.envelope import OutgoingEvent

# The sweep's index is partitioned into this many buckets, so due timers are found by a few
# Queries (one per bucket) while writes spread over several index partitions.
ALARM_BUCKETS = 4


class StaleTimer(Exception):
    """The timer changed since it was read (another event or another sweep): read it again."""


class StalePolicy(Exception):
    """Another policy version was saved since the one the change was based on."""


class TimerRepository(Protocol):
    def get(self, ticket_id: str) -> Timer | None: ...

    def save(self, timer: Timer, events: list[OutgoingEvent]) -> None:
        """Write the timer and its events in one transaction, if it is still at the version it was
        read at (`timer.version`; 0 for a new one); raise StaleTimer otherwise."""
        ...

    def due(self, bucket: int, now: datetime) -> Iterator[Timer]:
        """Timers of one bucket whose next alarm is at or before `now`."""
        ...

    def with_alarms(
        self, bucket: int, cursor: str | None, limit: int
    ) -> tuple[list[Timer], str | None]:
        """A page of the timers of one bucket that have any pending alarm, and the next cursor."""
        ...

    def started_between(
        self, department_id: str | None, start: datetime, end: datetime
    ) -> Iterator[Timer]:
        """Timers of one department (None: without one) started in [start, end)."""
        ...


class Retargeting(BaseModel):
    """How far the sweeps got in carrying policy `version` to the open timers."""

    version: int
    bucket: int = 0
    cursor: str | None = None


class PolicyRepository(Protocol):
    def versions(self) -> list[PolicyVersion]: ...

    def add(self, version: PolicyVersion) -> None:
        """Store a new version and start carrying it to open timers; StalePolicy if that version
        number exists already."""
        ...

    def retargeting(self) -> Retargeting | None: ...

    def advance(self, current: Retargeting, following: Retargeting | None) -> None:
        """Record progress (None: done), unless a newer version started its own pass."""
        ...
