"""The contacts service's rules on the in-memory storage: contacts made and changed by hand with
one owner per address, list and search, requesters found or created from tickets, ticket lists
that follow the tickets' events in any order, merges, erasure, hard bounces, contacts from the
CRM and the fields it owns, what each change announces, and who sees which tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.contacts.logic.contact import ContactErased, ContactMoved, CrmOwned
from shared.errors import Conflict, FieldError, Invalid
from shared.events.catalogue import CrmContactDeleted, CrmContactMerged
from shared.identity import Caller
from tests.contacts_desk import (
    AGENT,
    T0,
    Desk,
    crm_record,
    iso,
    status_changed,
    ticket_created,
    ticket_updated_event,
)

DANA: dict[str, Any] = {
    "name": "Dana Scully",
    "emails": ["Dana@Client.example.org", "dscully@fbi.example.gov"],
    "phone": "+1 (202) 555-0143",
    "organisation": "FBI",
    "notes": "Prefers mail to calls.",
    "tags": ["vip", "vip", "gov"],
}


@pytest.fixture
def desk() -> Desk:
    return Desk()


def fields_of(error: Invalid | Conflict | CrmOwned) -> list[str]:
    return sorted(e.field for e in error.errors or [] if isinstance(e, FieldError))


# --- by hand: one address, one contact ------------------------------------------------------------


def test_a_change_to_an_address_of_another_contact_is_refused_and_changes_nothing(
    desk: Desk,
) -> None:
    dana = desk.create(**DANA)
    fox = desk.create(name="Fox Mulder", emails=["fox@fbi.example.gov"])
    with pytest.raises(Conflict) as refused:
        desk.update(fox.id, emails=["fox@fbi.example.gov", "DSCULLY@fbi.example.gov"])
    assert "dscully@fbi.example.gov" in refused.value.detail
    assert fields_of(refused.value) == ["emails"]
    assert desk.get(fox.id) == fox
    assert desk.find_one(email="dscully@fbi.example.gov").id == dana.id


def test_an_address_given_up_is_free_for_another_contact(desk: Desk) -> None:
    dana = desk.create(**DANA)
    desk.update(dana.id, emails=["dana@client.example.org"])
    other = desk.create(name="Walter Skinner", emails=["dscully@fbi.example.gov"])
    assert desk.find_one(email="dscully@fbi.example.gov").id == other.id


def test_a_change_may_not_leave_a_contact_without_name_and_address(desk: Desk) -> None:
    dana = desk.create(name="Dana Scully")
    with pytest.raises(Invalid) as refused:
        desk.update(dana.id, name=None)
    assert fields_of(refused.value) == ["emails"]
    assert desk.get(dana.id) == dana


# --- list and search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["dana@client.example.org", "DANA@Client.Example.ORG", "dscully@fbi.example.gov"]
)
def test_search_by_exact_address_ignores_case(desk: Desk, query: str) -> None:
    dana = desk.create(**DANA)
    desk.create(name="Dana Other", emails=["dana@client.example.org.uk"])
    assert [c.id for c in desk.find(email=query)] == [dana.id]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("da", ["Dana Scully", "Dan Brown"]),
        ("scu", ["Dana Scully"]),  # a later word of the name
        ("dana sc", ["Dana Scully"]),
        ("ZOE", ["Zoë O'Neil"]),  # accents and case do not matter
        ("oneil", ["Zoë O'Neil"]),
        ("dscully@", ["Dana Scully"]),  # the start of an address
        ("xyz", []),
    ],
)
def test_search_by_prefix_of_name_or_address(desk: Desk, query: str, expected: list[str]) -> None:
    desk.create(**DANA)
    desk.create(name="Dan Brown", emails=["brown@example.org"])
    desk.create(name="Zoë O'Neil")
    assert sorted(c.name or "" for c in desk.find(q=query)) == sorted(expected)


def test_a_contact_found_by_several_terms_is_listed_once_across_pages(desk: Desk) -> None:
    # Given Dana, found by "dan" four ways (her name, two words of it, her address), among others
    dana = desk.create(name="Dana Danes", emails=["dana@example.org"])
    others = [desk.create(name=f"Dan {surname}").id for surname in ("Brown", "Carter")]
    assert len(desk.find(q="dan", limit=10)) == 3
    # When the search is read one item at a time
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        page = desk.repository.search("dan", 1, cursor)
        seen += [c.id for c in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    # Then every contact is listed exactly once
    assert sorted(seen) == sorted([dana.id, *others])


def test_search_by_phone_in_any_form(desk: Desk) -> None:
    dana = desk.create(**DANA)
    desk.create(name="Fox Mulder", phone="+1 202 555 0199")
    for form in ("+12025550143", "+1 202-555-0143", "+1 (202) 555 0143"):
        assert [c.id for c in desk.find(phone=form)] == [dana.id]


# --- ticket requesters ----------------------------------------------------------------------------


def test_a_ticket_from_a_known_address_links_to_the_existing_contact(desk: Desk) -> None:
    # Given Carol, created by hand with a second address
    carol = desk.create(name="Carol D.", emails=["carol@home.example.org", "carol@client.org"])
    # When a ticket comes from her second address, in another case
    ticket = ticket_created("Carol@Client.org", "Carol Danvers")
    desk.ticket(ticket)
    # Then no contact was added, the ticket is hers, and her name stays as the agent wrote it
    assert desk.find() == [desk.get(carol.id)]
    assert [t.ticket_id for t in desk.tickets(carol.id)] == [ticket.ticket_id]
    assert desk.get(carol.id).name == "Carol D."
    assert desk.announced("ContactLinked") == [
        {"ticket_id": ticket.ticket_id, "contact_id": carol.id}
    ]


def test_a_new_requester_is_created_announced_and_linked_once_however_often_it_comes(
    desk: Desk,
) -> None:
    # Given TicketCreated of a new requester, delivered twice under two event ids
    created = ticket_created("eve@client.example.org", "Eve")
    desk.ticket(created, created)
    # Then there is one contact, made from a ticket, with the ticket once
    eve = desk.find_one(q="eve")
    assert (eve.name, eve.origin, eve.version) == ("Eve", "ticket", 1)
    assert [t.ticket_id for t in desk.tickets(eve.id)] == [created.ticket_id]
    [announced] = desk.announced("ContactCreated")
    assert (announced["actor"], announced["name"], announced["contact_id"]) == (
        "system",
        "Eve",
        eve.id,
    )
    assert desk.announced("ContactLinked") == [
        {"ticket_id": created.ticket_id, "contact_id": eve.id}
    ]


def test_a_requester_without_a_name_becomes_a_contact_found_by_address(desk: Desk) -> None:
    desk.ticket(ticket_created("noname@client.example.org"))
    contact = desk.find_one(q="noname")
    assert contact.name is None
    assert contact.primary_email == "noname@client.example.org"


def test_the_ticket_list_is_newest_first_and_pages(desk: Desk) -> None:
    # Given five tickets of one requester, opened an hour apart
    desk.ticket(
        *(
            ticket_created("gus@client.example.org", number=n, created_at=T0 + timedelta(hours=n))
            for n in range(1, 6)
        )
    )
    gus = desk.find_one(q="gus")
    # When the list is read two at a time
    numbers: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        page = desk.repository.tickets(gus.id, 2, cursor)
        numbers += [t.number for t in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    # Then every ticket came once, newest first
    assert numbers == ["TKT-0005", "TKT-0004", "TKT-0003", "TKT-0002", "TKT-0001"]


def test_an_older_ticket_event_arriving_late_changes_nothing(desk: Desk) -> None:
    # Given a ticket, then its status changed at 10:00 to resolved
    created = ticket_created("jon@client.example.org")
    desk.ticket(
        created, status_changed(created, "in_progress", "resolved", T0 + timedelta(hours=1))
    )
    # When the change of 09:30 to in_progress arrives only now
    late = ticket_updated_event(
        created,
        T0 + timedelta(minutes=30),
        status=("open", "in_progress"),
        subject=("Cannot log in", "Locked out"),
    )
    desk.ticket(late)
    # Then the newer status stands
    [summary] = desk.tickets(desk.find_one(q="jon").id)
    assert (summary.status, summary.subject) == ("resolved", "Cannot log in")


def test_a_ticket_change_arriving_before_the_ticket_is_kept(desk: Desk) -> None:
    # Given a status change announced before the ticket's creation reached the service
    created = ticket_created("kim@client.example.org")
    desk.ticket(status_changed(created, "open", "waiting_on_client", T0 + timedelta(minutes=5)))
    desk.ticket(created)
    # Then the ticket is listed with the later status
    [summary] = desk.tickets(desk.find_one(q="kim").id)
    assert (summary.number, summary.status) == ("TKT-0001", "waiting_on_client")


# --- who sees which tickets -----------------------------------------------------------------------


def test_the_triage_department_sees_tickets_without_one() -> None:
    desk = Desk(triage_department="triage")
    desk.department("triage", "bob@example.com")
    desk.ticket(ticket_created("carol@client.example.org", subject="Hello?"))
    carol = desk.find_one(email="carol@client.example.org")
    assert [t.subject for t in desk.tickets(carol.id, Caller("bob@example.com", "agent"))] == [
        "Hello?"
    ]
    assert desk.tickets(carol.id, AGENT) == []


def test_a_move_is_kept_whatever_other_change_arrives_before_it(desk: Desk) -> None:
    desk.department("billing", AGENT.email)
    desk.department("sales", "bob@example.com")
    # Given a Sales ticket moved to Billing at 09:30 and resolved at 10:00
    created = ticket_created("jon@client.example.org", department_id="sales")
    moved = ticket_updated_event(
        created, T0 + timedelta(minutes=30), department_id=("sales", "billing")
    )
    resolved = status_changed(created, "open", "resolved", T0 + timedelta(hours=1))
    # When the resolution arrives first, and the move after it
    desk.ticket(created, resolved, moved)
    # Then the ticket is Billing's: Alice sees it, Bob does not
    jon = desk.find_one(email="jon@client.example.org")
    assert len(desk.tickets(jon.id, AGENT)) == 1
    assert desk.tickets(jon.id, Caller("bob@example.com", "agent")) == []
    [summary] = desk.tickets(jon.id)
    assert (summary.department_id, summary.status) == ("billing", "resolved")


# --- merging --------------------------------------------------------------------------------------


def test_a_merge_combines_the_two_by_its_rules(desk: Desk) -> None:
    # Given two records of one person, each knowing different things
    survivor = desk.create(
        name="Dana Scully", emails=["dana@client.example.org"], notes="Prefers mail.", tags=["vip"]
    )
    merged = desk.create(
        name="D. Scully",
        emails=["dscully@fbi.example.gov", "DANA@client.example.org.uk"],
        phone="+1 202 555 0143",
        organisation="FBI",
        notes="Met at the conference.",
        tags=["gov"],
    )
    # When an admin merges the second into the first
    result = desk.merge(merged.id, survivor.id)
    # Then the survivor keeps its id, name and primary address, and gains what it lacked
    assert result.id == survivor.id
    assert result.name == "Dana Scully"
    assert result.emails == [
        "dana@client.example.org",
        "dscully@fbi.example.gov",
        "dana@client.example.org.uk",
    ]
    assert (result.phone, result.organisation) == ("+12025550143", "FBI")
    assert result.tags == ["gov", "vip"]
    assert result.notes == (
        f"Prefers mail.\n\n--- merged from contact {merged.id} ---\nMet at the conference."
    )
    assert result.version == survivor.version + 1
    assert desk.get(survivor.id) == result
    # And every address, the name of either, and the phone find the survivor only
    for address in result.emails:
        assert [c.id for c in desk.find(email=address)] == [survivor.id]
    assert [c.id for c in desk.find(q="scully")] == [survivor.id]
    assert [c.id for c in desk.find(phone="+12025550143")] == [survivor.id]
    assert [c.id for c in desk.find()] == [survivor.id]
    # And the merged-away id points at the survivor
    with pytest.raises(ContactMoved) as moved:
        desk.get(merged.id)
    assert moved.value.survivor == survivor.id


def test_a_merged_away_contacts_tickets_and_next_tickets_go_to_the_survivor(desk: Desk) -> None:
    desk.ticket(
        ticket_created("eve@client.example.org", number=1),
        ticket_created("eve.b@client.example.org", number=2),
    )
    eve, other = desk.find_one(q="eve@"), desk.find_one(q="eve.b")
    desk.merge(other.id, eve.id)
    assert sorted(t.number for t in desk.tickets(eve.id)) == ["TKT-0001", "TKT-0002"]
    desk.ticket(ticket_created("eve.b@client.example.org", number=7))
    assert len(desk.tickets(eve.id)) == 3


@pytest.mark.parametrize("who", ["merged", "survivor"])
def test_a_crm_link_goes_to_the_survivor_with_the_fields_the_crm_owns(desk: Desk, who: str) -> None:
    # Given a contact from the CRM and one made by hand
    desk.crm(crm_record("501"))
    linked = desk.find_one(email="dana@client.example.org")
    by_hand = desk.create(name="Dana (desk)", emails=["dana@desk.example.org"], notes="Desk notes")
    merged, survivor = (linked, by_hand) if who == "merged" else (by_hand, linked)
    # When they are merged, either way round
    result = desk.merge(merged.id, survivor.id)
    # Then the survivor is linked to the CRM record and has the CRM's name, phone, organisation
    assert result.crm is not None
    assert result.crm.id == "501"
    assert (result.name, result.phone, result.organisation) == (
        "Dana Scully",
        "+12025550143",
        "FBI",
    )
    assert set(result.emails) == {"dana@client.example.org", "dana@desk.example.org"}
    assert result.notes == "Desk notes"
    # And the next CRM update finds the survivor by the CRM id
    desk.crm(crm_record("501", minutes=5, name="Dana K. Scully"))
    assert desk.get(survivor.id).name == "Dana K. Scully"


def test_two_contacts_of_different_crm_records_are_not_merged_here(desk: Desk) -> None:
    desk.crm(crm_record("501"), crm_record("502", emails=["fox@fbi.example.gov"], name="Fox"))
    dana, fox = desk.find_one(q="dana"), desk.find_one(q="fox")
    with pytest.raises(Conflict) as refused:
        desk.merge(fox.id, dana.id)
    assert "merge them there" in refused.value.detail
    assert (desk.get(fox.id), desk.get(dana.id)) == (fox, dana)


def test_a_merge_that_would_hold_too_many_addresses_is_refused(desk: Desk) -> None:
    first = desk.create(name="A", emails=[f"a{n}@example.org" for n in range(6)])
    second = desk.create(name="B", emails=[f"b{n}@example.org" for n in range(6)])
    with pytest.raises(Invalid) as refused:
        desk.merge(second.id, first.id)
    assert fields_of(refused.value) == ["into"]
    assert (desk.get(first.id), desk.get(second.id)) == (first, second)


# --- erasure --------------------------------------------------------------------------------------


def test_an_erased_contact_is_found_by_nothing_and_announced_without_personal_data(
    desk: Desk,
) -> None:
    gina = desk.create(
        name="Gina Linetti", emails=["gina@client.example.org"], phone="+442071838750"
    )
    desk.ticket(ticket_created("gina@client.example.org"))
    erased = desk.erase(gina.id)
    assert erased.erased_at == T0
    with pytest.raises(ContactErased):
        desk.get(gina.id)
    with pytest.raises(ContactErased):  # her tickets' list too
        desk.tickets(gina.id)
    assert desk.find(email="gina@client.example.org") == []
    assert desk.find(q="gina") == []
    assert desk.find(phone="+442071838750") == []
    assert desk.find() == []
    # The summaries of her tickets stay: they are the tickets' data
    assert len(desk.repository.ticket_ids(gina.id)) == 1
    [announced] = desk.announced("ContactErased")
    assert announced["contact_id"] == gina.id
    assert "gina" not in str(announced).lower()


def test_an_erased_address_is_free_and_a_new_ticket_from_it_starts_a_new_contact(
    desk: Desk,
) -> None:
    dana = desk.create(name="Dana Scully", emails=["dana@client.example.org"])
    desk.erase(dana.id)
    desk.ticket(ticket_created("dana@client.example.org", "Dana", number=2))
    again = desk.find_one(email="dana@client.example.org")
    assert again.id != dana.id
    assert desk.create(name="Someone else", emails=["other@client.example.org"]).id


def test_the_crm_does_not_bring_an_erased_contact_back(desk: Desk) -> None:
    # Given a contact from the CRM, erased here
    desk.crm(crm_record("501"))
    dana = desk.find_one(email="dana@client.example.org")
    desk.erase(dana.id)
    # When the CRM announces a newer state of the same record
    desk.crm(crm_record("501", minutes=30))
    # Then nobody is created or filled in again
    assert desk.find() == []
    assert desk.find(email="dana@client.example.org") == []
    with pytest.raises(ContactErased):
        desk.get(dana.id)


# --- bounces --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "permanent"),
    [("bounce", False), ("failed", False), ("rejected", True)],
    ids=["soft-bounce", "send-failed", "ses-rejected"],
)
def test_only_a_hard_bounce_flags_an_address(desk: Desk, kind: str, permanent: bool) -> None:
    eve = desk.create(name="Eve", emails=["eve@client.example.org"])
    assert desk.bounce("eve@client.example.org", kind, permanent) == []
    assert desk.get(eve.id).bounced == {}


def test_a_hard_bounce_flags_the_address_once_and_leaves_with_it(desk: Desk) -> None:
    eve = desk.create(name="Eve", emails=["eve@client.example.org", "eve@home.example.org"])
    assert desk.bounce("EVE@client.example.org") == [eve.id]
    desk.bounce("eve@client.example.org")  # reported again: still one flag, one change
    flagged = desk.get(eve.id)
    assert list(flagged.bounced) == ["eve@client.example.org"]
    assert "550" in (flagged.bounced["eve@client.example.org"].detail or "")
    assert flagged.version == eve.version + 1
    # An address taken off the contact takes its flag with it
    changed = desk.update(eve.id, emails=["eve@home.example.org"])
    assert changed.bounced == {}
    assert desk.bounce("nobody@client.example.org") == []


# --- from the CRM ---------------------------------------------------------------------------------


def test_a_crm_record_links_a_contact_with_its_address_and_keeps_its_tickets(desk: Desk) -> None:
    # Given Dana, known from a ticket
    desk.ticket(ticket_created("DANA@client.example.org", "dana"))
    known = desk.find_one()
    # When the CRM announces a record with her address
    desk.crm(crm_record("501"))
    # Then it is the same contact, now linked, with the CRM's fields, and keeps her ticket
    linked = desk.get(known.id)
    assert linked.crm is not None
    assert (linked.crm.id, linked.name, linked.phone) == ("501", "Dana Scully", "+12025550143")
    assert len(desk.find()) == 1
    assert len(desk.tickets(linked.id)) == 1


def test_a_new_crm_record_creates_a_contact_announced_as_the_crm(desk: Desk) -> None:
    desk.crm(crm_record("501"))
    contact = desk.find_one()
    assert (contact.origin, contact.emails) == ("crm", ["dana@client.example.org"])
    [created] = desk.announced("ContactCreated")
    assert (created["actor"], created["crm"]["id"]) == ("crm:hubspot", "501")


def test_later_records_are_matched_by_crm_id_even_with_new_addresses(desk: Desk) -> None:
    desk.crm(crm_record("501"))
    first = desk.find_one()
    desk.crm(crm_record("501", minutes=10, emails=["d.scully@newmail.example.org"]))
    after = desk.find_one()
    assert after.id == first.id
    assert after.emails == ["d.scully@newmail.example.org"]
    # The address the CRM dropped is free, the new one finds her
    assert desk.find(email="dana@client.example.org") == []
    assert desk.find_one(email="d.scully@newmail.example.org").id == first.id


def test_an_older_or_repeated_record_changes_nothing(desk: Desk) -> None:
    desk.crm(crm_record("501", minutes=10, name="Dana K. Scully"))
    current = desk.find_one()
    desk.crm(crm_record("501", minutes=5, name="Dana Old"))
    desk.crm(crm_record("501", minutes=10, name="Dana K. Scully"))
    assert desk.find_one() == current
    assert len(desk.events()) == 1


def test_an_address_of_another_contact_stays_with_it(desk: Desk) -> None:
    # Given Dana from the CRM, and Fox made by hand
    desk.crm(crm_record("501"))
    fox = desk.create(name="Fox Mulder", emails=["shared@fbi.example.gov"])
    # When the CRM gives Dana's record Fox's address too
    desk.crm(
        crm_record("501", minutes=1, emails=["dana@client.example.org", "shared@fbi.example.gov"])
    )
    # Then Dana's contact has her own address only, and Fox keeps his
    assert desk.find_one(q="dana").emails == ["dana@client.example.org"]
    assert desk.find_one(email="shared@fbi.example.gov").id == fox.id
    assert desk.get(fox.id) == fox


def test_a_record_matches_the_contact_of_any_of_its_addresses(desk: Desk) -> None:
    fox = desk.create(name="Fox", emails=["fox@fbi.example.gov"], notes="Trusts no one.")
    desk.crm(crm_record("502", emails=["mulder@home.example.org", "fox@fbi.example.gov"]))
    linked = desk.get(fox.id)
    assert linked.crm is not None
    assert linked.crm.id == "502"
    assert linked.emails == ["mulder@home.example.org", "fox@fbi.example.gov"]
    assert linked.notes == "Trusts no one."
    assert len(desk.find()) == 1


def test_an_invalid_crm_phone_is_left_out_not_refused(desk: Desk) -> None:
    desk.crm(crm_record("501", phone="12"))
    contact = desk.find_one()
    assert (contact.phone, contact.name) == (None, "Dana Scully")


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"name": "Dana K."}, ["name"]),
        ({"phone": "+44 20 7183 8750"}, ["phone"]),
        ({"organisation": "CIA", "emails": ["x@example.org"]}, ["emails", "organisation"]),
        ({"organisation": None}, ["organisation"]),
    ],
)
def test_a_change_by_hand_to_a_field_the_crm_owns_is_refused_naming_it(
    desk: Desk, change: dict[str, Any], fields: list[str]
) -> None:
    desk.crm(crm_record("501"))
    contact = desk.find_one()
    with pytest.raises(CrmOwned) as refused:
        desk.update(contact.id, **change)
    assert "hubspot" in refused.value.detail
    assert fields_of(refused.value) == fields
    assert desk.find_one() == contact


def test_helpdesk_fields_and_unchanged_crm_values_may_be_changed_and_the_crm_keeps_them(
    desk: Desk,
) -> None:
    desk.crm(crm_record("501"))
    contact = desk.find_one()
    changed = desk.update(
        contact.id, notes="Call after 5pm.", tags=["vip"], name="Dana Scully", phone="+12025550143"
    )
    assert (changed.notes, changed.tags) == ("Call after 5pm.", ["vip"])
    # And the CRM's next update keeps them
    desk.crm(crm_record("501", minutes=1, organisation="FBI (X-Files)"))
    after = desk.find_one()
    assert (after.notes, after.tags, after.organisation) == (
        "Call after 5pm.",
        ["vip"],
        "FBI (X-Files)",
    )


def test_a_record_deleted_in_the_crm_unlinks_and_marks_the_contact_and_keeps_it(
    desk: Desk,
) -> None:
    # Given a CRM contact with a ticket
    desk.crm(crm_record("501"))
    desk.ticket(ticket_created("dana@client.example.org"))
    contact = desk.find_one()
    # When the record is deleted in the CRM
    desk.crm(CrmContactDeleted(provider="hubspot", crm_id="501", deleted_at=iso(T0)))
    # Then the contact is still there with its data and ticket, unlinked and marked
    after = desk.find_one()
    assert after.id == contact.id
    assert after.crm is None
    assert after.crm_unlinked is not None
    assert (after.crm_unlinked.id, after.crm_unlinked.at) == ("501", T0)
    assert (after.name, after.emails) == (contact.name, contact.emails)
    assert len(desk.tickets(after.id)) == 1
    # And its fields are the desk's to change now
    assert desk.update(after.id, name="Dana").name == "Dana"


def test_records_merged_in_the_crm_merge_their_contacts(desk: Desk) -> None:
    desk.crm(
        crm_record("501"),
        crm_record("502", emails=["dscully@fbi.example.gov"], name="D. Scully"),
    )
    survivor, merged = desk.find_one(q="dana"), desk.find_one(q="d.")
    desk.crm(
        CrmContactMerged(
            provider="hubspot", crm_id="502", surviving_crm_id="501", merged_at=iso(T0)
        )
    )
    result = desk.get(survivor.id)
    assert result.crm is not None
    assert result.crm.id == "501"
    assert set(result.emails) == {"dana@client.example.org", "dscully@fbi.example.gov"}
    with pytest.raises(ContactMoved):
        desk.get(merged.id)


def test_a_crm_merge_into_a_record_not_here_moves_the_link(desk: Desk) -> None:
    desk.crm(crm_record("502"))
    contact = desk.find_one()
    desk.crm(
        CrmContactMerged(
            provider="hubspot", crm_id="502", surviving_crm_id="777", merged_at=iso(T0)
        )
    )
    moved = desk.find_one()
    assert moved.crm is not None
    assert moved.crm.id == "777"
    desk.crm(crm_record("777", minutes=3, name="Dana Katherine Scully"))
    after = desk.find_one()
    assert (after.id, after.name) == (contact.id, "Dana Katherine Scully")


# --- what is announced ----------------------------------------------------------------------------


def test_a_contact_created_by_hand_is_announced_once_as_it_stands(desk: Desk) -> None:
    dana = desk.create(name="Dana Scully", emails=["Dana@client.example.org"], phone="+12025550143")
    [created] = desk.announced()
    assert created["contact_id"] == dana.id
    assert created["emails"] == ["dana@client.example.org"]
    assert (created["phone"], created["actor"], created["version"]) == (
        "+12025550143",
        AGENT.email,
        1,
    )


def test_a_refused_change_announces_nothing(desk: Desk) -> None:
    desk.create(name="Dana Scully", emails=["dana@client.example.org"])
    fox = desk.create(name="Fox Mulder")
    before = desk.events()
    with pytest.raises(Conflict):
        desk.create(emails=["DANA@client.example.org"])
    with pytest.raises(Conflict):
        desk.update(fox.id, emails=["dana@client.example.org"])
    assert desk.events() == before
