"""The tickets repository on DynamoDB (pynamodb): the only module that touches the table."""

from __future__ import annotations

from collections.abc import Sequence

from services.tickets.data.tables import (
    SERVICE,
    CounterItem,
    MessageItem,
    TicketItem,
    TicketsOutbox,
    TicketsTable,
)
from services.tickets.logic.ticket import Message, Ticket
from shared.clock import Clock
from shared.events.catalogue import Person
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import outbox_items
from shared.storage import bind_table, transaction

TICKET_NUMBER_COUNTER = "COUNTER#ticket-number"


def ticket_key(ticket_id: str) -> str:
    return f"TICKET#{ticket_id}"


class DynamoTicketRepository:
    def __init__(self, clock: Clock) -> None:
        bind_table(TicketsTable, SERVICE)
        self._clock = clock

    def next_number(self) -> int:
        counter = CounterItem(TICKET_NUMBER_COUNTER, "COUNTER")
        counter.update(actions=[CounterItem.value.add(1)])
        return int(counter.value)

    def add(self, ticket: Ticket, first_message: Message, events: Sequence[OutgoingEvent]) -> None:
        with transaction(TicketsTable) as write:
            write.save(_ticket_item(ticket), condition=TicketItem.pk.does_not_exist())
            write.save(_message_item(first_message))
            for item in outbox_items(TicketsOutbox, events, self._clock.now()):
                write.save(item)

    def get(self, ticket_id: str) -> Ticket | None:
        try:
            return _ticket(TicketItem.get(ticket_key(ticket_id), "TICKET"))
        except TicketItem.DoesNotExist:
            return None

    def get_by_number(self, number: str) -> Ticket | None:
        for item in TicketItem.by_number.query(number, limit=1):
            return _ticket(item)
        return None


def _ticket_item(ticket: Ticket) -> TicketItem:
    return TicketItem(
        ticket_key(ticket.id),
        "TICKET",
        id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        department_id=ticket.department_id,
        assignee=ticket.assignee,
        requester={"email": ticket.requester.email, "name": ticket.requester.name},
        contact_id=ticket.contact_id,
        tags=set(ticket.tags) or None,
        cc=ticket.cc or None,
        channel_id=ticket.channel_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )


def _ticket(item: TicketItem) -> Ticket:
    return Ticket(
        id=item.id,
        number=item.number,
        subject=item.subject,
        status=item.status,
        priority=item.priority,
        department_id=item.department_id,
        assignee=item.assignee,
        requester=Person(email=item.requester.email, name=item.requester.name),
        contact_id=item.contact_id,
        tags=sorted(item.tags or ()),
        cc=list(item.cc or ()),
        channel_id=item.channel_id,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=item.version or 1,
    )


def _message_item(message: Message) -> MessageItem:
    return MessageItem(
        ticket_key(message.ticket_id),
        f"MSG#{message.created_at.isoformat()}#{message.id}",
        id=message.id,
        ticket_id=message.ticket_id,
        visibility=message.visibility,
        author=message.author.model_dump(exclude_none=True),
        body=message.body,
        created_at=message.created_at,
    )
