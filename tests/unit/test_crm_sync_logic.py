"""The CRM sync's rules on the in-memory storage, the HubSpot connector answered in-process by
the fake HubSpot: the first import and its resume after a crash, page budgets, the incremental
polls (window boundaries, windows over the search cap), deletions, merges, address changes and
ambiguous addresses, rate limits, outages and one run at a time; webhooks de-duplicated, queued
and applied in any order; and the push back of contacts and tickets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from services.crm_sync.logic.push_back import (
    note_ticket_created,
    note_ticket_resolved,
    push_contact,
)
from services.crm_sync.logic.repository import Checkpoint, Counts, KnownContact, LinkWrite
from services.crm_sync.logic.webhooks import Receipt
from shared.events.catalogue import (
    ContactCreated,
    CrmLink,
    Person,
    TicketCreated,
    TicketStatusChanged,
)
from tests.crm_desk import HUBSPOT, T0, Crm
from tests.fakes.hubspot import FakeHubSpot, ms, webhook_event


class Crash(Exception):
    """The process dies here."""


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    yield fake
    fake._server.server_close()  # never served (answered in-process): only its socket to close


@pytest.fixture
def crm(hubspot: FakeHubSpot) -> Crm:
    return Crm(hubspot)


def first_import(crm: Crm, at: datetime = T0 - timedelta(days=1)) -> None:
    crm.run(at)


# --- the full pass --------------------------------------------------------------------------------


def test_first_import_of_1000_contacts_resumes_after_a_crash(
    crm: Crm, hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 1,000 contacts in the CRM (ten pages), and a process that dies in the middle of the
    # fourth page, after 7 writes (50 records each, two per page)
    for n in range(1000):
        hubspot.add(f"person{n}@client.example.org", T0 - timedelta(days=2), firstname=f"P{n}")
    save_links = crm.repository.save_links
    writes = 0

    def save_then_die(provider: str, batch: Sequence[LinkWrite]) -> None:
        nonlocal writes
        if writes == 7:
            raise Crash
        save_links(provider, batch)
        writes += 1

    monkeypatch.setattr(crm.repository, "save_links", save_then_die)
    with pytest.raises(Crash):
        crm.run()
    assert len(crm.upserted_ids()) == 350
    assert crm.repository.checkpoint(HUBSPOT).cursor is not None  # three pages saved
    monkeypatch.undo()

    # When a new process runs
    run = crm.run()

    # Then every contact is announced exactly once, and the full pass is done
    ids = crm.upserted_ids()
    assert len(ids) == 1000
    assert len(set(ids)) == 1000
    assert run.outcome == "ok"
    assert run.counts.unchanged == 50  # the part of the fourth page applied before the crash
    assert crm.repository.checkpoint(HUBSPOT).phase == "done"
    first = next(
        e
        for e in crm.emitted("CrmContactUpserted")
        if e["emails"] == ["person0@client.example.org"]
    )
    assert first["url"] == f"https://app.hubspot.com/contacts/62515/record/0-1/{first['crm_id']}"
    assert first["name"] == "P0"


def test_a_run_with_a_page_budget_stops_and_the_next_resumes(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    for n in range(250):
        hubspot.add(f"p{n}@client.example.org", T0 - timedelta(days=2))
    assert crm.run(page_budget=2).outcome == "more"
    assert len(crm.upserted_ids()) == 200
    assert crm.run(page_budget=10).outcome == "ok"
    assert len(crm.upserted_ids()) == 250


def test_a_deleted_record_is_announced_once_from_the_archived_listing(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    contact = hubspot.add("gone@client.example.org", T0 - timedelta(days=3))
    first_import(crm, T0 - timedelta(days=2))
    contact.archived_at = T0 - timedelta(days=1)

    crm.run(T0, full=True)
    crm.run(T0 + timedelta(hours=1), full=True)

    [deleted] = crm.emitted("CrmContactDeleted")
    assert (deleted["crm_id"], deleted["deleted_at"]) == (contact.id, "2026-03-01T09:00:00.000Z")


# --- incremental polls ----------------------------------------------------------------------------


def test_incremental_reads_records_on_both_window_boundaries_once(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    # Given a finished first import (the mark is when it started)
    mark = T0 - timedelta(hours=1)
    first_import(crm, mark)
    overlap_start = mark - timedelta(minutes=5)
    # And records changed exactly at the window's start, exactly at its end, and just before it
    on_start = hubspot.add("start@client.example.org", overlap_start)
    on_end = hubspot.add("end@client.example.org", T0)
    before = hubspot.add("before@client.example.org", overlap_start - timedelta(milliseconds=1))

    # When the poll runs at T0
    run = crm.run(T0)

    # Then it asked for [mark - overlap, now] and announced both boundary records
    search = hubspot.searches()[-1]
    assert search["filterGroups"][0]["filters"] == [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(ms(overlap_start))},
        {"propertyName": "lastmodifieddate", "operator": "LTE", "value": str(ms(T0))},
    ]
    assert search["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    assert {on_start.id, on_end.id} <= set(crm.upserted_ids())
    assert before.id not in crm.upserted_ids()  # older than the window: the next full pass
    assert run.counts.upserted == 2

    # When the next poll re-reads the end boundary (its window starts 5 minutes before it)
    again = crm.run(T0 + timedelta(minutes=5))

    # Then nothing is announced twice
    assert (again.counts.upserted, again.counts.unchanged) == (0, 1)
    assert crm.upserted_ids().count(on_end.id) == 1


def test_a_window_over_the_real_search_cap_is_halved(crm: Crm, hubspot: FakeHubSpot) -> None:
    # Given a finished first import, then 10,050 changes in one window (a short page budget
    # reads only the first pages)
    mark = T0 - timedelta(hours=2)
    first_import(crm, mark)
    for n in range(10_050):
        hubspot.add(f"bulk{n}@client.example.org", mark + timedelta(seconds=n / 2))

    # When the poll runs
    crm.run(T0, page_budget=3)

    # Then the first query saw more than the cap, and the next asked for the first half only
    first, second = hubspot.searches()[-3:-1]
    assert [f["value"] for f in first["filterGroups"][0]["filters"]] == [
        str(ms(mark - timedelta(minutes=5))),
        str(ms(T0)),
    ]
    half = mark - timedelta(minutes=5) + (T0 - mark + timedelta(minutes=5)) / 2
    assert second["filterGroups"][0]["filters"][1]["value"] == str(ms(half))
    assert "after" not in second
    assert len(crm.upserted_ids()) == 200  # two pages of the first half


def test_a_window_over_the_cap_is_read_in_halves_without_paging_past_the_cap(
    hubspot: FakeHubSpot,
) -> None:
    # Given a cap of 50 (the fake refuses to page past it, as HubSpot past 10,000), the
    # connector told the same cap, and 180 changes in one window
    hubspot.search_cap = 50
    crm = Crm(hubspot, window_limit=50)
    mark = T0 - timedelta(hours=2)
    first_import(crm, mark)
    changed = [
        hubspot.add(f"c{n}@client.example.org", mark + timedelta(seconds=30 * n)).id
        for n in range(180)
    ]

    # When the poll runs
    run = crm.run(T0)

    # Then every change is announced once, and no query paged past the cap
    assert run.outcome == "ok"
    assert crm.upserted_ids() == sorted(changed)
    assert all(int(s.get("after") or 0) < 50 for s in hubspot.searches())
    assert crm.repository.checkpoint(HUBSPOT).mark == T0


def test_a_merge_seen_by_polling_re_points_the_link(crm: Crm, hubspot: FakeHubSpot) -> None:
    merged = hubspot.add("dana@client.example.org", T0 - timedelta(days=3))
    survivor = hubspot.add("dana.scully@client.example.org", T0 - timedelta(days=3))
    first_import(crm, T0 - timedelta(days=2))
    hubspot.merge(merged.id, into=survivor.id, at=T0 - timedelta(minutes=1))

    crm.run(T0)

    [event] = crm.emitted("CrmContactMerged")
    assert (event["crm_id"], event["surviving_crm_id"]) == (merged.id, survivor.id)
    assert crm.upserted_ids().count(survivor.id) == 2  # the survivor's new state, too


def test_an_email_change_moves_forward_and_never_back(crm: Crm, hubspot: FakeHubSpot) -> None:
    contact = hubspot.add("old@client.example.org", T0 - timedelta(days=3))
    first_import(crm, T0 - timedelta(days=2))
    contact.email, contact.updated_at = "new@client.example.org", T0 - timedelta(minutes=2)

    crm.run(T0)
    # A late copy of the old state (as a slow webhook apply would hold it) is not applied
    current = crm.connector.get_contacts([contact.id])[contact.id]
    old = replace(current, emails=("old@client.example.org",), updated_at=T0 - timedelta(days=3))
    counts = Counts()
    crm.engine().apply_records([old], counts)

    updates = [e["emails"] for e in crm.emitted("CrmContactUpserted") if e["crm_id"] == contact.id]
    assert updates == [["old@client.example.org"], ["new@client.example.org"]]
    assert counts.unchanged == 1


def test_a_record_whose_addresses_belong_to_two_contacts_is_reported_until_one_holds_them(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    # Given two helpdesk contacts, each with one of the record's addresses
    crm.repository.remember_contact(KnownContact("c-1", ("dana@work.example.org",), 1))
    crm.repository.remember_contact(KnownContact("c-2", ("dana@home.example.org",), 1))
    record = hubspot.add(
        "dana@work.example.org", T0 - timedelta(days=1), additional_emails=["dana@home.example.org"]
    )
    single = hubspot.add("solo@work.example.org", T0 - timedelta(days=1))
    # When the sync reads it, nothing is announced for it and the ambiguity is kept
    assert crm.run().counts.ambiguous == 1
    assert crm.upserted_ids() == [single.id]
    [ambiguity] = crm.repository.ambiguities(HUBSPOT, 10)
    assert (ambiguity.crm_id, ambiguity.contact_ids) == (record.id, ("c-1", "c-2"))
    # When the contacts are merged in the helpdesk, the next full pass links it
    crm.repository.forget_contact("c-2", 2**53)
    both = ("dana@work.example.org", "dana@home.example.org")
    crm.repository.remember_contact(KnownContact("c-1", both, 2))
    crm.run(T0 + timedelta(hours=1), full=True)
    assert record.id in crm.upserted_ids()
    assert crm.repository.ambiguities(HUBSPOT, 10) == []


# --- rate limits, outages, one run at a time ------------------------------------------------------


def test_a_short_retry_after_is_waited_out(crm: Crm, hubspot: FakeHubSpot) -> None:
    first_import(crm, T0 - timedelta(hours=1))
    changed = hubspot.add("x@client.example.org", T0 - timedelta(minutes=1))
    hubspot.rate_limit(times=2, retry_after=2)  # the search answers 429 twice

    run = crm.run(T0)

    assert crm.slept == [2.0, 2.0]
    assert run.outcome == "ok"
    assert changed.id in crm.upserted_ids()


def test_a_long_retry_after_stops_the_run_and_the_next_resumes(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    first_import(crm, T0 - timedelta(hours=1))
    changed = hubspot.add("x@client.example.org", T0 - timedelta(minutes=1))
    before = crm.repository.checkpoint(HUBSPOT)
    hubspot.rate_limit(times=1, retry_after=120)

    run = crm.run(T0)

    assert (run.outcome, crm.slept) == ("rate_limited", [])
    assert crm.repository.checkpoint(HUBSPOT) == before
    assert crm.run(T0).outcome == "ok"
    assert changed.id in crm.upserted_ids()


def test_the_daily_limit_pauses_the_sync_until_it_resets(crm: Crm, hubspot: FakeHubSpot) -> None:
    first_import(crm, T0 - timedelta(hours=1))
    changed = hubspot.add("x@client.example.org", T0 - timedelta(minutes=1))
    hubspot.rate_limit(daily=True)

    assert crm.run(T0).outcome == "daily_limit"
    searches = len(hubspot.searches())
    assert crm.run(T0 + timedelta(minutes=30)).outcome == "daily_limit"
    assert len(hubspot.searches()) == searches  # not even asked
    assert crm.run(T0 + timedelta(hours=2)).outcome == "ok"
    assert changed.id in crm.upserted_ids()


def test_an_outage_leaves_the_checkpoint_and_the_next_run_catches_up(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    first_import(crm, T0 - timedelta(hours=1))
    before = crm.repository.checkpoint(HUBSPOT)
    during = hubspot.add("during@client.example.org", T0 - timedelta(minutes=10))
    hubspot.down = True

    assert crm.run(T0).outcome == "unavailable"
    assert crm.repository.checkpoint(HUBSPOT) == before
    assert crm.upserted_ids() == []

    hubspot.down = False
    after = hubspot.add("after@client.example.org", T0 + timedelta(minutes=20))
    assert crm.run(T0 + timedelta(minutes=30)).outcome == "ok"
    assert crm.upserted_ids() == sorted([during.id, after.id])


def test_a_run_while_another_is_under_way_stands_down_and_reads_nothing(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    for n in range(5):
        hubspot.add(f"p{n}@client.example.org", T0 - timedelta(days=2))
    # Given a run under way (it holds the lease for two minutes)
    assert crm.repository.take_lease(HUBSPOT, "the other run", T0 + timedelta(minutes=2))
    # When a second run starts
    run = crm.run(T0)
    # Then it stands down: nothing read, nothing announced, no checkpoint or run saved over theirs
    assert run.outcome == "busy"
    assert hubspot.requests == []
    assert crm.upserted_ids() == []
    assert crm.repository.checkpoint(HUBSPOT) == Checkpoint()
    assert crm.repository.last_run(HUBSPOT) is None
    # When that run dies holding the lease, the first run after the lease ran out goes ahead
    assert crm.run(T0 + timedelta(minutes=3)).outcome == "ok"
    assert len(crm.upserted_ids()) == 5


def test_a_run_gives_the_lease_up_when_it_ends_however_it_ends(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    hubspot.add("p@client.example.org", T0 - timedelta(days=2))
    hubspot.down = True
    assert crm.run().outcome == "unavailable"
    hubspot.down = False
    assert crm.run().outcome == "ok"
    assert crm.repository.take_lease(HUBSPOT, "next", T0 + timedelta(minutes=2))


# --- webhooks -------------------------------------------------------------------------------------


def test_a_duplicate_delivery_is_not_queued_again(crm: Crm, hubspot: FakeHubSpot) -> None:
    contact = hubspot.add("dana@client.example.org", T0)
    event = webhook_event("contact.propertyChange", contact.id, T0)
    assert crm.webhook(event) == Receipt(queued=1, duplicates=0)
    assert crm.webhook(event, event) == Receipt(queued=0, duplicates=2)
    [message] = crm.queue.messages()
    assert [c["event_id"] for c in message["changes"]] == [str(event["eventId"])]
    assert crm.upserted_ids() == []  # nothing applied by the webhook function itself


def test_out_of_order_webhooks_never_roll_back(crm: Crm, hubspot: FakeHubSpot) -> None:
    # Given a record deleted after it was created and changed
    contact = hubspot.add("dana@client.example.org", T0 - timedelta(minutes=3))
    crm.webhook(webhook_event("contact.creation", contact.id, T0 - timedelta(minutes=3)))
    crm.apply_queued()
    contact.archived_at = T0 - timedelta(minutes=1)
    # When the deletion arrives before the (older) property change
    crm.webhook(webhook_event("contact.deletion", contact.id, T0 - timedelta(minutes=1)))
    crm.webhook(webhook_event("contact.propertyChange", contact.id, T0 - timedelta(minutes=2)))
    crm.apply_queued()
    # Then the record stays deleted: announced once created, once deleted, never again
    assert crm.upserted_ids() == [contact.id]
    assert [e["crm_id"] for e in crm.emitted("CrmContactDeleted")] == [contact.id]


def test_a_merge_webhook_re_points_the_link(crm: Crm, hubspot: FakeHubSpot) -> None:
    merged = hubspot.add("dana@client.example.org", T0 - timedelta(minutes=5))
    survivor = hubspot.add("scully@client.example.org", T0 - timedelta(minutes=5))
    crm.webhook(
        *(
            webhook_event("contact.creation", c.id, T0 - timedelta(minutes=5))
            for c in (merged, survivor)
        )
    )
    crm.apply_queued()
    hubspot.merge(merged.id, into=survivor.id, at=T0)
    merge = webhook_event(
        "contact.merge",
        survivor.id,
        T0,
        primaryObjectId=int(survivor.id),
        mergedObjectIds=[int(merged.id), int(survivor.id)],
        newObjectId=int(survivor.id),
    )
    crm.webhook(merge)
    crm.apply_queued()
    [event] = crm.emitted("CrmContactMerged")
    assert (event["crm_id"], event["surviving_crm_id"]) == (merged.id, survivor.id)


# --- push back ------------------------------------------------------------------------------------


def contact_created(actor: str, *emails: str, crm_id: str | None = None) -> ContactCreated:
    return ContactCreated(
        contact_id="c-1",
        name="Nora Batty",
        emails=list(emails),
        phone=None,
        organisation=None,
        crm=None if crm_id is None else CrmLink(provider=HUBSPOT, id=crm_id),
        actor=actor,
        version=1,
        at="2026-03-02T09:00:00.000Z",
    )


def test_a_contact_made_by_hand_is_created_in_the_crm_once_and_linked(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    created = contact_created("alice@example.com", "nora@client.example.org")
    push_contact(created, crm.connector, crm.engine())
    push_contact(created, crm.connector, crm.engine())  # redelivered: the record is found
    [record] = hubspot.contacts.values()
    assert (record.email, record.firstname, record.lastname) == (
        "nora@client.example.org",
        "Nora",
        "Batty",
    )
    assert crm.upserted_ids() == [record.id]


@pytest.mark.parametrize(
    ("actor", "emails", "crm_id"),
    [
        ("system", ["walk-in@client.example.org"], None),  # a ticket's requester
        ("crm:hubspot", ["dana@client.example.org"], None),  # from the CRM
        ("alice@example.com", ["dana@client.example.org"], "501"),  # linked already
        ("alice@example.com", [], None),  # nothing to find them by there
    ],
    ids=["requester", "from-the-crm", "linked", "no-address"],
)
def test_only_contacts_made_by_hand_and_not_linked_are_pushed(
    crm: Crm, hubspot: FakeHubSpot, actor: str, emails: list[str], crm_id: str | None
) -> None:
    push_contact(contact_created(actor, *emails, crm_id=crm_id), crm.connector, crm.engine())
    assert hubspot.requests == []
    assert hubspot.contacts == {}


def ticket(ticket_id: str, requester: str) -> TicketCreated:
    return TicketCreated(
        ticket_id=ticket_id,
        number="TKT-0007",
        subject="Cannot log in",
        status="open",
        priority="medium",
        department_id=None,
        requester=Person(email=requester),
        created_at="2026-03-02T09:00:00.000Z",
    )


def status_changed(ticket_id: str, new: str, at: str) -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=ticket_id,
        number="TKT-0007",
        old="open",
        new=new,
        priority="medium",
        department_id=None,
        reason="agent",
        changed_at=at,
    )


def test_tickets_opened_and_resolved_are_noted_once_each_on_the_requesters_record(
    crm: Crm, hubspot: FakeHubSpot
) -> None:
    # Given a helpdesk contact linked to a CRM record, and one not in the CRM
    record = hubspot.add("dana@client.example.org", T0 - timedelta(days=1))
    crm.repository.remember_contact(
        KnownContact("c-1", ("dana@client.example.org",), 2, HUBSPOT, record.id)
    )
    crm.repository.remember_contact(KnownContact("c-2", ("walk-in@client.example.org",), 1))
    # When tickets of both are opened (announced twice) and resolved (twice), then re-opened
    # and resolved again
    for opened in (
        ticket("t-1", "Dana@client.example.org"),
        ticket("t-2", "walk-in@client.example.org"),
    ):
        for _ in range(2):
            note_ticket_created(opened, crm.connector, crm.repository)
    for change in (
        status_changed("t-1", "resolved", "2026-03-02T10:00:00.000Z"),
        status_changed("t-1", "resolved", "2026-03-02T10:00:00.000Z"),
        status_changed("t-1", "in_progress", "2026-03-02T10:30:00.000Z"),
        status_changed("t-1", "resolved", "2026-03-02T11:00:00.000Z"),
        status_changed("t-2", "resolved", "2026-03-02T10:00:00.000Z"),
    ):
        note_ticket_resolved(change, crm.connector, crm.repository)
    # Then her record has a note for each, once; the other requester's ticket none
    assert [n["properties"]["hs_note_body"] for n in hubspot.notes] == [
        "Ticket TKT-0007 opened: Cannot log in",
        "Ticket TKT-0007 resolved: Cannot log in",
        "Ticket TKT-0007 resolved: Cannot log in",
    ]
    assert {n["associations"][0]["to"]["id"] for n in hubspot.notes} == {record.id}
    assert [n["properties"]["hs_timestamp"] for n in hubspot.notes][1:] == [
        "2026-03-02T10:00:00.000Z",
        "2026-03-02T11:00:00.000Z",
    ]
