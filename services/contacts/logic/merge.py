"""Merging two contacts into one (admins, or the CRM when it merged the two records).

The rules, so the result is predictable:
- the survivor keeps its id, its primary address and every field it has; a field it lacks
  (name, phone, organisation) it takes from the merged contact;
- when only one of them is linked to the CRM, the survivor takes that link, and the CRM-owned
  fields (name, phone, organisation) come from the linked one; two different CRM records are
  refused: merge them in the CRM, whose merge event then merges them here;
- addresses: the survivor's, then the merged contact's; tags: both; notes: the survivor's, then
  the merged contact's under a line that says where they came from;
- the merged contact keeps no data, only `merged_into`: reading it points at the survivor, and
  its tickets move to the survivor (here, and in the tickets service, on ContactMerged).
"""

from __future__ import annotations

from services.contacts.logic.contact import MAX_EMAILS, Contact
from services.contacts.logic.dependencies import Dependencies
from services.contacts.logic.manage_contacts import admin_only, find_contact
from services.contacts.logic.recording import bump, outgoing, updated
from services.contacts.logic.repository import Commit, StaleContact, Write
from shared.errors import Conflict, FieldError, Invalid
from shared.events.catalogue import ContactMerged
from shared.identity import Caller
from shared.storage import retry_on_stale


def merged_fields(survivor: Contact, merged: Contact) -> Contact:
    if survivor.crm and merged.crm and survivor.crm.key != merged.crm.key:
        raise Conflict(
            f"Both contacts are linked to different {survivor.crm.provider} records; merge them "
            "there and the contacts follow."
        )
    emails = list(dict.fromkeys([*survivor.emails, *merged.emails]))
    if len(emails) > MAX_EMAILS:
        message = f"together they have {len(emails)} addresses, more than {MAX_EMAILS}"
        raise Invalid(f"into: {message}", [FieldError("into", message)])
    owner, other = (merged, survivor) if merged.crm and not survivor.crm else (survivor, merged)
    notes = [n for n in (survivor.notes, merged.notes) if n]
    if survivor.notes and merged.notes:
        notes = [survivor.notes, f"--- merged from contact {merged.id} ---\n{merged.notes}"]
    return survivor.model_copy(
        update={
            "name": owner.name or other.name,
            "phone": owner.phone or other.phone,
            "organisation": owner.organisation or other.organisation,
            "emails": emails,
            "tags": sorted({*survivor.tags, *merged.tags}),
            "notes": "\n\n".join(notes) or None,
            "crm": owner.crm or other.crm,
            "crm_unlinked": survivor.crm_unlinked or merged.crm_unlinked,
            "bounced": {**merged.bounced, **survivor.bounced},
        }
    )


def merge_contacts(
    merged_id: str,
    survivor_id: str,
    actor: str,
    deps: Dependencies,
    correlation_id: str | None,
    *,
    merged_in_crm: bool = False,
) -> Contact:
    """Merge `merged_id` into `survivor_id`; returns the survivor as it is now.

    `merged_in_crm`: the CRM merged the two records, so the merged contact's record is gone and
    the survivor keeps its own link."""
    if merged_id == survivor_id:
        message = "a contact cannot be merged into itself"
        raise Invalid(f"into: {message}", [FieldError("into", message)])

    def attempt() -> Contact:
        merged = find_contact(merged_id, deps)
        survivor = find_contact(survivor_id, deps)
        now = deps.clock.now()
        giving = merged.model_copy(update={"crm": None}) if merged_in_crm else merged
        new_survivor = bump(merged_fields(survivor, giving), now)
        tombstone = bump(merged.emptied(merged_into=survivor.id), now)
        event = ContactMerged(merged_contact_id=merged.id, surviving_contact_id=survivor.id)
        deps.repository.commit(
            Commit(
                # The merged contact first: its addresses are given up before they are taken.
                [Write(tombstone, merged), Write(new_survivor, survivor)],
                outgoing([event, updated(new_survivor, actor)], now, correlation_id),
            )
        )
        return new_survivor

    return retry_on_stale(
        attempt,
        StaleContact,
        Conflict(f"Contacts {merged_id} and {survivor_id} are being changed; try again."),
    )


def merge_by_hand(
    merged_id: str, survivor_id: str, caller: Caller, deps: Dependencies, correlation_id: str | None
) -> Contact:
    admin_only(caller, "merge")
    return merge_contacts(merged_id, survivor_id, caller.email, deps, correlation_id)


def move_tickets(merged_id: str, survivor_id: str, deps: Dependencies) -> int:
    """Move the ticket summaries of a merged-away contact to its survivor (on ContactMerged:
    the event is stored with the merge, so the move happens even if the merge's process dies)."""
    ticket_ids = deps.repository.ticket_ids(merged_id)
    deps.repository.move_tickets(ticket_ids, survivor_id)
    return len(ticket_ids)
