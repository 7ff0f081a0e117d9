"""The tickets HTTP API: parse, call one use case, answer. No rule lives here."""

from __future__ import annotations

from typing import Any

from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.logic.find_ticket import find_ticket
from services.tickets.logic.open_ticket import Numbering, OpenTicket, open_ticket
from services.tickets.logic.ticket import Author
from services.tickets.models import OpenTicketIn, TicketOut
from shared.api import Api, ApiRequest
from shared.clock import get_clock
from shared.events.catalogue import Person
from shared.settings import get_settings

api = Api(__name__, tag="tickets")


def _repository() -> DynamoTicketRepository:
    return DynamoTicketRepository(get_clock())


@api.route(
    "/tickets",
    "POST",
    summary="Open a ticket",
    body=OpenTicketIn,
    response=TicketOut,
    status=201,
    errors=(400, 422),
)
def create_ticket(request: ApiRequest[OpenTicketIn, Any]) -> TicketOut:
    body = request.body
    settings = get_settings()
    ticket = open_ticket(
        OpenTicket(
            subject=body.subject,
            body=body.body,
            requester=Person(email=str(body.requester.email).lower(), name=body.requester.name),
            author=Author(type="agent", email=request.caller.email),
            priority=body.priority,
            department_id=body.department_id,
            tags=body.tags,
            cc=[str(address) for address in body.cc],
            correlation_id=request.request_id,
        ),
        _repository(),
        get_clock(),
        Numbering(settings.ticket_prefix, settings.ticket_number_width),
    )
    return TicketOut.of(ticket)


@api.route(
    "/tickets/{ticket_id}",
    "GET",
    summary="One ticket, by id or number",
    response=TicketOut,
    errors=(404,),
)
def get_ticket(request: ApiRequest[Any, Any]) -> TicketOut:
    return TicketOut.of(find_ticket(request.path["ticket_id"], _repository()))
