"""The crm_sync service's event consumers: what it knows of the helpdesk's contacts (to match CRM
records by address), and the optional push back of contacts and tickets to the CRM."""

from __future__ import annotations

from services.crm_sync.handlers.wiring import dependencies
from services.crm_sync.logic.push_back import (
    note_ticket_created,
    note_ticket_resolved,
    push_contact,
)
from services.crm_sync.logic.repository import KnownContact
from shared.events.catalogue import (
    ContactCreated,
    ContactErased,
    ContactMerged,
    ContactSnapshot,
    ContactUpdated,
    TicketCreated,
    TicketStatusChanged,
)
from shared.events.consumer import EventConsumer
from shared.events.envelope import Envelope
from shared.settings import get_settings

consumer = EventConsumer(lambda: get_settings().idempotency_table("crm_sync"))
ERASED_VERSION = 2**53  # later than any version: an erased contact's addresses never come back


def _remember(contact: ContactSnapshot) -> None:
    dependencies().repository.remember_contact(
        KnownContact(
            contact.contact_id,
            tuple(contact.emails),
            contact.version,
            contact.crm.provider if contact.crm else None,
            contact.crm.id if contact.crm else None,
            contact.name,
        )
    )


@consumer.on(ContactCreated)
def on_contact_created(data: ContactCreated, envelope: Envelope) -> None:
    _remember(data)
    deps = dependencies()
    if deps.connector is not None and deps.engine is not None and deps.push_back:
        push_contact(data, deps.connector, deps.engine)


@consumer.on(ContactUpdated)
def on_contact_updated(data: ContactUpdated, envelope: Envelope) -> None:
    _remember(data)


@consumer.on(ContactErased)
def on_contact_erased(data: ContactErased, envelope: Envelope) -> None:
    dependencies().repository.forget_contact(data.contact_id, ERASED_VERSION)


@consumer.on(ContactMerged)
def on_contact_merged(data: ContactMerged, envelope: Envelope) -> None:
    # The merged-away contact's addresses now belong to the survivor (its update says so).
    dependencies().repository.forget_contact(data.merged_contact_id, ERASED_VERSION)


@consumer.on(TicketCreated)
def on_ticket_created(data: TicketCreated, envelope: Envelope) -> None:
    deps = dependencies()
    if deps.connector is not None and deps.push_back:
        note_ticket_created(data, deps.connector, deps.repository)


@consumer.on(TicketStatusChanged)
def on_ticket_status_changed(data: TicketStatusChanged, envelope: Envelope) -> None:
    deps = dependencies()
    if deps.connector is not None and deps.push_back:
        note_ticket_resolved(data, deps.connector, deps.repository)
