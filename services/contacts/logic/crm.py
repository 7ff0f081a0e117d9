"""Contacts from the CRM: its records create, update, unlink and merge contacts here.

A record is matched first by its CRM id, then by its addresses (a contact not linked to another
record). The CRM owns name, addresses, phone and organisation of the contacts linked to it; its
events carry its own change time, and one older than what was applied is ignored.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from services.contacts.logic.contact import (
    MAX_EMAILS,
    Contact,
    Crm,
    CrmUnlinked,
    InvalidPhone,
    crm_key,
    e164,
    email_key,
)
from services.contacts.logic.dependencies import Dependencies
from services.contacts.logic.merge import merge_contacts
from services.contacts.logic.recording import (
    bump,
    change_contact,
    created,
    outgoing,
    updated,
)
from services.contacts.logic.repository import Commit, CrmTaken, EmailTaken, StaleContact, Write
from shared.events.catalogue import CrmContactDeleted, CrmContactMerged, CrmContactUpserted
from shared.events.envelope import EventData
from shared.storage import retry_on_stale

logger = logging.getLogger(__name__)


class CrmNotApplied(Exception):
    """Still racing after every retry; the event is delivered again later."""


def _actor(provider: str) -> str:
    return f"crm:{provider}"


def _phone(record: CrmContactUpserted) -> str | None:
    if not record.phone:
        return None
    try:
        return e164(record.phone)
    except InvalidPhone:
        # The CRM's data is the CRM's: a number it accepted is not a reason to stop the sync.
        logger.warning("CRM phone number is not valid; left out", extra={"crm_id": record.crm_id})
        return None


def _match(record: CrmContactUpserted, emails: list[str], deps: Dependencies) -> Contact | None:
    linked = deps.repository.by_crm(crm_key(record.provider, record.crm_id))
    if linked is not None:
        return linked
    owners = deps.repository.email_owners(emails)
    for address in emails:
        if address in owners:
            candidate = deps.repository.get(owners[address])
            if candidate is not None and candidate.active and candidate.crm is None:
                return candidate
    return None


def upsert_from_crm(record: CrmContactUpserted, deps: Dependencies, correlation_id: str) -> str:
    """Create or update the contact of a CRM record; returns its id."""
    key = crm_key(record.provider, record.crm_id)
    at = datetime.fromisoformat(record.updated_at)
    # The CRM may hold more addresses than a contact here: the first ones are kept.
    wanted = list(dict.fromkeys(email_key(a) for a in record.emails))[:MAX_EMAILS]
    phone = _phone(record)

    def attempt() -> str:
        contact = _match(record, wanted, deps)
        if contact is not None and contact.erased_at is not None:
            return contact.id  # erased here: the CRM's copy does not bring the person back
        applied = contact.crm.updated_at if contact and contact.crm else None
        if contact is not None and applied is not None and at <= applied:
            return contact.id  # an older (or repeated) state of the record
        owners = deps.repository.email_owners(wanted)
        mine = contact.id if contact else None
        # An address another contact already has stays with it (merge them to bring it over).
        emails = [a for a in wanted if owners.get(a, mine) == mine]
        if len(emails) < len(wanted):
            logger.warning("CRM addresses kept by other contacts", extra={"crm_id": record.crm_id})
        fields = {
            "name": record.name or None,
            "emails": emails,
            "phone": phone,
            "organisation": record.organisation or None,
            "crm": Crm(provider=record.provider, id=record.crm_id, url=record.url, updated_at=at),
            "crm_unlinked": None,
        }
        now = deps.clock.now()
        if contact is None:
            new = Contact(
                id=str(uuid.uuid4()), origin="crm", created_at=now, updated_at=now, **fields
            )
            write = Write(new, None)
            event: EventData = created(new, _actor(record.provider))
        else:
            new = bump(contact.model_copy(update=fields), now)
            write, event = Write(new, contact), updated(new, _actor(record.provider))
        deps.repository.commit(Commit([write], outgoing([event], now, correlation_id)))
        return new.id

    # Someone wrote meanwhile: match again.
    return retry_on_stale(attempt, (StaleContact, EmailTaken, CrmTaken), CrmNotApplied(key))


def delete_from_crm(record: CrmContactDeleted, deps: Dependencies, correlation_id: str) -> None:
    """Unlink and mark the contact; it and its tickets stay, its fields become editable here."""
    contact = deps.repository.by_crm(crm_key(record.provider, record.crm_id))
    if contact is None:
        return
    unlinked = CrmUnlinked(
        provider=record.provider, id=record.crm_id, at=datetime.fromisoformat(record.deleted_at)
    )
    change_contact(
        contact.id,
        lambda current: (
            current.model_copy(update={"crm": None, "crm_unlinked": unlinked})
            if current.crm is not None
            and current.crm.key == crm_key(record.provider, record.crm_id)
            else None
        ),
        deps,
        actor=_actor(record.provider),
        correlation_id=correlation_id,
    )


def merge_from_crm(record: CrmContactMerged, deps: Dependencies, correlation_id: str) -> None:
    """The CRM merged two records: merge their contacts, or move the link if only one is here."""
    merged = deps.repository.by_crm(crm_key(record.provider, record.crm_id))
    if merged is None:
        return
    surviving_key = crm_key(record.provider, record.surviving_crm_id)
    survivor = deps.repository.by_crm(surviving_key)
    if survivor is None:
        link = Crm(provider=record.provider, id=record.surviving_crm_id)
        change_contact(
            merged.id,
            lambda current: current.model_copy(update={"crm": link}),
            deps,
            actor=_actor(record.provider),
            correlation_id=correlation_id,
        )
        return
    if survivor.id != merged.id:
        merge_contacts(
            merged.id,
            survivor.id,
            _actor(record.provider),
            deps,
            correlation_id,
            merged_in_crm=True,
        )
