"""The sync engine against a fake HubSpot: the first import and its resume after a crash, the
incremental polls (window boundaries, windows over the search cap), deletions, merges, address
changes and ambiguous addresses, rate limits and outages. Events are read from the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.crm_sync.data.dynamodb import DynamoSyncRepository
from services.crm_sync.handlers.work import run_sync
from services.crm_sync.logic.repository import Checkpoint, Counts, LinkWrite
from services.crm_sync.logic.work import SyncRequest
from shared.aws import client
from shared.clock import SystemClock
from shared.events.catalogue import ContactCreated, ContactMerged, ContactUpdated
from shared.settings import get_settings
from tests.conftest import Delivery
from tests.fakes.hubspot import FakeHubSpot, ms
from tests.service.test_contacts_support import publish
from tests.service.test_crm_support import T0, Engine, emitted, upserted_ids
from tests.service.test_crm_support import hubspot as hubspot  # the fixture

pytestmark = pytest.mark.service


class Crash(Exception):
    """The process dies here."""


def _first_import(fake: FakeHubSpot, at: Any = T0 - timedelta(days=1)) -> None:
    Engine(fake, now=at).engine.run()


def test_first_import_of_1000_contacts_resumes_after_a_crash(hubspot: FakeHubSpot) -> None:
    # Given 1,000 contacts in the CRM (ten pages), and a process that dies in the middle of the
    # fourth page, after 7 writes (50 records each, two per page)
    for n in range(1000):
        hubspot.add(f"person{n}@client.example.org", T0 - timedelta(days=2), firstname=f"P{n}")
    dying = Engine(hubspot)
    save_links = dying.repository.save_links
    writes = 0

    def save_then_die(provider: str, batch: Sequence[LinkWrite]) -> None:
        nonlocal writes
        if writes == 7:
            raise Crash
        save_links(provider, batch)
        writes += 1

    dying.repository.save_links = save_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        dying.engine.run()
    assert len(upserted_ids()) == 350
    assert dying.repository.checkpoint("hubspot").cursor is not None  # three pages saved

    # When a new process runs
    run = Engine(hubspot).engine.run()

    # Then every contact is announced exactly once, and the full pass is done
    ids = upserted_ids()
    assert len(ids) == 1000
    assert len(set(ids)) == 1000
    assert run.outcome == "ok"
    assert run.counts.unchanged == 50  # the part of the fourth page applied before the crash
    assert Engine(hubspot).repository.checkpoint("hubspot").phase == "done"
    first = next(
        e for e in emitted("CrmContactUpserted") if e["emails"] == ["person0@client.example.org"]
    )
    assert first["url"] == f"https://app.hubspot.com/contacts/62515/record/0-1/{first['crm_id']}"
    assert first["name"] == "P0"


def test_a_run_with_a_page_budget_stops_and_the_next_resumes(hubspot: FakeHubSpot) -> None:
    for n in range(250):
        hubspot.add(f"p{n}@client.example.org", T0 - timedelta(days=2))
    first = Engine(hubspot, page_budget=2).engine.run()
    assert first.outcome == "more"
    assert len(upserted_ids()) == 200
    second = Engine(hubspot, page_budget=10).engine.run()
    assert second.outcome == "ok"
    assert len(upserted_ids()) == 250


def test_incremental_reads_records_on_both_window_boundaries_once(hubspot: FakeHubSpot) -> None:
    # Given a finished first import (the mark is when it started)
    mark = T0 - timedelta(hours=1)
    _first_import(hubspot, mark)
    overlap_start = mark - timedelta(minutes=5)
    # And records changed exactly at the window's start, exactly at its end, and just before it
    on_start = hubspot.add("start@client.example.org", overlap_start)
    on_end = hubspot.add("end@client.example.org", T0)
    before = hubspot.add("before@client.example.org", overlap_start - timedelta(milliseconds=1))

    # When the poll runs at T0
    run = Engine(hubspot, now=T0).engine.run()

    # Then it asked for [mark - overlap, now] and announced both boundary records
    search = hubspot.searches()[-1]
    filters = search["filterGroups"][0]["filters"]
    assert filters == [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(ms(overlap_start))},
        {"propertyName": "lastmodifieddate", "operator": "LTE", "value": str(ms(T0))},
    ]
    assert search["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    assert {on_start.id, on_end.id} <= set(upserted_ids())
    assert before.id not in upserted_ids()  # older than the window: the next full pass reads it
    assert run.counts.upserted == 2

    # When the next poll re-reads the end boundary (its window starts 5 minutes before it)
    again = Engine(hubspot, now=T0 + timedelta(minutes=5)).engine.run()

    # Then nothing is announced twice
    assert again.counts.upserted == 0
    assert again.counts.unchanged == 1
    assert upserted_ids().count(on_end.id) == 1


def test_a_window_over_the_real_search_cap_is_halved(hubspot: FakeHubSpot) -> None:
    # Given a finished first import, then 10,050 changes in one window (cheap: the fake holds
    # them in memory, and a short page budget reads only the first pages)
    mark = T0 - timedelta(hours=2)
    _first_import(hubspot, mark)
    for n in range(10_050):
        hubspot.add(f"bulk{n}@client.example.org", mark + timedelta(seconds=n / 2))
    engine = Engine(hubspot, now=T0, page_budget=3)

    # When the poll runs
    engine.engine.run()

    # Then the first query saw more than the cap, and the next asked for the first half only
    first, second = hubspot.searches()[-3:-1]
    assert [f["value"] for f in first["filterGroups"][0]["filters"]] == [
        str(ms(mark - timedelta(minutes=5))),
        str(ms(T0)),
    ]
    half = mark - timedelta(minutes=5) + (T0 - mark + timedelta(minutes=5)) / 2
    assert second["filterGroups"][0]["filters"][1]["value"] == str(ms(half))
    assert "after" not in second
    assert len(upserted_ids()) == 200  # two pages of the first half


def test_a_window_over_the_cap_is_read_in_halves_without_paging_past_the_cap(
    hubspot: FakeHubSpot,
) -> None:
    # Given a cap of 50 (the fake refuses to page past it, as HubSpot past 10,000) and 180
    # changes in one window
    hubspot.search_cap = 50
    mark = T0 - timedelta(hours=2)
    _first_import(hubspot, mark)
    changed = [
        hubspot.add(f"c{n}@client.example.org", mark + timedelta(seconds=30 * n)).id
        for n in range(180)
    ]

    # When the poll runs with the connector told the same cap
    run = Engine(hubspot, now=T0, window_limit=50).engine.run()

    # Then every change is announced once, and no query paged past the cap
    assert run.outcome == "ok"
    assert sorted(upserted_ids()) == sorted(changed)
    assert all(int(s.get("after") or 0) < 50 for s in hubspot.searches())
    assert Engine(hubspot).repository.checkpoint("hubspot").mark == T0


def test_a_deleted_record_is_announced_once_from_the_archived_listing(hubspot: FakeHubSpot) -> None:
    contact = hubspot.add("gone@client.example.org", T0 - timedelta(days=3))
    _first_import(hubspot, T0 - timedelta(days=2))
    contact.archived_at = T0 - timedelta(days=1)

    Engine(hubspot, now=T0).engine.run(full=True)
    Engine(hubspot, now=T0 + timedelta(hours=1)).engine.run(full=True)

    [deleted] = emitted("CrmContactDeleted")
    assert (deleted["crm_id"], deleted["deleted_at"]) == (contact.id, "2026-03-01T09:00:00.000Z")


def test_a_merge_seen_by_polling_re_points_the_link(hubspot: FakeHubSpot) -> None:
    merged = hubspot.add("dana@client.example.org", T0 - timedelta(days=3))
    survivor = hubspot.add("dana.scully@client.example.org", T0 - timedelta(days=3))
    _first_import(hubspot, T0 - timedelta(days=2))
    hubspot.merge(merged.id, into=survivor.id, at=T0 - timedelta(minutes=1))

    Engine(hubspot, now=T0).engine.run()

    [event] = emitted("CrmContactMerged")
    assert (event["crm_id"], event["surviving_crm_id"]) == (merged.id, survivor.id)
    assert upserted_ids().count(survivor.id) == 2  # the survivor's new state, too


def test_an_email_change_moves_forward_and_never_back(hubspot: FakeHubSpot) -> None:
    contact = hubspot.add("old@client.example.org", T0 - timedelta(days=3))
    _first_import(hubspot, T0 - timedelta(days=2))
    contact.email, contact.updated_at = "new@client.example.org", T0 - timedelta(minutes=2)

    Engine(hubspot, now=T0).engine.run()
    # A late copy of the old state (as a slow webhook apply would hold it) is not applied
    engine = Engine(hubspot, now=T0)
    current = engine.connector.get_contacts([contact.id])[contact.id]
    old = replace(current, emails=("old@client.example.org",), updated_at=T0 - timedelta(days=3))
    counts = Counts()
    engine.engine.apply_records([old], counts)

    updates = [e["emails"] for e in emitted("CrmContactUpserted") if e["crm_id"] == contact.id]
    assert updates == [["old@client.example.org"], ["new@client.example.org"]]
    assert counts.unchanged == 1


def test_a_record_whose_addresses_belong_to_two_contacts_is_reported_not_linked(
    hubspot: FakeHubSpot, delivery: Delivery
) -> None:
    # Given two helpdesk contacts, each with one of the record's addresses
    for contact_id, address in (("c-1", "dana@work.example.org"), ("c-2", "dana@home.example.org")):
        publish(
            delivery,
            ContactCreated(
                contact_id=contact_id,
                name="Dana",
                emails=[address],
                phone=None,
                organisation=None,
                crm=None,
                actor="system",
                version=1,
                at="2026-03-01T09:00:00.000Z",
            ),
        )
    record = hubspot.add(
        "dana@work.example.org", T0 - timedelta(days=1), additional_emails=["dana@home.example.org"]
    )
    single = hubspot.add("solo@work.example.org", T0 - timedelta(days=1))

    # When the sync reads it
    run = Engine(hubspot).engine.run()

    # Then nothing is announced for it, and the ambiguity is kept for a person to settle
    assert record.id not in upserted_ids()
    assert single.id in upserted_ids()
    assert run.counts.ambiguous == 1
    [ambiguity] = Engine(hubspot).repository.ambiguities("hubspot", 10)
    assert ambiguity.crm_id == record.id
    assert ambiguity.contact_ids == ("c-1", "c-2")

    # When the two contacts are merged in the helpdesk, and the next full pass reads the record
    publish(
        delivery,
        ContactMerged(merged_contact_id="c-2", surviving_contact_id="c-1"),
        ContactUpdated(
            contact_id="c-1",
            name="Dana",
            emails=["dana@work.example.org", "dana@home.example.org"],
            phone=None,
            organisation=None,
            crm=None,
            actor="agent@example.com",
            version=2,
            at="2026-03-01T10:00:00.000Z",
        ),
    )
    Engine(hubspot, now=T0 + timedelta(hours=1)).engine.run(full=True)

    # Then it is linked, and no longer reported
    assert record.id in upserted_ids()
    assert Engine(hubspot).repository.ambiguities("hubspot", 10) == []


def test_a_short_retry_after_is_waited_out(hubspot: FakeHubSpot) -> None:
    _first_import(hubspot, T0 - timedelta(hours=1))
    changed = hubspot.add("x@client.example.org", T0 - timedelta(minutes=1))
    hubspot.rate_limit(times=2, retry_after=2)  # the search answers 429 twice

    engine = Engine(hubspot, now=T0)
    run = engine.engine.run()

    assert engine.slept == [2.0, 2.0]
    assert run.outcome == "ok"
    assert changed.id in upserted_ids()


def test_a_long_retry_after_stops_the_run_and_the_next_resumes(hubspot: FakeHubSpot) -> None:
    _first_import(hubspot, T0 - timedelta(hours=1))
    changed = hubspot.add("x@client.example.org", T0 - timedelta(minutes=1))
    before = Engine(hubspot).repository.checkpoint("hubspot")
    hubspot.rate_limit(times=1, retry_after=120)

    engine = Engine(hubspot, now=T0)
    run = engine.engine.run()

    assert (run.outcome, engine.slept) == ("rate_limited", [])
    assert engine.repository.checkpoint("hubspot") == before
    assert Engine(hubspot, now=T0).engine.run().outcome == "ok"
    assert changed.id in upserted_ids()


def test_the_daily_limit_pauses_the_sync_until_it_resets(hubspot: FakeHubSpot) -> None:
    _first_import(hubspot, T0 - timedelta(hours=1))
    changed = hubspot.add("x@client.example.org", T0 - timedelta(minutes=1))
    hubspot.rate_limit(daily=True)

    assert Engine(hubspot, now=T0).engine.run().outcome == "daily_limit"
    searches = len(hubspot.searches())
    paused = Engine(hubspot, now=T0 + timedelta(minutes=30)).engine.run()
    assert paused.outcome == "daily_limit"
    assert len(hubspot.searches()) == searches  # not even asked
    assert Engine(hubspot, now=T0 + timedelta(hours=2)).engine.run().outcome == "ok"
    assert changed.id in upserted_ids()


def test_an_outage_leaves_the_checkpoint_and_the_next_run_catches_up(hubspot: FakeHubSpot) -> None:
    _first_import(hubspot, T0 - timedelta(hours=1))
    before = Engine(hubspot).repository.checkpoint("hubspot")
    during = hubspot.add("during@client.example.org", T0 - timedelta(minutes=10))
    hubspot.down = True

    run = Engine(hubspot, now=T0).engine.run()

    assert run.outcome == "unavailable"
    assert Engine(hubspot).repository.checkpoint("hubspot") == before
    assert upserted_ids() == []

    hubspot.down = False
    after = hubspot.add("after@client.example.org", T0 + timedelta(minutes=20))
    assert Engine(hubspot, now=T0 + timedelta(minutes=30)).engine.run().outcome == "ok"
    assert upserted_ids() == sorted([during.id, after.id])


def test_a_run_while_another_is_under_way_stands_down_and_reads_nothing(
    hubspot: FakeHubSpot,
) -> None:
    for n in range(5):
        hubspot.add(f"p{n}@client.example.org", T0 - timedelta(days=2))
    # Given a run under way (it holds the lease for two minutes)
    other = Engine(hubspot)
    assert other.repository.take_lease("hubspot", "the other run", T0 + timedelta(minutes=2))
    # When a second run starts
    run = Engine(hubspot).engine.run()
    # Then it stands down: nothing read, nothing announced, no checkpoint or run saved over theirs
    assert run.outcome == "busy"
    assert upserted_ids() == []
    assert other.repository.checkpoint("hubspot") == Checkpoint()
    assert other.repository.last_run("hubspot") is None
    # When that run dies holding the lease, the first run after the lease ran out goes ahead
    late = Engine(hubspot, now=T0 + timedelta(minutes=3)).engine.run()
    assert late.outcome == "ok"
    assert len(upserted_ids()) == 5


def test_a_run_gives_the_lease_up_when_it_ends_however_it_ends(hubspot: FakeHubSpot) -> None:
    hubspot.add("p@client.example.org", T0 - timedelta(days=2))
    hubspot.down = True
    assert Engine(hubspot).engine.run().outcome == "unavailable"
    hubspot.down = False
    assert Engine(hubspot).engine.run().outcome == "ok"
    repository = Engine(hubspot).repository
    assert repository.take_lease("hubspot", "next", T0 + timedelta(minutes=2))
    # Only its holder gives a lease up
    repository.release_lease("hubspot", "someone else")
    assert not repository.take_lease("hubspot", "another", T0 + timedelta(minutes=2))


def test_a_full_pass_asked_for_while_a_run_is_under_way_is_asked_again_later(
    hubspot: FakeHubSpot,
) -> None:
    now = datetime.now(UTC)
    repository = DynamoSyncRepository(SystemClock())
    assert repository.take_lease("hubspot", "the other run", now + timedelta(minutes=2))
    # A plain run stands down: the one under way does its work
    assert _outcome(SyncRequest(requested_by="schedule")) == "busy"
    assert _delayed_requests() == 0
    # A full pass does not happen by the other run, so it is queued again, after a delay
    asked = SyncRequest(full=True, requested_by="admin@example.com")
    assert _outcome(asked) == "busy"
    assert _delayed_requests() == 1
    assert upserted_ids() == []


def _outcome(request: SyncRequest) -> str:
    run = run_sync(request)
    assert run is not None  # a CRM is connected
    return run.outcome


def _delayed_requests() -> int:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=get_settings().queue_name("crm_sync", "work"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesDelayed"])
