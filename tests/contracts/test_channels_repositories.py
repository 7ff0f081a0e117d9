"""What the channels use cases count on from their storage and mail bucket, held against the
in-memory fakes and the DynamoDB and S3 adapters alike: an address belongs to one channel; threads
are found by number and by the Message-IDs that lead to them; a mail is recorded once per SES
message and once per Message-ID and department, with its events or not at all; hourly counts
refuse past their limit and count nothing then; an acknowledgement is claimed once; the quarantine
is written whole, listed newest first in bounded pages, and released once; a mail's attempts are
counted on one record found by SES's id; attachments are kept beside their mail and deleted with
it; only uploads a message names are kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from services.channels.data.channels import DynamoChannelRepository
from services.channels.data.dynamodb import DynamoInboundRepository
from services.channels.data.mail_bucket import S3MailStore
from services.channels.data.outbound import DynamoOutboundRepository
from services.channels.data.tables import ChannelsOutbox
from services.channels.data.threads import MAX_REFERENCES, DynamoThreadRepository
from services.channels.logic.channel import Channel
from services.channels.logic.delivery import Outbound
from services.channels.logic.dependencies import (
    Acknowledgements,
    ChannelRepository,
    HourlyLimits,
    InboundRepository,
    MailBucket,
    OutboundRepository,
    QuarantineRepository,
    ReceivedMailIndex,
    ThreadRepository,
)
from services.channels.logic.mail_parser import ParsedAttachment
from services.channels.logic.receive_mail import INBOUND_PREFIX, TooManyNewTickets
from services.channels.logic.ticket_thread import Thread
from services.channels.logic.uploads import NAMED_UPLOAD_TAG, UPLOAD_TAG_KEY, UPLOADS_PREFIX
from shared.aws import client
from shared.clock import FixedClock, isoformat
from shared.events.catalogue import EmailReceived, EmailSent, MailVerdicts, Person
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import OUTBOX_PREFIX
from shared.settings import get_settings
from tests.fakes.channels import (
    FakeChannelRepository,
    FakeMailBucket,
    FakeMailRecords,
    FakeOutboundRepository,
    FakeThreadRepository,
)

T0 = datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)  # just after an hour begins: counts are hourly
LIMITS = HourlyLimits(per_sender=2, per_channel=3)


class MailRecords(
    InboundRepository, QuarantineRepository, Acknowledgements, ReceivedMailIndex, Protocol
):
    """The four ports one store serves."""


@dataclass
class Storage:
    clock: FixedClock
    channels: ChannelRepository
    threads: ThreadRepository
    records: MailRecords
    outbound: OutboundRepository
    bucket: MailBucket
    outbox: Callable[[], list[str]]  # the ids of the events written, in any order
    put: Callable[[str, bytes], None]  # an object stored as SES or a browser stores it
    upload_tag: Callable[[str], str | None]


def fake_storage() -> Storage:
    clock = FixedClock(T0)
    outbox: list[OutgoingEvent] = []
    bucket = FakeMailBucket()
    return Storage(
        clock,
        FakeChannelRepository(),
        FakeThreadRepository(outbox),
        FakeMailRecords(clock, outbox),
        FakeOutboundRepository(outbox),
        bucket,
        lambda: [event.envelope.id for event in outbox],
        bucket.objects.__setitem__,
        bucket.tags.get,
    )


def dynamodb_storage() -> Storage:
    clock = FixedClock(T0)
    mail_bucket = get_settings().mail_bucket

    def outbox() -> list[str]:
        items = ChannelsOutbox.scan(ChannelsOutbox.pk.startswith(OUTBOX_PREFIX))
        return [json.loads(item.detail)["id"] for item in items]

    def put(key: str, data: bytes) -> None:
        client("s3").put_object(Bucket=mail_bucket, Key=key, Body=data)

    def upload_tag(key: str) -> str | None:
        tags = client("s3").get_object_tagging(Bucket=mail_bucket, Key=key)["TagSet"]
        return next((tag["Value"] for tag in tags if tag["Key"] == UPLOAD_TAG_KEY), None)

    return Storage(
        clock,
        DynamoChannelRepository(),
        DynamoThreadRepository(clock),
        DynamoInboundRepository(clock),
        DynamoOutboundRepository(clock),
        S3MailStore(),
        outbox,
        put,
        upload_tag,
    )


@pytest.fixture
def storage(implementation: str) -> Storage:
    return fake_storage() if implementation == "fake" else dynamodb_storage()


def channel(address: str, department: str = "billing", minutes: int = 0) -> Channel:
    return Channel(
        id=f"c-{address.split('@')[0]}",
        address=address,
        department_id=department,
        created_at=T0 + timedelta(minutes=minutes),
    )


def mail(
    ses_id: str,
    message_id: str | None = None,
    department: str | None = "billing",
    sender: str = "carol@client.example.org",
    minutes: int = 0,
) -> EmailReceived:
    return EmailReceived(
        ses_message_id=ses_id,
        message_id=message_id,
        raw_key=INBOUND_PREFIX + ses_id,
        sender=Person(email=sender),
        recipients=["billing@example.com"],
        subject=f"about {ses_id}",
        department_id=department,
        channel_id="c-billing" if department else None,
        received_at=isoformat(T0 + timedelta(minutes=minutes)),
        verdicts=MailVerdicts(),
    )


def announcing(received: EmailReceived) -> list[OutgoingEvent]:
    return [OutgoingEvent.of(received, T0)]


def sent_event() -> OutgoingEvent:
    """An event about a ticket's mail, as the thread and the mail sent are saved with."""
    sent = EmailSent(
        ticket_id="t1",
        ticket_message_id="msg-1",
        ticket_message_at="2026-11-02T09:00:00.000Z",
        message_id="msg-1@example.com",
        sender="billing@example.com",
        recipients=["carol@client.example.org"],
        sent_at=isoformat(T0),
    )
    return OutgoingEvent.of(sent, T0)


def thread(ticket: str, number: str, message_ids: list[str] | None = None) -> Thread:
    return Thread(
        ticket_id=ticket,
        number=number,
        subject="Invoice",
        requester="carol@client.example.org",
        cc=["dave@client.example.org"],
        department_id="billing",
        channel_id="c-billing",
        message_ids=list(message_ids or []),
    )


# --- channels --------------------------------------------------------------------------------


def test_an_address_belongs_to_one_channel_at_a_time(storage: Storage) -> None:
    channels = storage.channels
    billing = channel("billing@example.com")
    assert channels.add(billing)
    assert not channels.add(channel("billing@example.com", "sales").model_copy(update={"id": "x"}))
    sales = channel("sales@example.com", "sales")
    assert channels.add(sales)
    # Moving onto a taken address is refused, changing nothing
    assert not channels.replace(sales, sales.model_copy(update={"address": "billing@example.com"}))
    assert channels.get(sales.id) == sales
    # Moving frees the old address; a change that keeps it is no move
    moved = billing.model_copy(update={"address": "money@example.com"})
    assert channels.replace(billing, moved)
    assert channels.replace(moved, moved.model_copy(update={"signature": "Billing"}))
    assert channels.add(channel("billing@example.com", "x").model_copy(update={"id": "c-new"}))
    # Removing frees its address too
    channels.remove(sales)
    assert channels.get(sales.id) is None
    assert channels.add(channel("sales@example.com", "sales").model_copy(update={"id": "c-s2"}))


def test_channels_are_found_by_id_by_address_and_by_department(storage: Storage) -> None:
    channels = storage.channels
    later = channel("invoices@example.com", minutes=5)
    first = channel("billing@example.com", minutes=1)
    sales = channel("sales@example.com", "sales")
    for each in (later, first, sales):
        assert channels.add(each)
    assert channels.get(first.id) == first
    assert channels.get("nothing") is None
    assert sorted(c.id for c in channels.all()) == sorted([later.id, first.id, sales.id])
    found = channels.by_addresses(
        ["sales@example.com", "nobody@example.com", "billing@example.com"]
    )
    assert sorted(c.id for c in found) == sorted([sales.id, first.id])
    assert channels.by_addresses(["nobody@example.com"]) == []
    # A department's first channel answers its tickets
    assert channels.of_department("billing") == first
    assert channels.of_department("legal") is None


# --- threads ---------------------------------------------------------------------------------


def test_a_thread_is_found_by_its_number_and_the_message_ids_that_lead_to_it(
    storage: Storage,
) -> None:
    threads = storage.threads
    assert threads.thread("t1") is None
    threads.save(thread("t1", "TKT-0001"), ["first@client"])
    threads.save(thread("t2", "TKT-0002"), ["other@client"])
    stored = threads.thread("t1")
    assert stored == thread("t1", "TKT-0001", ["first@client"])
    assert threads.thread_by_number("TKT-0001") == stored
    assert threads.thread_by_number("TKT-0404") is None
    # The first known id wins, in the order asked
    assert threads.ticket_of_message_ids(["unknown", "other@client", "first@client"]) == "t2"
    assert threads.ticket_of_message_ids(["unknown"]) is None


def test_a_thread_keeps_its_first_and_latest_message_ids_and_is_saved_with_its_events(
    storage: Storage,
) -> None:
    threads = storage.threads
    saved = thread("t1", "TKT-0001", ["m0"])
    event = sent_event()
    ids = [f"m{n}" for n in range(1, MAX_REFERENCES + 5)]
    threads.save(saved, [*ids, "m1"], [event])
    kept = ["m0", *ids[-(MAX_REFERENCES - 1) :]]
    # The caller's thread carries the ids kept, as the stored one does
    assert saved.message_ids == kept
    stored = threads.thread("t1")
    assert stored is not None
    assert stored.message_ids == kept
    # Every new id leads to the ticket, even one no longer in its References
    assert threads.ticket_of_message_ids(["m1"]) == "t1"
    assert storage.outbox() == [event.envelope.id]


# --- mail received ---------------------------------------------------------------------------


def test_a_mail_is_recorded_once_per_ses_message_and_once_per_message_id_and_department(
    storage: Storage,
) -> None:
    records = storage.records
    first = mail("ses-1", "m1@client")
    announced = announcing(first)
    assert records.record(first, announced)
    # SES delivering it again, or another SES message with its Message-ID, records nothing
    assert not records.record(first, announcing(first))
    assert not records.record(mail("ses-2", "m1@client"), announcing(first))
    assert not records.quarantine(first, "SES found a virus")
    # The same mail for another department is news to that department
    for_sales = mail("ses-1", "m1@client", department="sales")
    also = announcing(for_sales)
    assert records.record(for_sales, also)
    # A mail without a Message-ID is told apart by its SES message alone
    assert records.record(mail("ses-3"), [])
    assert not records.record(mail("ses-3"), [])
    assert sorted(storage.outbox()) == sorted([announced[0].envelope.id, also[0].envelope.id])


def test_new_tickets_past_the_senders_hourly_limit_are_refused_writing_nothing(
    storage: Storage,
) -> None:
    records = storage.records
    assert records.record(mail("ses-1", "m1"), [], new_tickets_per_hour=2)
    assert records.record(mail("ses-2", "m2"), [], new_tickets_per_hour=2)
    over = mail("ses-3", "m3")
    with pytest.raises(TooManyNewTickets):
        records.record(over, announcing(over), new_tickets_per_hour=2)
    assert storage.outbox() == []
    # A mail recorded before is a repeat, whatever the count; nor did the refusal record it
    assert not records.record(mail("ses-1", "m1"), [], new_tickets_per_hour=2)
    assert records.quarantine(over, "too many", held=True)
    # Mail that opens no ticket is not counted, and another sender has their own count
    assert records.record(mail("ses-4", "m4"), [])
    assert records.record(mail("ses-5", "m5", sender="dave@x.org"), [], new_tickets_per_hour=2)
    # The next hour brings a new allowance
    storage.clock.advance(timedelta(hours=1))
    assert records.record(mail("ses-6", "m6"), [], new_tickets_per_hour=2)


def test_an_acknowledgement_is_claimed_once_and_only_when_it_was_asked_for(
    storage: Storage,
) -> None:
    records = storage.records
    assert records.record(mail("ses-1", "m1"), [], acknowledge=True)
    assert records.record(mail("ses-2", "m2"), [])
    assert records.claim_acknowledgement("m1", "sales") is None  # not that department's mail
    assert records.claim_acknowledgement("m1", "billing") == "c-billing"
    assert records.claim_acknowledgement("m1", "billing") is None
    assert records.claim_acknowledgement("m2", "billing") is None
    assert records.claim_acknowledgement("never-seen", "billing") is None


def test_acknowledgements_are_counted_per_sender_and_per_channel_at_once(
    storage: Storage,
) -> None:
    take = storage.records.take_acknowledgement
    assert [take("a@x.org", "c1", LIMITS) for _ in range(3)] == [True, True, False]
    # The refused one took nothing from the channel: it has one left this hour
    assert take("b@x.org", "c1", LIMITS)
    assert not take("c@x.org", "c1", LIMITS)
    # Nor did that refusal take from the sender, who may be answered from another channel
    assert take("c@x.org", "c2", LIMITS)
    storage.clock.advance(timedelta(hours=1))
    assert take("a@x.org", "c1", LIMITS)


# --- the quarantine --------------------------------------------------------------------------


def test_a_quarantined_mail_is_recorded_and_listed_with_its_event_in_one_write(
    storage: Storage,
) -> None:
    records = storage.records
    virus = mail("ses-1", "m1")
    assert records.quarantine(virus, "SES found a virus")
    assert records.quarantine(mail("ses-2", "m2"), "Precedence: bulk", held=True)
    # Recorded: delivered again, it is neither quarantined twice nor announced
    assert not records.quarantine(virus, "SES found a virus")
    assert not records.record(virus, announcing(virus))
    assert storage.outbox() == []
    (kept,), cursor = records.quarantined(False, 10, None)
    assert (kept.reason, kept.received, kept.released_at, cursor) == (
        "SES found a virus",
        virus,
        None,
        None,
    )
    assert records.get_quarantined(kept.id) == kept
    # Machine mail is listed apart
    (held,), _ = records.quarantined(True, 10, None)
    assert (held.reason, held.received.ses_message_id) == ("Precedence: bulk", "ses-2")
    assert records.get_quarantined(held.id) == held
    assert records.get_quarantined("nothing") is None


def test_the_quarantine_comes_in_pages_newest_first_until_no_cursor(storage: Storage) -> None:
    for number in range(7):
        storage.records.quarantine(mail(f"ses-{number}", minutes=number), "SES judged it spam")
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page, cursor = storage.records.quarantined(False, 3, cursor)
        assert len(page) <= 3
        pages.append([m.received.ses_message_id for m in page])
        if cursor is None:
            break
    assert [ses for page in pages for ses in page] == [f"ses-{n}" for n in reversed(range(7))]
    assert len(pages) in (3, 4)  # DynamoDB may end on an empty page


def test_a_quarantined_mail_is_released_once_announcing_what_it_became(
    storage: Storage,
) -> None:
    records = storage.records
    records.quarantine(mail("ses-1", "m1", department=None), "sent to no address of ours")
    (kept,), _ = records.quarantined(False, 10, None)
    into_sales = kept.received.model_copy(update={"department_id": "sales"})
    storage.clock.advance(timedelta(minutes=5))
    assert records.release(kept, into_sales, "admin@example.com")
    released = records.get_quarantined(kept.id)
    assert released is not None
    assert (released.released_at, released.released_by) == (
        storage.clock.now(),
        "admin@example.com",
    )
    assert len(storage.outbox()) == 1
    # Released once: a second release (even from a copy read before) writes nothing
    assert not records.release(kept, into_sales, "other@example.com")
    assert len(storage.outbox()) == 1
    after = records.get_quarantined(kept.id)
    assert after is not None
    assert after.released_by == "admin@example.com"


def test_the_mail_of_a_sender_is_indexed_until_it_is_forgotten(storage: Storage) -> None:
    records = storage.records
    records.record(mail("ses-1", "m1", sender="Carol@Client.example.org"), [])
    records.quarantine(mail("ses-2", "m2", sender="carol@client.example.org"), "virus")
    records.record(mail("ses-3", "m3", sender="dave@client.example.org"), [])
    assert sorted(records.mail_from("CAROL@client.example.org")) == ["ses-1", "ses-2"]
    records.forget_mail_from("carol@client.example.org", ["ses-1", "ses-2"])
    assert records.mail_from("carol@client.example.org") == []
    assert records.mail_from("dave@client.example.org") == ["ses-3"]


# --- mail sent -------------------------------------------------------------------------------


def reply(key: str = "msg-1", **fields: object) -> Outbound:
    values: dict[str, object] = {
        "ticket_id": "t1",
        "ticket_message_id": key,
        "ticket_message_at": "2026-11-02T09:00:00.000Z",
        "message_id": f"{key}@example.com",
        "recipients": ["carol@client.example.org"],
    }
    return Outbound(**{**values, **fields})  # type: ignore[arg-type]


def test_a_mails_attempts_are_counted_on_one_record_that_keeps_the_first(
    storage: Storage,
) -> None:
    outbound = storage.outbound
    first = outbound.begin_attempt(reply())
    assert (first.attempts, first.state, first.recipients) == (1, "sending", reply().recipients)
    # A later attempt counts on, keeping the first attempt's Message-ID and recipients
    second = outbound.begin_attempt(reply(message_id="other@example.com", recipients=["x@y.z"]))
    assert second == reply(attempts=2)
    event = sent_event()
    outbound.finish(replace(second, state="sent"), [event], "ses-9")
    assert outbound.of_ses_message("ses-9") == reply(
        attempts=2, state="sent", ses_message_id="ses-9"
    )
    assert outbound.of_ses_message("ses-unknown") is None
    assert storage.outbox() == [event.envelope.id]
    # Attempted again after it was sent, its state is what tells
    assert outbound.begin_attempt(reply()).state == "sent"


def test_a_failed_mail_is_kept_failed_and_a_mail_sent_at_once_is_found_by_its_ses_id(
    storage: Storage,
) -> None:
    outbound = storage.outbound
    failed = replace(outbound.begin_attempt(reply()), state="failed")
    outbound.finish(failed, [])
    assert outbound.begin_attempt(reply()) == reply(attempts=2, state="failed")
    acknowledgement = reply(key="ack-t1", ticket_message_id=None, ticket_message_at=None)
    outbound.record_sent(acknowledgement, "ses-ack")
    found = outbound.of_ses_message("ses-ack")
    assert found == reply(
        key="ack-t1",
        ticket_message_id=None,
        ticket_message_at=None,
        attempts=1,
        state="sent",
        ses_message_id="ses-ack",
    )
    event = sent_event()
    outbound.announce([event])
    assert storage.outbox() == [event.envelope.id]


# --- the mail bucket -------------------------------------------------------------------------


def attachment(name: str, data: bytes) -> ParsedAttachment:
    return ParsedAttachment(
        name=name,
        content_type="application/pdf",
        size=len(data),
        content_id=None,
        inline=False,
        data=data,
    )


def test_attachments_are_kept_beside_their_mail_and_deleted_with_it(storage: Storage) -> None:
    bucket = storage.bucket
    storage.put(INBOUND_PREFIX + "ses-1", b"raw 1")
    storage.put(INBOUND_PREFIX + "ses-2", b"raw 2")
    files = [attachment("receipt.pdf", b"%PDF 1"), attachment("../../etc/passwd", b"%PDF 2")]
    kept = bucket.keep_attachments("ses-1", files)
    assert [(a.name, a.size) for a in kept] == [("receipt.pdf", 6), ("../../etc/passwd", 6)]
    assert [bucket.raw(a.key) for a in kept] == [b"%PDF 1", b"%PDF 2"]
    # The same mail stores the same keys: SES's retry adds nothing
    assert bucket.keep_attachments("ses-1", files) == kept
    other = bucket.keep_attachments("ses-2", files[:1])
    assert other[0].key != kept[0].key
    assert bucket.raw("inbound/nothing") is None
    # Deleting the mail deletes its attachments, and nothing of other mail
    bucket.delete_mail(["ses-1"])
    assert [bucket.raw(k) for k in [INBOUND_PREFIX + "ses-1", *(a.key for a in kept)]] == [None] * 3
    assert bucket.raw(INBOUND_PREFIX + "ses-2") == b"raw 2"
    assert bucket.raw(other[0].key) == b"%PDF 1"


def test_only_uploads_a_message_names_are_kept(storage: Storage) -> None:
    bucket = storage.bucket
    url, fields = bucket.presign_upload(
        f"{UPLOADS_PREFIX}f1/a.pdf", "application/pdf", 3, timedelta(minutes=15)
    )
    assert url.startswith("https://")
    assert (fields["key"], fields["Content-Type"]) == (
        f"{UPLOADS_PREFIX}f1/a.pdf",
        "application/pdf",
    )
    for key in (
        f"{UPLOADS_PREFIX}f1/a.pdf",
        f"{UPLOADS_PREFIX}f1/b.pdf",
        f"{UPLOADS_PREFIX}f2/c.pdf",
    ):
        storage.put(key, b"pdf")
    storage.put(INBOUND_PREFIX + "ses-1", b"raw")
    # Named by a reply; in a folder a note names; neither; not an upload; never uploaded
    bucket.keep_uploads([f"{UPLOADS_PREFIX}f1/a.pdf", INBOUND_PREFIX + "ses-1", "uploads/none"])
    bucket.keep_upload_folders([f"{UPLOADS_PREFIX}f2/", UPLOADS_PREFIX])
    named = NAMED_UPLOAD_TAG[1]
    assert storage.upload_tag(f"{UPLOADS_PREFIX}f1/a.pdf") == named
    assert storage.upload_tag(f"{UPLOADS_PREFIX}f2/c.pdf") == named
    assert storage.upload_tag(f"{UPLOADS_PREFIX}f1/b.pdf") != named
    assert storage.upload_tag(INBOUND_PREFIX + "ses-1") != named
    assert bucket.raw("uploads/none") is None
