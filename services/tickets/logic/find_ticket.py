"""Finding one ticket by its id or by its human number (`TKT-0042`), as the caller may see it."""

from __future__ import annotations

import re

from services.tickets.logic.access import viewer_of
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.ticket import HistoryEntry, Message, Ticket
from shared.errors import not_found
from shared.identity import Caller
from shared.storage import Page

NUMBER = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d+$")


def load_ticket(key: str, deps: Dependencies) -> Ticket | None:
    """The ticket by id or number, whoever asks (the caller's rights are checked by the callers)."""
    if NUMBER.match(key):
        return deps.repository.get_by_number(key)
    return deps.repository.get(key)


def find_ticket(key: str, caller: Caller, deps: Dependencies) -> Ticket:
    ticket = load_ticket(key, deps)
    viewer = viewer_of(caller, deps.repository, deps.config.triage_department)
    if ticket is None or not viewer.sees(ticket):
        raise not_found("ticket", key)
    return ticket


def conversation(
    key: str, caller: Caller, deps: Dependencies, limit: int, cursor: str | None
) -> tuple[Ticket, Page[Message]]:
    """The conversation in order, notes included and marked; one read beside the caller's."""
    viewer = viewer_of(caller, deps.repository, deps.config.triage_department)
    ticket_id = key
    if NUMBER.match(key):
        found = deps.repository.get_by_number(key)
        ticket_id = found.id if found is not None else key
    ticket, page = deps.repository.get_with_messages(ticket_id, limit, cursor)
    if ticket is None or not viewer.sees(ticket):
        raise not_found("ticket", key)
    return ticket, page


def history(
    key: str, caller: Caller, deps: Dependencies, limit: int, cursor: str | None
) -> Page[HistoryEntry]:
    ticket = find_ticket(key, caller, deps)
    return deps.repository.history(ticket.id, limit, cursor)
