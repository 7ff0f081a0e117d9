"""The SLA HTTP API."""

from __future__ import annotations

from typing import Any

from services.sla.data.dynamodb import DynamoTimerRepository
from services.sla.models import TimerOut
from shared.api import Api, ApiRequest
from shared.errors import not_found

api = Api(__name__, tag="sla")


@api.route(
    "/sla/tickets/{ticket_id}",
    "GET",
    summary="The SLA timer of a ticket",
    response=TimerOut,
    errors=(404,),
)
def get_timer(request: ApiRequest[Any, Any]) -> TimerOut:
    ticket_id = request.path["ticket_id"]
    timer = DynamoTimerRepository().get(ticket_id)
    if timer is None:
        raise not_found("SLA timer for ticket", ticket_id)
    return TimerOut.model_validate(timer.model_dump())
