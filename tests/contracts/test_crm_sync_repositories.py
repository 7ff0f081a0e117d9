"""What the crm_sync use cases count on from their storage and work queue, held against the
in-memory fakes and DynamoDB and SQS alike: links read back as saved, a batch written whole or
refused when any link changed since it was read (its events with it), a first link clearing the
record's ambiguity report; the checkpoint and last run as saved; one lease holder until the lease
runs out; a webhook event seen once; the helpdesk's contacts kept only forward; the notes of a
ticket each once; every message queued, delayed ones held back."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.crm_sync.data.dynamodb import DynamoSyncRepository
from services.crm_sync.data.tables import CrmSyncOutbox
from services.crm_sync.data.work_queue import SqsWorkQueue
from services.crm_sync.logic.dependencies import CrmSyncRepository, WorkQueue
from services.crm_sync.logic.repository import (
    Ambiguity,
    Checkpoint,
    Counts,
    KnownContact,
    Link,
    LinkWrite,
    Run,
    StaleLink,
    TicketOfRecord,
    Window,
)
from shared.aws import client
from shared.clock import FixedClock
from shared.events.catalogue import CrmContactDeleted
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import OUTBOX_PREFIX
from shared.settings import get_settings
from tests.fakes.crm_sync import FakeCrmSyncRepository, FakeWorkQueue

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HUBSPOT = "hubspot"


@dataclass
class Storage:
    repository: CrmSyncRepository
    queue: WorkQueue
    clock: FixedClock  # what a lease runs out by
    outbox: Callable[[], list[str]]  # the ids of the events written, in any order
    queued: Callable[[], tuple[list[str], int]]  # the bodies ready to read, and how many wait


def fake_storage() -> Storage:
    clock = FixedClock(T0)
    repository, queue = FakeCrmSyncRepository(clock), FakeWorkQueue()
    return Storage(
        repository,
        queue,
        clock,
        lambda: [event.envelope.id for event in repository.outbox],
        lambda: (
            [body for body, delay in queue.sent if delay == 0],
            len([delay for _, delay in queue.sent if delay]),
        ),
    )


def dynamodb_storage() -> Storage:
    clock = FixedClock(T0)
    return Storage(
        DynamoSyncRepository(clock),
        SqsWorkQueue(),
        clock,
        lambda: [
            json.loads(item.detail)["id"]
            for item in CrmSyncOutbox.scan(CrmSyncOutbox.pk.startswith(OUTBOX_PREFIX))
        ],
        sqs_queued,
    )


def sqs_queued() -> tuple[list[str], int]:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=get_settings().queue_name("crm_sync", "work"))["QueueUrl"]
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [message["Body"] for message in messages]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return bodies, int(attributes["ApproximateNumberOfMessagesDelayed"])


@pytest.fixture
def storage(implementation: str) -> Storage:
    return fake_storage() if implementation == "fake" else dynamodb_storage()


def link(crm_id: str, minutes: int = 0, version: int = 1, **fields: object) -> Link:
    return Link(crm_id, T0 + timedelta(minutes=minutes), version, **fields)  # type: ignore[arg-type]


def deleted(crm_id: str) -> OutgoingEvent:
    data = CrmContactDeleted(provider=HUBSPOT, crm_id=crm_id, deleted_at="2026-03-02T09:00:00Z")
    return OutgoingEvent.of(data, T0)


def known(contact_id: str, version: int, *emails: str, crm_id: str | None = None) -> KnownContact:
    provider = HUBSPOT if crm_id else None
    return KnownContact(contact_id, emails, version, provider, crm_id, "Dana")


def test_links_read_back_as_saved_per_provider(storage: Storage) -> None:
    first, merged = link("501"), link("502", 5, archived=True, merged_into="501")
    assert storage.repository.links(HUBSPOT, ["501"]) == {}
    storage.repository.save_links(HUBSPOT, [LinkWrite(first, None), LinkWrite(merged, None)])
    assert storage.repository.links(HUBSPOT, ["501", "502", "503", "501"]) == {
        "501": first,
        "502": merged,
    }
    assert storage.repository.links("salesforce", ["501"]) == {}


def test_a_batch_with_a_link_changed_since_it_was_read_is_refused_whole(
    storage: Storage,
) -> None:
    # Given a link at version 1
    storage.repository.save_links(HUBSPOT, [LinkWrite(link("501"), None)])
    event = deleted("502")
    # When a batch holds a new link and one of 501 read before it was saved (or at an old version)
    for stale in (None, link("501", version=0)):
        with pytest.raises(StaleLink):
            storage.repository.save_links(
                HUBSPOT,
                [
                    LinkWrite(link("502", archived=True), None, [event]),
                    LinkWrite(link("501", 9, version=2), stale),
                ],
            )
    # Then nothing of it is stored, and none of its events
    assert storage.repository.links(HUBSPOT, ["501", "502"]) == {"501": link("501")}
    assert storage.outbox() == []
    # And the next version of what is stored is saved with its events
    storage.repository.save_links(
        HUBSPOT, [LinkWrite(link("501", 9, version=2), link("501"), [event])]
    )
    assert storage.repository.links(HUBSPOT, ["501"]) == {"501": link("501", 9, version=2)}
    assert storage.outbox() == [event.envelope.id]


def test_ambiguities_are_listed_by_record_and_a_first_link_clears_one(storage: Storage) -> None:
    for crm_id in ("503", "501", "502"):
        storage.repository.report_ambiguity(
            HUBSPOT, Ambiguity(crm_id, ("dana@example.org",), ("c-1", "c-2"), T0)
        )
    # Reported again, later: one report, the latest
    again = Ambiguity("502", ("dana@example.org",), ("c-1", "c-3"), T0 + timedelta(hours=1))
    storage.repository.report_ambiguity(HUBSPOT, again)
    reported = storage.repository.ambiguities(HUBSPOT, 10)
    assert [a.crm_id for a in reported] == ["501", "502", "503"]
    assert reported[1] == again
    assert [a.crm_id for a in storage.repository.ambiguities(HUBSPOT, 2)] == ["501", "502"]
    assert storage.repository.ambiguities("salesforce", 10) == []
    # A record linked at last is no longer ambiguous
    storage.repository.save_links(HUBSPOT, [LinkWrite(link("502"), None)])
    assert [a.crm_id for a in storage.repository.ambiguities(HUBSPOT, 10)] == ["501", "503"]


def test_the_checkpoint_and_the_last_run_read_back_as_saved(storage: Storage) -> None:
    assert storage.repository.checkpoint(HUBSPOT) == Checkpoint()
    assert storage.repository.last_run(HUBSPOT) is None
    checkpoint = Checkpoint(
        phase="done",
        pass_started_at=T0,
        mark=T0 + timedelta(minutes=1),
        window=Window(T0, T0 + timedelta(hours=1), "200"),
        target=T0 + timedelta(hours=1),
        resume_after=T0 + timedelta(hours=2),
    )
    storage.repository.save_checkpoint(HUBSPOT, checkpoint)
    assert storage.repository.checkpoint(HUBSPOT) == checkpoint
    assert storage.repository.checkpoint("salesforce") == Checkpoint()
    run = Run("sync", T0, T0 + timedelta(seconds=3), "more", Counts(upserted=3, pages=2))
    storage.repository.save_run(HUBSPOT, run)
    run.counts.upserted = 99  # a run saved is not changed by its runner's copy
    assert storage.repository.last_run(HUBSPOT) == Run(
        "sync", T0, T0 + timedelta(seconds=3), "more", Counts(upserted=3, pages=2)
    )


def test_a_lease_has_one_holder_until_it_runs_out_and_only_its_holder_gives_it_up(
    storage: Storage,
) -> None:
    until = T0 + timedelta(minutes=2)
    assert storage.repository.take_lease(HUBSPOT, "first", until)
    assert not storage.repository.take_lease(HUBSPOT, "second", until)
    assert storage.repository.take_lease("salesforce", "second", until)  # another CRM's
    storage.repository.release_lease(HUBSPOT, "second")  # not theirs: nothing happens
    assert not storage.repository.take_lease(HUBSPOT, "second", until)
    storage.repository.release_lease(HUBSPOT, "first")
    assert storage.repository.take_lease(HUBSPOT, "second", until)
    # A holder that died: its lease runs out, and then another takes it
    storage.clock.advance(timedelta(minutes=2))
    assert not storage.repository.take_lease(HUBSPOT, "third", until + timedelta(minutes=2))
    storage.clock.advance(timedelta(milliseconds=1))
    assert storage.repository.take_lease(HUBSPOT, "third", until + timedelta(minutes=2))


def test_a_webhook_event_is_unseen_until_marked_per_provider(storage: Storage) -> None:
    assert storage.repository.unseen(HUBSPOT, ["1", "2", "1", "3"]) == ["1", "2", "3"]
    storage.repository.mark_seen(HUBSPOT, ["1", "3"], T0 + timedelta(days=3))
    assert storage.repository.unseen(HUBSPOT, ["3", "2", "1", "4"]) == ["2", "4"]
    assert storage.repository.unseen("salesforce", ["1"]) == ["1"]


def test_contacts_are_kept_only_forward_and_their_addresses_with_them(storage: Storage) -> None:
    repository = storage.repository
    assert repository.remember_contact(known("c-1", 2, "dana@example.org", "d@example.org"))
    assert not repository.remember_contact(known("c-1", 2, "other@example.org"))
    assert not repository.remember_contact(known("c-1", 1, "old@example.org"))
    assert repository.email_owners(["dana@example.org", "old@example.org"]) == {
        "dana@example.org": {"c-1"}
    }
    # An address given up is no longer theirs; one held by two (events in flight) has both
    assert repository.remember_contact(known("c-1", 3, "d@example.org"))
    assert repository.remember_contact(known("c-2", 1, "d@example.org"))
    assert repository.email_owners(["dana@example.org", "d@example.org"]) == {
        "d@example.org": {"c-1", "c-2"}
    }


def test_a_forgotten_contact_holds_no_address_and_never_comes_back_older(
    storage: Storage,
) -> None:
    repository = storage.repository
    repository.remember_contact(known("c-1", 2, "dana@example.org"))
    repository.forget_contact("c-1", 2**53)
    assert repository.email_owners(["dana@example.org"]) == {}
    assert not repository.remember_contact(known("c-1", 3, "dana@example.org"))
    repository.forget_contact("c-9", 2**53)  # never known: nothing to free
    assert repository.contact_by_email("dana@example.org") is None


def test_a_contact_is_found_by_address_only_when_one_holds_it(storage: Storage) -> None:
    repository = storage.repository
    dana = known("c-1", 1, "dana@example.org", "shared@example.org", crm_id="501")
    repository.remember_contact(dana)
    assert repository.contact_by_email("dana@example.org") == dana
    assert repository.contact_by_email("nobody@example.org") is None
    repository.remember_contact(known("c-2", 1, "shared@example.org"))
    assert repository.contact_by_email("shared@example.org") is None


def test_a_tickets_notes_are_remembered_each_once(storage: Storage) -> None:
    repository = storage.repository
    assert repository.ticket("t-1") is None
    ticket = TicketOfRecord("t-1", "501", "TKT-0007", "Cannot log in")
    repository.remember_ticket(ticket)
    assert repository.ticket("t-1") == ticket
    assert not repository.note_added("t-1", "created")
    repository.record_note("t-1", "created", "note-1")
    assert repository.note_added("t-1", "created")
    assert not repository.note_added("t-1", "resolved#2026-03-02T10:00:00.000Z")
    assert not repository.note_added("t-2", "created")


def test_every_message_sent_is_queued_and_a_delayed_one_waits(storage: Storage) -> None:
    bodies = [json.dumps({"n": n}) for n in range(13)]  # more than one SQS batch
    storage.queue.send(bodies)
    storage.queue.send([json.dumps({"later": True})], delay_seconds=60)
    ready, waiting = storage.queued()
    assert sorted(ready) == sorted(bodies)
    assert waiting == 1
