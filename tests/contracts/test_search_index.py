"""What ticket search counts on from its index, held against the in-memory fake and the DynamoDB
index alike: a document reads back as stored, at a version that moves with each store; a store over
a document that changed since it was read is refused; posting lists read newest ticket first, in
pages after a position; a changed document leaves the lists of the words it lost; documents load
with their tickets, None for what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.data.search_dynamodb import DynamoSearchIndex
from services.tickets.logic.dependencies import TicketRepository
from services.tickets.logic.repository import Commit
from services.tickets.logic.search import (
    IndexedText,
    SearchDoc,
    SearchIndex,
    StaleDoc,
    position_of,
)
from services.tickets.logic.search_text import Terms
from services.tickets.logic.ticket import Ticket
from shared.clock import FixedClock
from shared.events.catalogue import Person
from tests.fakes.tickets import FakeSearchIndex, FakeTicketRepository

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Storage:
    tickets: TicketRepository  # where the index's tickets live
    index: SearchIndex


@pytest.fixture
def storage(implementation: str) -> Storage:
    if implementation == "fake":
        tickets = FakeTicketRepository()
        return Storage(tickets, FakeSearchIndex(tickets))
    return Storage(DynamoTicketRepository(FixedClock(T0)), DynamoSearchIndex())


def ticket(n: int, minutes: float = 0) -> Ticket:
    """Ticket `t<n>`, opened `minutes` after T0 (where it sorts in posting lists)."""
    at = T0 + timedelta(minutes=minutes)
    return Ticket(
        id=f"t{n}",
        number=f"TKT-{n:04d}",
        subject=f"Ticket {n}",
        department_id="billing",
        requester=Person(email="client@example.org", name="Client"),
        created_at=at,
        updated_at=at,
    )


def document(of: Ticket, *messages: str) -> SearchDoc:
    """The ticket's document: its subject, then each message as `<ticket id>-m<n>`."""
    doc = SearchDoc(of.id, position_of(of), Terms.empty())
    doc.terms.add(of.subject)
    doc.texts.append(IndexedText("subject", of.subject))
    for n, body in enumerate(messages):
        doc.add_message(f"{of.id}-m{n}", body)
    return doc


def stored(storage: Storage, ticket_id: str) -> SearchDoc:
    found = storage.index.doc(ticket_id)
    assert found is not None
    return found


def listed(storage: Storage, key: str) -> list[str]:
    """The ids of the tickets in posting list `key`, newest first, read in one page."""
    candidates, more = storage.index.candidates(key, 50, None)
    assert not more
    return [c.ticket_id for c in candidates]


# --- documents -----------------------------------------------------------------------------------


def test_a_stored_document_reads_back_as_stored_at_a_version_moved_by_each_store(
    storage: Storage,
) -> None:
    index = storage.index
    assert index.doc("t1") is None
    doc = document(ticket(1), "The printer jams every morning.", "Zoë's café printer")
    doc.texts.append(IndexedText("requester", "Zoë Müller zoe@client.example.org"))
    index.store(doc, None)
    # The caller's document learns its version, and reads back as stored, words and texts alike
    assert doc.version == 1
    assert stored(storage, "t1") == doc
    read = stored(storage, "t1")
    assert {"printer", "zoe", "cafe"} <= read.terms.words
    assert "jam everi" in read.terms.pairs
    assert read.message_ids == {"t1-m0", "t1-m1"}
    assert [(t.source, t.message_id) for t in read.texts] == [
        ("subject", None),
        ("message", "t1-m0"),
        ("message", "t1-m1"),
        ("requester", None),
    ]
    # A document read is a copy: changing it changes nothing stored
    read.terms.words.add("changed")
    read.message_ids.add("changed")
    assert stored(storage, "t1") == doc
    # A change stored over the document read moves the version once more
    changed = stored(storage, "t1")
    changed.add_message("t1-m2", "Replaced the fuser unit.")
    index.store(changed, stored(storage, "t1"))
    assert changed.version == 2
    assert stored(storage, "t1") == changed
    assert "t1-m2" in stored(storage, "t1").message_ids


def test_a_store_over_a_document_that_changed_since_it_was_read_is_stale(
    storage: Storage,
) -> None:
    index = storage.index
    index.store(document(ticket(1), "Printer jam"), None)
    # Given two writers read the document, and the first stored its change
    first, second = stored(storage, "t1"), stored(storage, "t1")
    first_change = stored(storage, "t1")
    first_change.add_message("t1-m1", "Toner low")
    index.store(first_change, first)
    # When the second stores its change over what it read
    second_change = stored(storage, "t1")
    second_change.add_message("t1-m1", "Fuser broken")
    with pytest.raises(StaleDoc):
        index.store(second_change, second)
    # Then the first change stands
    assert stored(storage, "t1") == first_change
    assert stored(storage, "t1").version == 2
    # And a document stored as new where one is stored already is stale too
    with pytest.raises(StaleDoc):
        index.store(document(ticket(1), "Again"), None)
    assert stored(storage, "t1") == first_change


def test_a_changed_document_leaves_the_lists_of_the_words_it_lost(storage: Storage) -> None:
    index = storage.index
    # Given two tickets with the word "printer", the first also with "jammed"
    index.store(document(ticket(1, 1), "printer jammed"), None)
    index.store(document(ticket(2, 2), "printer"), None)
    assert listed(storage, "W#jam") == ["t1"]
    assert listed(storage, "P#jam") == ["t1"]
    # When the first ticket's document is rebuilt without "jammed", with "toner"
    index.store(document(ticket(1, 1), "printer toner"), stored(storage, "t1"))
    # Then it left the lists of "jammed" (word and first letters), and joined those of "toner"
    assert listed(storage, "W#jam") == []
    assert listed(storage, "P#jam") == []
    assert listed(storage, "W#toner") == ["t1"]
    assert listed(storage, "P#ton") == ["t1"]
    # And stayed, newest ticket first, in the lists it kept
    assert listed(storage, "W#printer") == ["t2", "t1"]
    assert listed(storage, "P#pri") == ["t2", "t1"]


def test_a_change_of_more_words_than_one_write_takes_moves_every_posting(
    storage: Storage,
) -> None:
    # 150 words out and 150 in: more postings than one transaction holds
    index = storage.index
    before = document(ticket(1), " ".join(f"old{n:03d}" for n in range(150)))
    index.store(before, None)
    after = document(ticket(1), " ".join(f"new{n:03d}" for n in range(150)))
    index.store(after, stored(storage, "t1"))
    assert stored(storage, "t1") == after
    for key in sorted(before.posting_keys() - after.posting_keys()):
        assert listed(storage, key) == [], key
    for key in sorted(after.posting_keys()):
        assert listed(storage, key) == ["t1"], key


# --- candidates ----------------------------------------------------------------------------------


def test_candidates_page_a_list_newest_ticket_first_after_a_position(storage: Storage) -> None:
    index = storage.index
    # Given five tickets with "scanner", stored in no particular order, and one without
    for n in (3, 1, 5, 2, 4):
        index.store(document(ticket(n, n), "scanner slow"), None)
    index.store(document(ticket(6, 6), "printer"), None)
    # When the list is read two at a time, each page after the last one's end
    pages: list[list[str]] = []
    after = None
    while True:
        candidates, more = index.candidates("W#scanner", 2, after)
        pages.append([c.ticket_id for c in candidates])
        if not more:
            break
        after = candidates[-1].position
    # Then the pages hold every ticket once, newest first, and the last says no more follow (a
    # page that ends exactly at the list's end may say more do: DynamoDB's can)
    assert pages == [["t5", "t4"], ["t3", "t2"], ["t1"]]
    # A candidate's position is where its ticket sorts
    candidates, _ = index.candidates("W#scanner", 1, None)
    assert [c.position for c in candidates] == [position_of(ticket(5, 5))]
    # A page larger than the list holds it all; a list nobody is in is empty
    candidates, more = index.candidates("W#scanner", 10, position_of(ticket(4, 4)))
    assert ([c.ticket_id for c in candidates], more) == (["t3", "t2", "t1"], False)
    assert index.candidates("W#nothing", 10, None) == ([], False)


# --- loading -------------------------------------------------------------------------------------


def test_load_pairs_each_document_with_its_ticket_none_for_what_is_missing(
    storage: Storage,
) -> None:
    # Given t1 with a document, t2 without one, t3's document without its ticket, and no t4
    for n in (1, 2):
        storage.tickets.commit(Commit(ticket(n, n), None))
    for n in (1, 3):
        storage.index.store(document(ticket(n, n), "Printer jam"), None)
    # When they are loaded together
    loaded = storage.index.load(["t1", "t2", "t3", "t4"])
    # Then each comes with what exists of it
    assert loaded == {
        "t1": (stored(storage, "t1"), storage.tickets.get("t1")),
        "t2": (None, storage.tickets.get("t2")),
        "t3": (stored(storage, "t3"), None),
        "t4": (None, None),
    }
    assert [
        (doc and doc.ticket_id, found and (found.number, found.revision))
        for doc, found in loaded.values()
    ] == [("t1", ("TKT-0001", 1)), (None, ("TKT-0002", 1)), ("t3", None), (None, None)]
    assert storage.index.load([]) == {}
