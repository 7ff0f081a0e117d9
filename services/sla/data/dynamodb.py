"""The SLA repositories on DynamoDB (pynamodb): the only module that touches the table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.expressions.condition import Condition

from services.sla.data.tables import (
    SERVICE,
    DepartmentsItem,
    PolicyItem,
    RetargetItem,
    SlaOutbox,
    SlaTable,
    TimerItem,
)
from services.sla.logic.dependencies import (
    Retargeting,
    StalePolicy,
    StaleTimer,
    alarm_bucket,
)
from services.sla.logic.policy import PolicyVersion
from services.sla.logic.timer import Timer
from shared.clock import Clock, isoformat
from shared.department_store import DynamoDepartmentStore
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import add_to_outbox
from shared.keys import NO_KEY
from shared.storage import (
    bind_table,
    decode_key_cursor,
    encode_cursor,
    failed_conditions,
    transaction,
)

TIMER_SK = "TIMER"
POLICY_PK = "POLICY"
RETARGET_SK = "RETARGET"
CONDITION_FAILED_EXCEPTION = "ConditionalCheckFailedException"  # as a single write does


def timer_key(ticket_id: str) -> str:
    return f"TIMER#{ticket_id}"


def _version_key(version: int) -> str:
    return f"VERSION#{version:08d}"


def _bound() -> None:
    bind_table(SlaTable, SERVICE)


class DynamoTimerRepository:
    def __init__(self, clock: Clock) -> None:
        _bound()
        self._clock = clock

    def get(self, ticket_id: str) -> Timer | None:
        try:
            return _timer(TimerItem.get(timer_key(ticket_id), TIMER_SK, consistent_read=True))
        except TimerItem.DoesNotExist:
            return None

    def save(self, timer: Timer, events: list[OutgoingEvent]) -> None:
        item = timer_item(timer)
        condition: Condition = (
            TimerItem.pk.does_not_exist()
            if timer.version == 0
            else TimerItem.version == timer.version
        )
        if not events:
            try:
                item.save(condition=condition)
            except PutError as error:
                if error.cause_response_code == CONDITION_FAILED_EXCEPTION:
                    raise StaleTimer(timer.ticket_id) from None
                raise
            return
        write = transaction(SlaTable)
        try:
            with write:
                write.save(item, condition=condition)
                add_to_outbox(write, SlaOutbox, events, self._clock.now())
        except TransactWriteError as error:
            if (item.pk, item.sk) in failed_conditions(write, error):
                raise StaleTimer(timer.ticket_id) from None
            raise

    def due(self, bucket: int, now: datetime) -> Iterator[Timer]:
        for item in SlaTable.by_alarm.query(str(bucket), TimerItem.alarm_at <= isoformat(now)):
            yield _timer(item)

    def with_alarms(
        self, bucket: int, cursor: str | None, limit: int
    ) -> tuple[list[Timer], str | None]:
        start = (
            decode_key_cursor(
                cursor, ("pk", "sk", "alarm_bucket", "alarm_at"), {"alarm_bucket": str(bucket)}
            )
            if cursor
            else None
        )
        results = SlaTable.by_alarm.query(str(bucket), limit=limit, last_evaluated_key=start)
        timers = [_timer(item) for item in results]
        last = results.last_evaluated_key
        return timers, encode_cursor(last) if last else None

    def started_between(
        self, department_id: str | None, start: datetime, end: datetime
    ) -> Iterator[Timer]:
        results = SlaTable.by_department_started.query(
            department_id or NO_KEY,
            TimerItem.started_key.between(isoformat(start), isoformat(end)),
        )
        for item in results:
            yield _timer(item)


def timer_item(timer: Timer) -> TimerItem:
    """The stored form of a timer, with the index keys its state calls for (none: not indexed)."""
    alarm = timer.next_alarm()
    started = timer.started_at
    return TimerItem(
        timer_key(timer.ticket_id),
        TIMER_SK,
        ticket_id=timer.ticket_id,
        version=timer.version + 1,
        body=timer.model_dump_json(exclude={"version"}),
        alarm_bucket=str(alarm_bucket(timer.ticket_id)) if alarm else None,
        alarm_at=isoformat(alarm) if alarm else None,
        report_department=(timer.department_id or NO_KEY) if started else None,
        started_key=f"{isoformat(started)}#{timer.ticket_id}" if started else None,
    )


def _timer(item: Any) -> Timer:
    timer = Timer.model_validate_json(item.body)
    timer.version = int(item.version)
    return timer


class DynamoPolicyRepository:
    def __init__(self) -> None:
        _bound()

    def versions(self) -> list[PolicyVersion]:
        return [
            PolicyVersion.model_validate_json(item.body)
            for item in PolicyItem.query(POLICY_PK, PolicyItem.sk.startswith("VERSION#"))
        ]

    def add(self, version: PolicyVersion) -> None:
        version_key = _version_key(version.version)
        write = transaction(SlaTable)
        try:
            with write:
                write.save(
                    PolicyItem(
                        POLICY_PK,
                        version_key,
                        version=version.version,
                        body=version.model_dump_json(),
                    ),
                    condition=PolicyItem.pk.does_not_exist(),
                )
                write.save(RetargetItem(POLICY_PK, RETARGET_SK, version=version.version, bucket=0))
        except TransactWriteError as error:
            if (POLICY_PK, version_key) in failed_conditions(write, error):
                raise StalePolicy(str(version.version)) from None
            raise

    def retargeting(self) -> Retargeting | None:
        try:
            item = RetargetItem.get(POLICY_PK, RETARGET_SK, consistent_read=True)
        except RetargetItem.DoesNotExist:
            return None
        return Retargeting(version=int(item.version), bucket=int(item.bucket), cursor=item.cursor)

    def advance(self, current: Retargeting, following: Retargeting | None) -> None:
        same_pass = RetargetItem.version == current.version
        try:
            if following is None:
                RetargetItem(POLICY_PK, RETARGET_SK).delete(condition=same_pass)
            else:
                RetargetItem(POLICY_PK, RETARGET_SK, **following.model_dump()).save(
                    condition=same_pass
                )
        except (PutError, DeleteError) as error:  # a newer policy started its own pass
            if error.cause_response_code != CONDITION_FAILED_EXCEPTION:
                raise


def department_store() -> DynamoDepartmentStore:
    """The departments the tickets service announced, in this service's table."""
    _bound()
    return DynamoDepartmentStore(DepartmentsItem)
