"""The people who raise tickets: every new ticket's requester becomes (or is found as) a contact
and the ticket is linked to them; what the contact's ticket list shows follows ticket events."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.contacts.logic.contact import Contact, TicketSummary, email_key
from services.contacts.logic.dependencies import Dependencies
from services.contacts.logic.recording import created, outgoing
from services.contacts.logic.repository import (
    Commit,
    EmailTaken,
    TicketAlreadyLinked,
    Write,
)
from shared.events.catalogue import (
    ContactLinked,
    TicketCreated,
    TicketStatusChanged,
    TicketUpdated,
)
from shared.events.envelope import EventData
from shared.storage import retry_on_stale

SYSTEM = "system"
PROJECTED_FIELDS = ("subject", "status")


class RequesterNotLinked(Exception):
    """Still racing after every retry; the event is delivered again later."""


def link_requester(ticket: TicketCreated, deps: Dependencies, correlation_id: str) -> str | None:
    """Find the requester by address, or create them, and link the ticket to them.

    Idempotent: a repeated event finds the ticket linked and does nothing (None). Two tickets
    from one new address at once: the address item lets one create the contact; the other's
    transaction is cancelled on it, and it links to the contact the first created.
    """
    address = email_key(ticket.requester.email)
    created_at = datetime.fromisoformat(ticket.created_at)

    def attempt() -> str | None:
        owner = deps.repository.by_email(address)
        now = deps.clock.now()
        writes: list[Write] = []
        events: list[EventData] = []
        if owner is None:
            owner = Contact(
                id=str(uuid.uuid4()),
                name=ticket.requester.name or None,
                emails=[address],
                origin="ticket",
                created_at=now,
                updated_at=now,
            )
            writes.append(Write(owner, None))
            events.append(created(owner, SYSTEM))
        events.append(ContactLinked(ticket_id=ticket.ticket_id, contact_id=owner.id))
        summary = TicketSummary(
            ticket_id=ticket.ticket_id,
            number=ticket.number,
            subject=ticket.subject,
            status=ticket.status,
            created_at=created_at,
            contact_id=owner.id,
            department_id=ticket.department_id,
        )
        try:
            deps.repository.commit(
                Commit(writes, outgoing(events, now, correlation_id), link_ticket=summary)
            )
        except TicketAlreadyLinked:
            return None
        return owner.id

    # EmailTaken: created a moment ago by a concurrent event; the next attempt links to it.
    return retry_on_stale(attempt, EmailTaken, RequesterNotLinked(ticket.ticket_id))


def ticket_updated(event: TicketUpdated, deps: Dependencies) -> None:
    at = datetime.fromisoformat(event.updated_at)
    changes = {c.field: str(c.new) for c in event.changes if c.field in PROJECTED_FIELDS}
    if changes:
        deps.repository.project_ticket(event.ticket_id, changes, at)
    for change in event.changes:
        if change.field == "department_id":
            department = None if change.new is None else str(change.new)
            deps.repository.project_department(event.ticket_id, department, at)


def ticket_status_changed(event: TicketStatusChanged, deps: Dependencies) -> None:
    deps.repository.project_ticket(
        event.ticket_id, {"status": event.new}, datetime.fromisoformat(event.changed_at)
    )
