"""Contacts by hand: create, read, change, erase, list and search. Agents read, create and
change; only admins erase (and merge, in `merge`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from services.contacts.logic.contact import (
    CRM_OWNED,
    SEARCH_PREFIX_LENGTH,
    Contact,
    ContactErased,
    ContactMoved,
    CrmOwned,
    TicketSummary,
    distinct_emails,
    email_key,
    phone_field,
    search_form,
)
from services.contacts.logic.dependencies import Dependencies
from services.contacts.logic.recording import bump, change_contact, created, outgoing
from services.contacts.logic.repository import Commit, EmailTaken, Write
from shared.clock import isoformat
from shared.errors import Conflict, FieldError, Forbidden, Invalid, not_found
from shared.events.catalogue import ContactErased as ContactErasedEvent
from shared.identity import Caller
from shared.storage import Page

UNSET: Any = object()  # a field left out of a patch, as opposed to one sent as null


@dataclass(frozen=True)
class ContactFields:
    """A contact's fields from a request. In a patch, UNSET means "leave as it is"."""

    name: str | None = UNSET
    emails: list[str] = UNSET
    phone: str | None = UNSET
    organisation: str | None = UNSET
    notes: str | None = UNSET
    tags: list[str] = UNSET

    def given(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if value is not UNSET}


def _normalised(fields: dict[str, Any]) -> dict[str, Any]:
    """Addresses lower-cased and unique, the phone in E.164, blank text as none."""
    values = dict(fields)
    if "emails" in values:
        values["emails"] = distinct_emails(values["emails"] or [])
    if values.get("phone"):
        values["phone"] = phone_field(values["phone"])
    for name in ("name", "phone", "organisation", "notes"):
        if name in values and not values[name]:
            values[name] = None
    if "tags" in values:
        values["tags"] = sorted(set(values["tags"] or []))
    return values


def _taken(address: str) -> Conflict:
    return Conflict(
        f"{address} is already an address of another contact.",
        [FieldError("emails", f"{address} belongs to another contact")],
    )


def create_contact(
    fields: ContactFields, caller: Caller, deps: Dependencies, correlation_id: str | None = None
) -> Contact:
    values = _normalised(fields.given())
    if not values.get("name") and not values.get("emails"):
        message = "give a name or at least one address"
        raise Invalid(f"name: {message}", [FieldError("name", message)])
    now = deps.clock.now()
    contact = Contact(id=str(uuid.uuid4()), created_at=now, updated_at=now, **values)
    try:
        deps.repository.commit(
            Commit(
                [Write(contact, None)],
                outgoing([created(contact, caller.email)], now, correlation_id),
            )
        )
    except EmailTaken as taken:
        raise _taken(taken.address) from None
    return contact


def _readable(contact: Contact | None, contact_id: str) -> Contact:
    if contact is None:
        raise not_found("contact", contact_id)
    if contact.merged_into is not None:
        raise ContactMoved(contact_id, contact.merged_into)
    if contact.erased_at is not None:
        raise ContactErased(f"Contact {contact_id} was erased on {isoformat(contact.erased_at)}.")
    return contact


def find_contact(contact_id: str, deps: Dependencies) -> Contact:
    """An active contact; a merged-away one answers with a pointer to its survivor."""
    return _readable(deps.repository.get(contact_id), contact_id)


def update_contact(
    contact_id: str,
    fields: ContactFields,
    caller: Caller,
    deps: Dependencies,
    correlation_id: str | None = None,
) -> Contact:
    values = _normalised(fields.given())

    def change(current: Contact) -> Contact | None:
        _readable(current, contact_id)
        if current.crm is not None:
            refused = [n for n in CRM_OWNED if n in values and values[n] != getattr(current, n)]
            if refused:
                names = ", ".join(refused)
                raise CrmOwned(
                    f"{names}: kept in {current.crm.provider} for this contact; change "
                    "them there. Notes and tags can be changed here.",
                    [FieldError(n, f"owned by {current.crm.provider}") for n in refused],
                )
        changed = current.model_copy(update=values)
        # A bounce is about an address: one taken off the contact takes its flag with it.
        changed.bounced = {a: b for a, b in changed.bounced.items() if a in changed.emails}
        if not changed.name and not changed.emails:
            message = "a contact keeps a name or at least one address"
            raise Invalid(f"emails: {message}", [FieldError("emails", message)])
        return changed

    try:
        return change_contact(
            contact_id, change, deps, actor=caller.email, correlation_id=correlation_id
        )
    except EmailTaken as taken:
        raise _taken(taken.address) from None


def admin_only(caller: Caller, action: str) -> None:
    if not caller.is_admin:
        raise Forbidden(f"Only admins {action} contacts.")


def erase_contact(
    contact_id: str, caller: Caller, deps: Dependencies, correlation_id: str | None = None
) -> Contact:
    """Remove the person's data and keep an empty record (so the id never answers 404 as if it
    never was). Their tickets stay; the tickets service anonymises their requester on the event.
    The summaries of those tickets stay too: they are the tickets' data, not the person's.
    The CRM link (provider and record id, no personal data) stays, so that the next update of
    that record from the CRM does not bring the person back."""
    admin_only(caller, "erase")
    current = find_contact(contact_id, deps)
    now = deps.clock.now()
    erased = bump(current.emptied(crm=current.crm, erased_at=now), now)
    event = ContactErasedEvent(contact_id=contact_id, actor=caller.email, erased_at=isoformat(now))
    deps.repository.commit(Commit([Write(erased, current)], outgoing([event], now, correlation_id)))
    return erased


def list_contacts(deps: Dependencies, limit: int, cursor: str | None) -> Page[Contact]:
    return deps.repository.list_page(limit, cursor)


def search_contacts(
    deps: Dependencies,
    *,
    email: str | None = None,
    q: str | None = None,
    phone: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[Contact]:
    """Exactly one way to search: by a whole address, a prefix of a name or address, a phone."""
    given = [name for name, value in (("email", email), ("q", q), ("phone", phone)) if value]
    if len(given) != 1:
        message = "give exactly one of email, q, phone"
        raise Invalid(message, [FieldError(f"query.{name}", message) for name in given or ["q"]])
    if email:
        found = deps.repository.by_email(email_key(email))
        return Page([found] if found is not None and found.active else [], None)
    if phone:
        return deps.repository.by_phone(phone_field(phone, "query.phone"), limit, cursor)
    prefix = search_form(q or "")
    if len(prefix) < SEARCH_PREFIX_LENGTH:
        message = f"at least {SEARCH_PREFIX_LENGTH} letters or digits"
        raise Invalid(f"query.q: {message}", [FieldError("query.q", message)])
    return deps.repository.search(prefix, limit, cursor)


def tickets_of_contact(
    contact_id: str, caller: Caller, deps: Dependencies, limit: int, cursor: str | None
) -> Page[TicketSummary]:
    """The contact's tickets that the caller may see, by the tickets service's rule (a page may
    hold fewer than `limit`; the cursor goes on)."""
    contact, directory = deps.repository.get_with_departments(contact_id)
    _readable(contact, contact_id)
    page = deps.repository.tickets(contact_id, limit, cursor)
    visible = [
        ticket
        for ticket in page.items
        if directory.may_see(caller, ticket.department_id, deps.triage_department)
    ]
    return Page(visible, page.cursor)
