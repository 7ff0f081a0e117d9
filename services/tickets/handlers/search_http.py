"""The tickets API's search route: parse, call the use case, answer."""

from __future__ import annotations

from typing import Any

from services.tickets.handlers.wiring import dependencies, search_index
from services.tickets.logic.search import search_tickets
from services.tickets.models import TicketOut
from services.tickets.search_models import SearchHitOut, SearchPage, SearchQueryIn
from shared.api import Api, ApiRequest

api = Api(__name__, tag="tickets")


@api.route(
    "/search",
    "GET",
    summary="Tickets whose words match, newest first, only those the caller may open",
    query=SearchQueryIn,
    response=SearchPage,
    errors=(422,),
)
def search(request: ApiRequest[Any, SearchQueryIn]) -> SearchPage:
    q = request.query
    deps = dependencies()
    page = search_tickets(q.q, request.caller, deps, search_index(), q.limit, q.cursor)
    return SearchPage(
        items=[
            SearchHitOut(
                ticket=TicketOut.of(hit.ticket, deps.config.automations),
                snippet=hit.snippet,
                matched_in=hit.source,
                message_id=hit.message_id,
            )
            for hit in page.items
        ],
        next_cursor=page.cursor,
    )
