"""The SLA repository on DynamoDB (pynamodb): the only module that touches the table."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from services.sla.data.tables import SERVICE, SlaTable, TimerItem
from services.sla.logic.timer import Timer
from shared.storage import bind_table


def timer_key(ticket_id: str) -> str:
    return f"TIMER#{ticket_id}"


class DynamoTimerRepository:
    def __init__(self) -> None:
        bind_table(SlaTable, SERVICE)

    def start(self, timer: Timer) -> bool:
        item = TimerItem(timer_key(timer.ticket_id), "TIMER", **timer.model_dump())
        try:
            item.save(condition=TimerItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, ticket_id: str) -> Timer | None:
        try:
            item = TimerItem.get(timer_key(ticket_id), "TIMER")
        except TimerItem.DoesNotExist:
            return None
        return Timer(
            ticket_id=item.ticket_id,
            priority=item.priority,
            started_at=item.started_at,
            first_response_due_at=item.first_response_due_at,
            resolution_due_at=item.resolution_due_at,
            state=item.state,
        )
