"""Changing many tickets at once: each as a single change of it would be (`change_ticket`, with no
expected version: on the ticket as it is now), in a transaction of its own, so a ticket is changed
in full or not at all and one ticket's refusal stops none of the others.

The tickets are read together (in batches, numbers one by one) and the caller's departments once,
instead of once per ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.tickets.logic.access import Viewer, viewer_of
from services.tickets.logic.change_ticket import TicketPatch, change_ticket
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.find_ticket import NUMBER, load_ticket
from services.tickets.logic.ticket import Ticket
from shared.errors import DomainError, not_found
from shared.identity import Caller

MAX_TICKETS = 100


@dataclass(frozen=True)
class Changed:
    key: str  # as the caller named the ticket: its id or its number
    ticket: Ticket  # as it is after the change (unchanged if there was nothing to change)


@dataclass(frozen=True)
class Refused:
    key: str
    error: DomainError  # what a single change of the ticket would have answered


Outcome = Changed | Refused


def change_tickets(
    keys: list[str],
    patch: TicketPatch,
    caller: Caller,
    deps: Dependencies,
    correlation_id: str | None = None,
) -> list[Outcome]:
    """The outcome of `patch` on each ticket, in the order of `keys` (distinct ids or numbers)."""
    viewer = viewer_of(caller, deps.repository, deps.config.triage_department)
    read = _read(keys, deps)
    return [_change_one(key, read.get(key), patch, viewer, deps, correlation_id) for key in keys]


def _read(keys: list[str], deps: Dependencies) -> dict[str, Ticket]:
    """The tickets that exist, by the key they were named with."""
    ids = [key for key in keys if not NUMBER.match(key)]
    found = {ticket.id: ticket for ticket in deps.repository.get_many(ids)}
    for key in keys:
        if NUMBER.match(key) and (ticket := load_ticket(key, deps)) is not None:
            found[key] = ticket
    return found


def _change_one(
    key: str,
    ticket: Ticket | None,
    patch: TicketPatch,
    viewer: Viewer,
    deps: Dependencies,
    correlation_id: str | None,
) -> Outcome:
    # A ticket the caller may not see is missing to them, as alone; no write need be tried.
    if ticket is None or not viewer.sees(ticket):
        return Refused(key, not_found("ticket", key))
    try:
        changed = change_ticket(
            key, patch, None, viewer.caller, deps, correlation_id, as_read=ticket, viewer=viewer
        )
    except DomainError as error:
        return Refused(key, error)
    return Changed(key, changed)
