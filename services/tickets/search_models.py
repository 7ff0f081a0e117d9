"""The shapes of ticket search on the wire (`GET /search`)."""

from __future__ import annotations

from pydantic import Field

from services.tickets.logic.search import MAX_LIMIT, Source
from services.tickets.logic.search_text import MAX_QUERY_LENGTH
from services.tickets.models import TicketOut
from shared.api import RequestModel, ResponseModel


class SearchQueryIn(RequestModel):
    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY_LENGTH,
        description='words (all must match), "quoted phrases"; the last word also as a prefix',
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


class SearchHitOut(ResponseModel):
    ticket: TicketOut
    snippet: str = Field(description="where the ticket matched; matched words wrapped in `**`")
    matched_in: Source
    message_id: str | None = Field(None, description="the message the snippet is from, if any")


class SearchPage(ResponseModel):
    items: list[SearchHitOut]
    next_cursor: str | None = Field(
        description="more may follow even after a short or empty page; null at the end"
    )
