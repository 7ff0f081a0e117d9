"""The one clock every service reads.

Domain logic receives a `Clock` instead of calling `datetime.now()`, so tests can pin time and the
local stack can move it forward (`POST /local/clock`) to watch SLA timers fire without waiting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock UTC time, optionally shifted forward (local mode only)."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        """How far the clock was moved ahead of the wall clock."""
        return self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta():
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += delta
        return self.now()


class FixedClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now


@lru_cache(maxsize=1)
def get_clock() -> SystemClock:
    return SystemClock()


def isoformat(moment: datetime) -> str:
    """UTC ISO 8601 with a `Z`, the form used on the wire and in events."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
