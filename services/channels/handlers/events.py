"""The channels service's event consumers: ticket threads, replies to mail out, and the mail of
erased requesters."""

from __future__ import annotations

from services.channels.handlers.wiring import dependencies
from services.channels.logic.follow_tickets import (
    follow_message,
    follow_requester,
    remember_ticket,
)
from shared.events.catalogue import MessagePosted, TicketCreated, TicketUpdated
from shared.events.consumer import EventConsumer
from shared.events.envelope import Envelope
from shared.settings import get_settings

consumer = EventConsumer(lambda: get_settings().idempotency_table("channels"))


@consumer.on(TicketCreated)
def on_ticket_created(data: TicketCreated, envelope: Envelope) -> None:
    remember_ticket(data, dependencies())


@consumer.on(TicketUpdated)
def on_ticket_updated(data: TicketUpdated, envelope: Envelope) -> None:
    follow_requester(data, dependencies())


@consumer.on(MessagePosted)
def on_message_posted(data: MessagePosted, envelope: Envelope) -> None:
    follow_message(data, dependencies())
