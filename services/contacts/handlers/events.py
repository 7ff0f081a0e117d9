"""The contacts service's event consumers: ticket requesters, the CRM, its own merges, and the
departments that decide who sees which tickets of a contact."""

from __future__ import annotations

from services.contacts.data.dynamodb import department_store
from services.contacts.handlers.wiring import dependencies
from services.contacts.logic.bounces import flag_bounced
from services.contacts.logic.crm import delete_from_crm, merge_from_crm, upsert_from_crm
from services.contacts.logic.merge import move_tickets
from services.contacts.logic.requesters import (
    link_requester,
    ticket_status_changed,
    ticket_updated,
)
from shared.departments import department_of
from shared.events.catalogue import (
    ContactMerged,
    CrmContactDeleted,
    CrmContactMerged,
    CrmContactUpserted,
    DepartmentMembersChanged,
    EmailBounced,
    TicketCreated,
    TicketStatusChanged,
    TicketUpdated,
)
from shared.events.consumer import EventConsumer
from shared.events.envelope import Envelope
from shared.settings import get_settings

consumer = EventConsumer(lambda: get_settings().idempotency_table("contacts"))


@consumer.on(TicketCreated)
def on_ticket_created(data: TicketCreated, envelope: Envelope) -> None:
    link_requester(data, dependencies(), envelope.id)


@consumer.on(TicketUpdated)
def on_ticket_updated(data: TicketUpdated, envelope: Envelope) -> None:
    ticket_updated(data, dependencies())


@consumer.on(TicketStatusChanged)
def on_ticket_status_changed(data: TicketStatusChanged, envelope: Envelope) -> None:
    ticket_status_changed(data, dependencies())


@consumer.on(DepartmentMembersChanged)
def on_members_changed(data: DepartmentMembersChanged, envelope: Envelope) -> None:
    """Who may see which of a contact's tickets."""
    department_store().record(department_of(data, envelope.occurred_at))


@consumer.on(ContactMerged)
def on_contact_merged(data: ContactMerged, envelope: Envelope) -> None:
    move_tickets(data.merged_contact_id, data.surviving_contact_id, dependencies())


@consumer.on(EmailBounced)
def on_email_bounced(data: EmailBounced, envelope: Envelope) -> None:
    flag_bounced(data, dependencies())


@consumer.on(CrmContactUpserted)
def on_crm_upserted(data: CrmContactUpserted, envelope: Envelope) -> None:
    upsert_from_crm(data, dependencies(), envelope.id)


@consumer.on(CrmContactDeleted)
def on_crm_deleted(data: CrmContactDeleted, envelope: Envelope) -> None:
    delete_from_crm(data, dependencies(), envelope.id)


@consumer.on(CrmContactMerged)
def on_crm_merged(data: CrmContactMerged, envelope: Envelope) -> None:
    merge_from_crm(data, dependencies(), envelope.id)
