"""The tickets API's route where an agent says whether they take tickets by turns."""

from __future__ import annotations

from typing import Any

from services.tickets.availability_models import AvailabilityIn, AvailabilityOut
from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.availability import set_own_availability
from shared.api import Api, ApiRequest

api = Api(__name__, tag="agents", service="tickets")


@api.route(
    "/agents/me/availability",
    "PUT",
    summary="Say whether new tickets may come to you by turns (yourself only)",
    body=AvailabilityIn,
    response=AvailabilityOut,
)
def put_own_availability(request: ApiRequest[AvailabilityIn, Any]) -> AvailabilityOut:
    load = set_own_availability(request.body.available, request.caller, dependencies())
    return AvailabilityOut(
        email=request.caller.email.lower(),
        available=load.available,
        open_tickets=load.open_tickets,
    )
