"""What the tickets logic needs from storage; `data.dynamodb` implements it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.tickets.logic.ticket import Message, Ticket
from shared.events.envelope import OutgoingEvent


class TicketRepository(Protocol):
    def next_number(self) -> int:
        """The next ticket number, from an atomic counter."""
        ...

    def add(self, ticket: Ticket, first_message: Message, events: Sequence[OutgoingEvent]) -> None:
        """Store a new ticket, its first message and its events in one transaction."""
        ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def get_by_number(self, number: str) -> Ticket | None: ...
