"""Opening a ticket: number it, store it with its first message, announce it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from services.tickets.logic.repository import TicketRepository
from services.tickets.logic.ticket import (
    Author,
    Message,
    Priority,
    Ticket,
    format_number,
)
from shared.clock import Clock, isoformat
from shared.events.catalogue import Person, TicketCreated
from shared.events.envelope import OutgoingEvent


@dataclass(frozen=True)
class OpenTicket:
    subject: str
    body: str
    requester: Person
    author: Author
    priority: Priority = "medium"
    department_id: str | None = None
    tags: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    channel_id: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class Numbering:
    prefix: str
    width: int


def open_ticket(
    command: OpenTicket, repository: TicketRepository, clock: Clock, numbering: Numbering
) -> Ticket:
    now = clock.now()
    ticket = Ticket(
        id=str(uuid.uuid4()),
        number=format_number(numbering.prefix, numbering.width, repository.next_number()),
        subject=command.subject,
        priority=command.priority,
        department_id=command.department_id,
        requester=command.requester,
        tags=sorted(set(command.tags)),
        cc=list(dict.fromkeys(address.lower() for address in command.cc)),
        channel_id=command.channel_id,
        created_at=now,
        updated_at=now,
    )
    first_message = Message(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        visibility="public",
        author=command.author,
        body=command.body,
        created_at=now,
    )
    created = TicketCreated(
        ticket_id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        department_id=ticket.department_id,
        requester=ticket.requester,
        channel_id=ticket.channel_id,
        created_at=isoformat(now),
    )
    repository.add(ticket, first_message, [OutgoingEvent.of(created, now, command.correlation_id)])
    return ticket
