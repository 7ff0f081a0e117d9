"""Optional push back to the CRM: contacts made by hand here are created there, and tickets are
noted on the requester's CRM record. Each step is idempotent: a redelivered event finds what the
first delivery made (the record by its address, the note by its marker) and does it once."""

from __future__ import annotations

from datetime import datetime

from services.crm_sync.logic.connector import NewContact, Note
from services.crm_sync.logic.dependencies import Connector, PushBackRepository
from services.crm_sync.logic.repository import Counts, TicketOfRecord
from services.crm_sync.logic.sync import SyncEngine
from shared.events.catalogue import ContactCreated, TicketCreated, TicketStatusChanged

RESOLVED = "resolved"


def made_by_hand(contact: ContactCreated) -> bool:
    """Created by an agent (not for a ticket's requester, not from a CRM) and not linked yet."""
    return (
        contact.crm is None
        and bool(contact.emails)
        and "@" in contact.actor
        and not contact.actor.startswith("crm:")
    )


def push_contact(contact: ContactCreated, connector: Connector, engine: SyncEngine) -> None:
    """Create the contact in the CRM (or find it there) and link it like any CRM record."""
    if not made_by_hand(contact):
        return
    record = connector.find_by_email(contact.emails[0]) or connector.create_contact(
        NewContact(tuple(contact.emails), contact.name, contact.phone, contact.organisation)
    )
    engine.apply_records([record], Counts())


def note_ticket_created(
    ticket: TicketCreated, connector: Connector, repository: PushBackRepository
) -> None:
    contact = repository.contact_by_email(ticket.requester.email.lower())
    if contact is None or contact.crm_provider != connector.provider or contact.crm_id is None:
        return
    remembered = TicketOfRecord(ticket.ticket_id, contact.crm_id, ticket.number, ticket.subject)
    repository.remember_ticket(remembered)
    at = datetime.fromisoformat(ticket.created_at)
    _note_once(
        remembered,
        "created",
        f"Ticket {ticket.number} opened: {ticket.subject}",
        at,
        connector,
        repository,
    )


def note_ticket_resolved(
    change: TicketStatusChanged, connector: Connector, repository: PushBackRepository
) -> None:
    if change.new != RESOLVED:
        return
    ticket = repository.ticket(change.ticket_id)
    if ticket is None:
        return  # its requester is not in the CRM
    _note_once(
        ticket,
        f"resolved#{change.changed_at}",  # resolved again after a re-open: a new note
        f"Ticket {ticket.number} resolved: {ticket.subject}",
        datetime.fromisoformat(change.changed_at),
        connector,
        repository,
    )


def _note_once(
    ticket: TicketOfRecord,
    what: str,
    body: str,
    at: datetime,
    connector: Connector,
    repository: PushBackRepository,
) -> None:
    if repository.note_added(ticket.ticket_id, what):
        return
    note_id = connector.add_note(ticket.crm_id, Note(body, at))
    repository.record_note(ticket.ticket_id, what, note_id)
