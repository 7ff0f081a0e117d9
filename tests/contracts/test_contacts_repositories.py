"""What the contacts use cases count on from their storage, held against the in-memory fake and
the DynamoDB repository alike: a commit stored whole or not at all, a contact written only at the
version it was read at, an address or CRM record owned by one contact (handed over in one
commit), a ticket linked once; lists in their order, bounded, behind cursors no other list takes;
ticket summaries that take only newer changes; the departments read with a contact."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.contacts.data.dynamodb import DynamoContactRepository, department_store
from services.contacts.data.tables import ContactsOutbox
from services.contacts.logic.contact import Contact, Crm, TicketSummary
from services.contacts.logic.dependencies import ContactRepository
from services.contacts.logic.repository import (
    Commit,
    CrmTaken,
    EmailTaken,
    StaleContact,
    TicketAlreadyLinked,
    Write,
)
from shared.clock import FixedClock
from shared.departments import Department, DepartmentStore
from shared.errors import Invalid
from shared.events.catalogue import ContactLinked
from shared.events.envelope import OutgoingEvent
from shared.identity import Caller
from shared.storage import Page
from tests.fakes.contacts import FakeContactRepository

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Storage:
    contacts: ContactRepository
    departments: DepartmentStore  # what `get_with_departments` reads
    outbox: Callable[[], list[str]]  # the ids of the events written, in any order


def fake_storage() -> Storage:
    contacts = FakeContactRepository()
    return Storage(
        contacts,
        contacts.departments,
        lambda: [event.envelope.id for event in contacts.outbox],
    )


def dynamodb_storage() -> Storage:
    return Storage(
        DynamoContactRepository(FixedClock(T0)),
        department_store(),
        lambda: [json.loads(item.detail)["id"] for item in ContactsOutbox.scan()],
    )


@pytest.fixture
def storage(implementation: str) -> Storage:
    return fake_storage() if implementation == "fake" else dynamodb_storage()


def contact(contact_id: str, name: str | None = None, *emails: str, **fields: Any) -> Contact:
    return Contact(
        id=contact_id, name=name, emails=list(emails), created_at=T0, updated_at=T0, **fields
    )


def next_version(current: Contact, **changes: Any) -> Contact:
    return current.model_copy(update={"version": current.version + 1, **changes})


def created(storage: Storage, *contacts: Contact) -> None:
    for new in contacts:
        storage.contacts.commit(Commit([Write(new, None)]))


def linked(ticket_id: str) -> OutgoingEvent:
    return OutgoingEvent.of(ContactLinked(ticket_id=ticket_id, contact_id="c1"), T0)


def summary(ticket_id: str, contact_id: str | None, hours: int = 0, **fields: Any) -> TicketSummary:
    values: dict[str, Any] = {
        "ticket_id": ticket_id,
        "number": f"TKT-{ticket_id}",
        "subject": "Help",
        "status": "open",
        "created_at": T0 + timedelta(hours=hours),
        "contact_id": contact_id,
    }
    return TicketSummary(**{**values, **fields})


def every_page(read: Callable[[str | None], Page[Any]], limit: int) -> list[list[Any]]:
    """Every page of a list, until it gives no cursor; none longer than `limit`."""
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        page = read(cursor)
        assert len(page.items) <= limit
        pages.append(page.items)
        if page.cursor is None:
            return pages
        cursor = page.cursor


def ids(contacts: list[Contact]) -> list[str]:
    return [c.id for c in contacts]


def test_a_new_contact_reads_back_as_written_by_id_address_and_crm_record(
    storage: Storage,
) -> None:
    dana = contact(
        "c1",
        "Dana Scully",
        "dana@client.example.org",
        "dscully@fbi.example.gov",
        tags=["vip", "gov"],
        crm=Crm(provider="hubspot", id="501", updated_at=T0),
    )
    assert storage.contacts.get("c1") is None
    created(storage, dana)
    stored = storage.contacts.get("c1")
    # Tags come back in order, as a set is read back
    assert stored == dana.model_copy(update={"tags": ["gov", "vip"]})
    assert storage.contacts.by_email("dscully@fbi.example.gov") == stored
    assert storage.contacts.by_crm("hubspot#501") == stored
    assert storage.contacts.by_email("fox@fbi.example.gov") is None
    assert storage.contacts.by_crm("hubspot#502") is None
    assert storage.contacts.email_owners(["dana@client.example.org", "fox@fbi.example.gov"]) == {
        "dana@client.example.org": "c1"
    }
    # A read is a copy: changing it changes nothing stored
    assert stored is not None
    stored.emails.append("x@example.org")
    assert storage.contacts.get("c1") == dana.model_copy(update={"tags": ["gov", "vip"]})


def test_a_write_at_a_stale_version_is_refused_with_its_events(storage: Storage) -> None:
    dana = contact("c1", "Dana")
    created(storage, dana)
    with pytest.raises(StaleContact):  # a second "new" contact of that id
        storage.contacts.commit(Commit([Write(contact("c1", "Other"), None)]))
    first = next_version(dana, name="Dana Scully")
    storage.contacts.commit(Commit([Write(first, dana)]))
    # Another writer who read the same version loses, and its event is not written
    with pytest.raises(StaleContact):
        storage.contacts.commit(
            Commit([Write(next_version(dana, name="Dana K."), dana)], [linked("t1")])
        )
    assert storage.contacts.get("c1") == first
    assert storage.outbox() == []


def test_an_address_of_another_contact_is_refused_naming_it_and_nothing_is_stored(
    storage: Storage,
) -> None:
    created(storage, contact("c1", "Dana", "dana@client.example.org"))
    event = linked("t1")
    with pytest.raises(EmailTaken) as refused:
        storage.contacts.commit(
            Commit(
                [
                    Write(
                        contact("c2", "Impostor", "new@example.org", "dana@client.example.org"),
                        None,
                    )
                ],
                [event],
            )
        )
    assert refused.value.address == "dana@client.example.org"
    assert storage.contacts.get("c2") is None
    assert storage.contacts.by_email("new@example.org") is None
    assert storage.outbox() == []


def test_a_crm_record_of_another_contact_is_refused(storage: Storage) -> None:
    link = Crm(provider="hubspot", id="501")
    created(storage, contact("c1", "Dana", crm=link))
    with pytest.raises(CrmTaken) as refused:
        created(storage, contact("c2", "Fox", crm=link))
    assert refused.value.key == "hubspot#501"
    assert storage.contacts.get("c2") is None


def test_an_address_given_up_is_free_and_one_commit_hands_addresses_over(
    storage: Storage,
) -> None:
    # Given two contacts, each with addresses of their own
    dana = contact("c1", "Dana", "dana@client.example.org")
    fox = contact("c2", "Fox", "fox@fbi.example.gov", "mulder@fbi.example.gov")
    created(storage, dana, fox)
    # When one gives up an address, another contact may take it
    kept = next_version(fox, emails=["fox@fbi.example.gov"])
    storage.contacts.commit(Commit([Write(kept, fox)]))
    created(storage, contact("c3", "Walter", "mulder@fbi.example.gov"))
    # And a merge gives the merged contact's addresses to the survivor in the same commit
    tombstone = next_version(kept.emptied(merged_into="c1"))
    survivor = next_version(dana, emails=["dana@client.example.org", "fox@fbi.example.gov"])
    storage.contacts.commit(Commit([Write(tombstone, kept), Write(survivor, dana)]))
    owners = storage.contacts.email_owners(
        ["dana@client.example.org", "fox@fbi.example.gov", "mulder@fbi.example.gov"]
    )
    assert owners == {
        "dana@client.example.org": "c1",
        "fox@fbi.example.gov": "c1",
        "mulder@fbi.example.gov": "c3",
    }
    assert storage.contacts.get("c2") == tombstone


def test_a_ticket_is_linked_once_and_a_repeat_is_told_so_first(storage: Storage) -> None:
    dana = contact("c1", "Dana", "dana@client.example.org")
    event = linked("t1")
    storage.contacts.commit(Commit([Write(dana, None)], [event], link_ticket=summary("t1", "c1")))
    assert storage.outbox() == [event.envelope.id]
    # The same ticket again, with a write that is stale too: the repeat is what is told
    with pytest.raises(TicketAlreadyLinked):
        storage.contacts.commit(
            Commit(
                [Write(contact("c2", "Dana", "dana@client.example.org"), None)],
                [linked("t1")],
                link_ticket=summary("t1", "c2"),
            )
        )
    assert storage.contacts.get("c2") is None
    assert storage.outbox() == [event.envelope.id]
    assert storage.contacts.ticket_ids("c1") == ["t1"]
    assert storage.contacts.ticket_ids("c2") == []


def test_the_list_holds_active_contacts_by_name_in_bounded_pages(storage: Storage) -> None:
    names = ["Zed Zimmer", "anna Adams", "Bob Brown", "Émile Étienne", "Carla Cruz"]
    created(storage, *(contact(f"c{n}", name) for n, name in enumerate(names)))
    created(storage, contact("by-address", None, "ben@example.org"))  # listed by its address
    # A contact merged away or erased leaves the list
    gone = contact("gone", "Aaron Gone")
    created(storage, gone)
    storage.contacts.commit(Commit([Write(next_version(gone.emptied(erased_at=T0)), gone)]))

    pages = every_page(lambda cursor: storage.contacts.list_page(2, cursor), 2)
    listed = [c.name or c.primary_email for page in pages for c in page]
    assert listed == [
        "anna Adams",
        "ben@example.org",
        "Bob Brown",
        "Carla Cruz",
        "Émile Étienne",
        "Zed Zimmer",
    ]
    assert len(pages) in (3, 4)  # DynamoDB may end on an empty page


def test_contacts_are_found_by_phone_by_name_in_pages(storage: Storage) -> None:
    created(
        storage,
        contact("c1", "Dana", phone="+12025550143"),
        contact("c2", "Ann", phone="+12025550143"),  # a shared switchboard
        contact("c3", "Fox", phone="+12025550199"),
    )
    pages = every_page(lambda cursor: storage.contacts.by_phone("+12025550143", 1, cursor), 1)
    assert [ids(page) for page in pages if page] == [["c2"], ["c1"]]
    assert storage.contacts.by_phone("+442071838750", 10, None) == Page([], None)


def test_a_search_finds_each_contact_once_by_any_term_across_pages(storage: Storage) -> None:
    # Given Dana, found by "dan" four ways (her name, two words of it, her address), and others
    created(
        storage,
        contact("c1", "Dana Danes", "dana@example.org"),
        contact("c2", "Dan Brown"),
        contact("c3", "Zoë O'Neil", "zoe@example.org"),
        contact("c4", "Fox Mulder", "dan.fox@example.org"),
    )
    pages = every_page(lambda cursor: storage.contacts.search("dan", 1, cursor), 1)
    found = [c.id for page in pages for c in page]
    assert sorted(found) == ["c1", "c2", "c4"]
    assert len(found) == 3  # each once
    # Terms are in search form: accents and punctuation dropped, any word of the name
    assert ids(storage.contacts.search("oneil", 10, None).items) == ["c3"]
    assert ids(storage.contacts.search("zoe", 10, None).items) == ["c3"]
    assert ids(storage.contacts.search("mul", 10, None).items) == ["c4"]
    assert storage.contacts.search("xy", 10, None).items == []


def test_a_contact_changed_or_erased_is_found_by_its_new_terms_only(storage: Storage) -> None:
    dana = contact("c1", "Dana Scully", "dana@client.example.org")
    created(storage, dana)
    renamed = next_version(dana, name="Katherine Scully", emails=["kate@client.example.org"])
    storage.contacts.commit(Commit([Write(renamed, dana)]))
    assert storage.contacts.search("dana", 10, None).items == []
    assert ids(storage.contacts.search("kat", 10, None).items) == ["c1"]
    assert ids(storage.contacts.search("scu", 10, None).items) == ["c1"]
    erased = next_version(renamed.emptied(erased_at=T0))
    storage.contacts.commit(Commit([Write(erased, renamed)]))
    assert storage.contacts.search("scu", 10, None).items == []
    assert storage.contacts.by_email("kate@client.example.org") is None


def test_a_cursor_is_refused_by_any_other_list(storage: Storage) -> None:
    created(storage, *(contact(f"c{n}", f"Dana {n}", phone="+12025550143") for n in range(3)))
    search = storage.contacts.search("dana", 1, None).cursor
    listing = storage.contacts.list_page(1, None).cursor
    assert search is not None
    assert listing is not None
    with pytest.raises(Invalid):
        storage.contacts.search("fox", 1, search)
    with pytest.raises(Invalid):
        storage.contacts.list_page(1, search)
    with pytest.raises(Invalid):
        storage.contacts.by_phone("+12025550143", 1, listing)
    with pytest.raises(Invalid):
        storage.contacts.tickets("c1", 1, listing)
    with pytest.raises(Invalid):
        storage.contacts.list_page(1, "bm90IGEgY3Vyc29y")  # not one given out at all


def test_a_contacts_tickets_are_newest_first_in_pages_and_move_with_a_merge(
    storage: Storage,
) -> None:
    created(storage, contact("c1", "Gus"), contact("c2", "Hal"))
    for n in range(1, 6):
        storage.contacts.commit(Commit([], link_ticket=summary(f"t{n}", "c1", hours=n)))
    storage.contacts.commit(Commit([], link_ticket=summary("other", "c2")))
    pages = every_page(lambda cursor: storage.contacts.tickets("c1", 2, cursor), 2)
    assert [t.ticket_id for page in pages for t in page] == ["t5", "t4", "t3", "t2", "t1"]
    first = storage.contacts.tickets("c1", 2, None)
    with pytest.raises(Invalid):  # a cursor of another contact's tickets
        storage.contacts.tickets("c2", 2, first.cursor)
    # When c1 is merged into c2, its tickets move
    storage.contacts.move_tickets(storage.contacts.ticket_ids("c1"), "c2")
    assert storage.contacts.ticket_ids("c1") == []
    assert sorted(storage.contacts.ticket_ids("c2")) == ["other", "t1", "t2", "t3", "t4", "t5"]


def test_a_ticket_summary_takes_only_changes_newer_than_the_last_it_took(
    storage: Storage,
) -> None:
    # Given a change at 09:05 that arrives before the ticket's creation (at 09:00)
    storage.contacts.project_ticket(
        "t1", {"status": "waiting_on_client"}, T0 + timedelta(minutes=5)
    )
    storage.contacts.project_department("t1", "billing", T0 + timedelta(minutes=5))
    storage.contacts.commit(Commit([], link_ticket=summary("t1", "c1", department_id="sales")))
    # Then the ticket is listed with the earlier-arrived, later change
    [listed] = storage.contacts.tickets("c1", 10, None).items
    assert (listed.number, listed.status, listed.department_id) == (
        "TKT-t1",
        "waiting_on_client",
        "billing",
    )
    # When a change at 10:00 is followed by one of 09:30 arriving late, the later one stands
    storage.contacts.project_ticket("t1", {"status": "resolved"}, T0 + timedelta(hours=1))
    late = {"status": "in_progress", "subject": "Locked out"}
    storage.contacts.project_ticket("t1", late, T0 + timedelta(minutes=30))
    # And a move is kept apart: other changes never hide it, an older move never undoes it
    storage.contacts.project_department("t1", None, T0 + timedelta(minutes=40))
    storage.contacts.project_department("t1", "sales", T0 + timedelta(minutes=20))
    [listed] = storage.contacts.tickets("c1", 10, None).items
    assert (listed.status, listed.subject, listed.department_id) == ("resolved", "Help", None)


def test_a_contact_is_read_with_the_departments_as_announced(storage: Storage) -> None:
    created(storage, contact("c1", "Dana"))
    assert storage.contacts.get_with_departments("missing")[0] is None
    _, empty = storage.contacts.get_with_departments("c1")
    assert empty.departments == {}
    storage.departments.record(
        Department(id="billing", members=["alice@example.com"], changed_at=T0)
    )
    found, directory = storage.contacts.get_with_departments("c1")
    assert found == storage.contacts.get("c1")
    alice = Caller("alice@example.com", "agent")
    assert directory.may_see(alice, "billing", None)
    assert not directory.may_see(alice, "sales", None)
