"""The SLA service's storage in memory, keeping the promises the DynamoDB repositories keep
(`tests/contracts/test_sla_repositories.py` holds both to them): timers are stored as their JSON
and a version, written only at the version they were read at; the alarm and report indexes list
only what DynamoDB's sparse indexes would, in their order; saved events land in `outbox`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from services.sla.logic.dependencies import (
    Retargeting,
    StalePolicy,
    StaleTimer,
    alarm_bucket,
)
from services.sla.logic.policy import PolicyVersion
from services.sla.logic.timer import Timer
from shared.events.envelope import OutgoingEvent


class FakeTimerRepository:
    def __init__(self) -> None:
        self._stored: dict[str, tuple[int, str]] = {}  # ticket id -> (version, JSON body)
        self.outbox: list[OutgoingEvent] = []

    def get(self, ticket_id: str) -> Timer | None:
        stored = self._stored.get(ticket_id)
        return None if stored is None else _timer(*stored)

    def save(self, timer: Timer, events: list[OutgoingEvent]) -> None:
        stored = self._stored.get(timer.ticket_id)
        if (stored[0] if stored else 0) != timer.version:
            raise StaleTimer(timer.ticket_id)
        self._stored[timer.ticket_id] = (
            timer.version + 1,
            timer.model_dump_json(exclude={"version"}),
        )
        self.outbox.extend(events)

    def due(self, bucket: int, now: datetime) -> Iterator[Timer]:
        for alarm, timer in self._alarms(bucket):
            if alarm > now:
                return
            yield timer

    def with_alarms(
        self, bucket: int, cursor: str | None, limit: int
    ) -> tuple[list[Timer], str | None]:
        # As DynamoDB's cursor, a position in the index: where the last page ended.
        after = _position(cursor) if cursor else None
        rest = [
            (alarm, timer)
            for alarm, timer in self._alarms(bucket)
            if after is None or (alarm, timer.ticket_id) > after
        ]
        page = rest[:limit]
        if len(rest) <= limit:
            return [timer for _, timer in page], None
        alarm, last = page[-1]
        return [timer for _, timer in page], json.dumps([alarm.isoformat(), last.ticket_id])

    def started_between(
        self, department_id: str | None, start: datetime, end: datetime
    ) -> Iterator[Timer]:
        started = [
            (timer.started_at, timer.ticket_id, timer)
            for timer in self._timers()
            if timer.started_at is not None
            and timer.department_id == department_id
            and start <= timer.started_at < end
        ]
        for _, _, timer in sorted(started, key=lambda entry: entry[:2]):
            yield timer

    def _timers(self) -> list[Timer]:
        return [_timer(*stored) for stored in self._stored.values()]

    def _alarms(self, bucket: int) -> list[tuple[datetime, Timer]]:
        """The bucket's timers with a pending alarm, soonest first (the sparse alarm index)."""
        pending = [
            (alarm, timer)
            for timer in self._timers()
            if (alarm := timer.next_alarm()) is not None and alarm_bucket(timer.ticket_id) == bucket
        ]
        return sorted(pending, key=lambda entry: (entry[0], entry[1].ticket_id))


def _position(cursor: str) -> tuple[datetime, str]:
    alarm, ticket_id = json.loads(cursor)
    return datetime.fromisoformat(alarm), ticket_id


def _timer(version: int, body: str) -> Timer:
    timer = Timer.model_validate_json(body)
    timer.version = version
    return timer


class FakePolicyRepository:
    def __init__(self) -> None:
        self._versions: dict[int, PolicyVersion] = {}
        self._retargeting: Retargeting | None = None

    def versions(self) -> list[PolicyVersion]:
        return [self._versions[number] for number in sorted(self._versions)]

    def add(self, version: PolicyVersion) -> None:
        if version.version in self._versions:
            raise StalePolicy(str(version.version))
        self._versions[version.version] = version
        self._retargeting = Retargeting(version=version.version)

    def retargeting(self) -> Retargeting | None:
        return self._retargeting

    def advance(self, current: Retargeting, following: Retargeting | None) -> None:
        if self._retargeting is not None and self._retargeting.version == current.version:
            self._retargeting = following
