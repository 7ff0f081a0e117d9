"""The events a change of contacts announces, and the read-change-write of one contact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from services.contacts.logic.contact import Contact
from services.contacts.logic.dependencies import Dependencies
from services.contacts.logic.repository import Commit, StaleContact, Write
from shared.clock import isoformat
from shared.errors import Conflict, not_found
from shared.events.catalogue import ContactCreated, ContactSnapshot, ContactUpdated, CrmLink
from shared.events.envelope import EventData, OutgoingEvent
from shared.storage import retry_on_stale

S = TypeVar("S", bound=ContactSnapshot)


def snapshot(kind: type[S], contact: Contact, actor: str) -> S:
    crm = contact.crm
    return kind(
        contact_id=contact.id,
        name=contact.name,
        emails=contact.emails,
        phone=contact.phone,
        organisation=contact.organisation,
        tags=contact.tags,
        crm=CrmLink(provider=crm.provider, id=crm.id, url=crm.url) if crm else None,
        actor=actor,
        version=contact.version,
        at=isoformat(contact.updated_at),
    )


def created(contact: Contact, actor: str) -> ContactCreated:
    return snapshot(ContactCreated, contact, actor)


def updated(contact: Contact, actor: str) -> ContactUpdated:
    return snapshot(ContactUpdated, contact, actor)


def outgoing(
    events: list[EventData], at: datetime, correlation_id: str | None
) -> list[OutgoingEvent]:
    return [OutgoingEvent.of(event, at, correlation_id) for event in events]


def bump(contact: Contact, now: datetime) -> Contact:
    """The contact's next version, stamped."""
    return contact.model_copy(update={"version": contact.version + 1, "updated_at": now})


def change_contact(
    contact_id: str,
    change: Callable[[Contact], Contact | None],
    deps: Dependencies,
    *,
    actor: str,
    correlation_id: str | None = None,
) -> Contact:
    """Read, change, write with the version read as condition; again if someone wrote between.

    `change` returns the changed contact (not yet bumped), or None when there is nothing to do.
    """

    def attempt() -> Contact:
        current = deps.repository.get(contact_id)
        if current is None:
            raise not_found("contact", contact_id)
        changed = change(current)
        if changed is None or changed == current:
            return current
        now = deps.clock.now()
        new = bump(changed, now)
        deps.repository.commit(
            Commit([Write(new, current)], outgoing([updated(new, actor)], now, correlation_id))
        )
        return new

    return retry_on_stale(
        attempt,
        StaleContact,
        Conflict(f"Contact {contact_id} is being changed by others; try again."),
    )
