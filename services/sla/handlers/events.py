"""The SLA service's event consumers: ticket events keep the timers, department events say who
may see them."""

from __future__ import annotations

from services.sla.handlers.wiring import dependencies
from services.sla.logic.keep_timers import (
    facts_of_created,
    facts_of_merge,
    facts_of_message,
    facts_of_status,
    facts_of_update,
    record_facts,
)
from shared.departments import department_of
from shared.events.catalogue import (
    DepartmentMembersChanged,
    MessagePosted,
    TicketCreated,
    TicketMerged,
    TicketStatusChanged,
    TicketUpdated,
)
from shared.events.consumer import EventConsumer
from shared.events.envelope import Envelope
from shared.settings import get_settings

consumer = EventConsumer(lambda: get_settings().idempotency_table("sla"))


@consumer.on(TicketCreated)
def on_ticket_created(data: TicketCreated, envelope: Envelope) -> None:
    record_facts(data.ticket_id, facts_of_created(data), dependencies(), envelope.id)


@consumer.on(TicketUpdated)
def on_ticket_updated(data: TicketUpdated, envelope: Envelope) -> None:
    record_facts(data.ticket_id, facts_of_update(data), dependencies(), envelope.id)


@consumer.on(TicketStatusChanged)
def on_status_changed(data: TicketStatusChanged, envelope: Envelope) -> None:
    record_facts(data.ticket_id, facts_of_status(data), dependencies(), envelope.id)


@consumer.on(TicketMerged)
def on_ticket_merged(data: TicketMerged, envelope: Envelope) -> None:
    record_facts(data.source_ticket_id, facts_of_merge(data), dependencies(), envelope.id)


@consumer.on(MessagePosted)
def on_message_posted(data: MessagePosted, envelope: Envelope) -> None:
    record_facts(data.ticket_id, facts_of_message(data), dependencies(), envelope.id)


@consumer.on(DepartmentMembersChanged)
def on_members_changed(data: DepartmentMembersChanged, envelope: Envelope) -> None:
    dependencies().departments.record(department_of(data, envelope.occurred_at))
