"""The tickets service's event consumers: mail in, SLA state, contact links, and its own merges
(whose copy of the conversation a crash may have cut short)."""

from __future__ import annotations

from datetime import datetime

from services.tickets.handlers import search_events
from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.erase_requester import anonymise_requester
from services.tickets.logic.merge_copy import resume_merge_copy
from services.tickets.logic.system_updates import (
    link_contact,
    move_contact,
    receive_email,
    record_mail_outcome,
    record_sla_event,
    set_due_times,
)
from shared.events.catalogue import (
    ContactErased,
    ContactLinked,
    ContactMerged,
    EmailBounced,
    EmailComplained,
    EmailDelivered,
    EmailDeliveryEvent,
    EmailReceived,
    EmailSent,
    MessagePosted,
    SlaBreached,
    SlaDueTimesChanged,
    SlaMet,
    SlaTargetEvent,
    SlaWarning,
    TicketCreated,
    TicketMerged,
    TicketUpdated,
)
from shared.events.consumer import EventConsumer
from shared.events.envelope import Envelope
from shared.settings import get_settings

consumer = EventConsumer(lambda: get_settings().idempotency_table("tickets"))


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@consumer.on(EmailReceived)
def on_email_received(mail: EmailReceived, envelope: Envelope) -> None:
    receive_email(mail, envelope, dependencies())


def on_mail_outcome(data: EmailSent | EmailDeliveryEvent, envelope: Envelope) -> None:
    record_mail_outcome(data, dependencies())


for mail_outcome in (EmailSent, EmailDelivered, EmailBounced, EmailComplained):
    consumer.on(mail_outcome)(on_mail_outcome)


@consumer.on(SlaDueTimesChanged)
def on_due_times(data: SlaDueTimesChanged, envelope: Envelope) -> None:
    set_due_times(
        data.ticket_id,
        _time(data.first_response_due_at),
        _time(data.resolution_due_at),
        data.sequence,
        dependencies(),
    )


def on_sla_target(data: SlaTargetEvent, envelope: Envelope) -> None:
    record_sla_event(data, dependencies())


for sla_event in (SlaWarning, SlaBreached, SlaMet):
    consumer.on(sla_event)(on_sla_target)


@consumer.on(ContactLinked)
def on_contact_linked(data: ContactLinked, envelope: Envelope) -> None:
    link_contact(data.ticket_id, data.contact_id, dependencies())


@consumer.on(ContactMerged)
def on_contact_merged(data: ContactMerged, envelope: Envelope) -> None:
    move_contact(data.merged_contact_id, data.surviving_contact_id, dependencies())


@consumer.on(ContactErased)
def on_contact_erased(data: ContactErased, envelope: Envelope) -> None:
    anonymise_requester(data.contact_id, dependencies())
    search_events.after_erasure(data)


@consumer.on(TicketMerged)
def on_ticket_merged(data: TicketMerged, envelope: Envelope) -> None:
    resume_merge_copy(data.source_ticket_id, dependencies())
    search_events.after_merge(data)


# Ticket search's index, kept from the service's own events.
consumer.on(TicketCreated)(search_events.on_ticket_created)
consumer.on(MessagePosted)(search_events.on_message_posted)
consumer.on(TicketUpdated)(search_events.on_ticket_updated)
