"""Finding one ticket by its id or by its human number (`TKT-0042`)."""

from __future__ import annotations

import re

from services.tickets.logic.repository import TicketRepository
from services.tickets.logic.ticket import Ticket
from shared.errors import not_found

NUMBER = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d+$")


def find_ticket(key: str, repository: TicketRepository) -> Ticket:
    ticket = repository.get_by_number(key) if NUMBER.match(key) else repository.get(key)
    if ticket is None:
        raise not_found("ticket", key)
    return ticket
