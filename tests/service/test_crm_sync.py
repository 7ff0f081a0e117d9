"""The sync engine against a fake HubSpot on loopback and DynamoDB, end to end: a first import
resumed after a crash, a record matched by addresses the contacts service's events announced
(and merged), and a full pass asked for while a run is under way. The engine's other rules run
on the in-memory fakes (tests/unit/test_crm_sync_logic.py). Events are read from the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.crm_sync.data.dynamodb import DynamoSyncRepository
from services.crm_sync.handlers.work import run_sync
from services.crm_sync.logic.repository import LinkWrite
from services.crm_sync.logic.work import SyncRequest
from shared.aws import client
from shared.clock import SystemClock
from shared.events.catalogue import ContactCreated, ContactMerged, ContactUpdated
from shared.settings import get_settings
from tests.conftest import Delivery
from tests.fakes.hubspot import FakeHubSpot
from tests.service.test_contacts_support import publish
from tests.service.test_crm_support import T0, Engine, emitted, upserted_ids
from tests.service.test_crm_support import hubspot as hubspot  # the fixture

pytestmark = pytest.mark.service


class Crash(Exception):
    """The process dies here."""


def _first_import(fake: FakeHubSpot, at: Any = T0 - timedelta(days=1)) -> None:
    Engine(fake, now=at).engine.run()


def test_a_first_import_resumes_after_a_crash_on_dynamodb(hubspot: FakeHubSpot) -> None:
    # Given 250 contacts in the CRM (three pages), and a process that dies in the middle of the
    # second page, after 3 writes (50 records each, two per page)
    for n in range(250):
        hubspot.add(f"person{n}@client.example.org", T0 - timedelta(days=2), firstname=f"P{n}")
    dying = Engine(hubspot)
    save_links = dying.repository.save_links
    writes = 0

    def save_then_die(provider: str, batch: Sequence[LinkWrite]) -> None:
        nonlocal writes
        if writes == 3:
            raise Crash
        save_links(provider, batch)
        writes += 1

    dying.repository.save_links = save_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        dying.engine.run()
    assert len(upserted_ids()) == 150
    assert dying.repository.checkpoint("hubspot").cursor is not None  # the first page saved

    # When a new process runs
    run = Engine(hubspot).engine.run()

    # Then every contact is announced exactly once, and the full pass is done
    ids = upserted_ids()
    assert len(ids) == 250
    assert len(set(ids)) == 250
    assert run.outcome == "ok"
    assert run.counts.unchanged == 50  # the part of the second page applied before the crash
    assert Engine(hubspot).repository.checkpoint("hubspot").phase == "done"
    first = next(
        e for e in emitted("CrmContactUpserted") if e["emails"] == ["person0@client.example.org"]
    )
    assert first["url"] == f"https://app.hubspot.com/contacts/62515/record/0-1/{first['crm_id']}"
    assert first["name"] == "P0"


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
