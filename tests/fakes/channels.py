"""The channels service's storage, mail bucket and mail sender in memory, keeping the promises of
the DynamoDB, S3 and SES adapters (`tests/contracts/test_channels_repositories.py` holds both to
them): an address belongs to one channel; a mail is recorded once per SES message and once per
Message-ID and department, with its events or not at all; hourly counts refuse past their limit,
counting nothing; the quarantine is listed newest first in bounded pages and released once; a
mail's attempts are counted on one record. Events land in `outbox`, which the fakes of one desk
may share as the service's one table does; the sender keeps what it sent in `sent`."""

from __future__ import annotations

import email
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

from services.channels.data.mail_bucket import ATTACHMENTS_PREFIX, UNSAFE
from services.channels.data.threads import MAX_REFERENCES
from services.channels.logic.channel import Channel
from services.channels.logic.delivery import Outbound, SendFailed
from services.channels.logic.dependencies import HourlyLimits
from services.channels.logic.mail_parser import ParsedAttachment
from services.channels.logic.notifications import (
    Assignment,
    DueDigest,
    Notice,
    NotificationMail,
    SentNotification,
    StaleWindow,
    WatchedTicket,
    Window,
)
from services.channels.logic.quarantine import QuarantinedMail, is_held, quarantine_id
from services.channels.logic.rating_requests import RatingRequest
from services.channels.logic.receive_mail import INBOUND_PREFIX, TooManyNewTickets
from services.channels.logic.ticket_thread import Thread
from services.channels.logic.uploads import NAMED_UPLOAD_TAG, UNNAMED_UPLOAD_TAG, UPLOADS_PREFIX
from shared.clock import Clock
from shared.events.catalogue import Attachment, EmailReceived
from shared.events.envelope import OutgoingEvent
from shared.keys import NO_KEY

Outbox = list[OutgoingEvent]


class FakeChannelRepository:
    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}
        self._owners: dict[str, str] = {}  # address -> channel id: the uniqueness guard

    def add(self, channel: Channel) -> bool:
        if channel.address in self._owners:
            return False
        self._owners[channel.address] = channel.id
        self._channels[channel.id] = channel.model_copy()
        return True

    def replace(self, old: Channel, new: Channel) -> bool:
        if old.address != new.address:
            if new.address in self._owners:
                return False
            del self._owners[old.address]
            self._owners[new.address] = new.id
        self._channels[new.id] = new.model_copy()
        return True

    def remove(self, channel: Channel) -> None:
        self._owners.pop(channel.address, None)
        self._channels.pop(channel.id, None)

    def get(self, channel_id: str) -> Channel | None:
        channel = self._channels.get(channel_id)
        return None if channel is None else channel.model_copy()

    def all(self) -> list[Channel]:
        # As the query over `CHANNEL#<id>` sort keys lists them.
        return [self._channels[key].model_copy() for key in sorted(self._channels)]

    def of_department(self, department_id: str) -> Channel | None:
        theirs = [c for c in self.all() if c.department_id == department_id]
        return min(theirs, key=lambda c: c.created_at) if theirs else None

    def by_addresses(self, addresses: list[str]) -> list[Channel]:
        ids = dict.fromkeys(self._owners[a] for a in addresses if a in self._owners)
        return [self._channels[channel_id].model_copy() for channel_id in ids]


class FakeThreadRepository:
    def __init__(self, outbox: Outbox | None = None) -> None:
        self._threads: dict[str, Thread] = {}
        self._numbers: dict[str, str] = {}  # ticket number -> ticket id
        self._message_ids: dict[str, str] = {}  # Message-ID -> ticket id
        self.outbox: Outbox = [] if outbox is None else outbox

    def save(
        self, thread: Thread, new_message_ids: list[str], events: Sequence[OutgoingEvent] = ()
    ) -> None:
        ids = list(dict.fromkeys(thread.message_ids + new_message_ids))
        if len(ids) > MAX_REFERENCES:
            ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
        # As the adapter does, the caller's thread carries the ids kept from now on.
        thread.message_ids = ids
        self._threads[thread.ticket_id] = _copy(thread)
        self._numbers[thread.number] = thread.ticket_id
        for message_id in new_message_ids:
            self._message_ids[message_id] = thread.ticket_id
        self.outbox.extend(events)

    def thread(self, ticket_id: str) -> Thread | None:
        thread = self._threads.get(ticket_id)
        return None if thread is None else _copy(thread)

    def thread_by_number(self, number: str) -> Thread | None:
        ticket_id = self._numbers.get(number)
        return None if ticket_id is None else self.thread(ticket_id)

    def ticket_of_message_ids(self, message_ids: list[str]) -> str | None:
        # The adapter reads the first 100 in one batch.
        known = (self._message_ids.get(m) for m in message_ids[:100])
        return next((ticket for ticket in known if ticket is not None), None)


def _copy(thread: Thread) -> Thread:
    return replace(thread, cc=list(thread.cc), message_ids=list(thread.message_ids))


@dataclass
class _MessageIdSeen:
    """A Message-ID recorded for a department, and the acknowledgement of the ticket it opens."""

    acknowledge: bool
    channel_id: str | None
    acknowledged: bool = False


class FakeMailRecords:
    """The mail received: the one store behind the inbound, quarantine, acknowledgement and
    received-mail ports, as `DynamoInboundRepository` is."""

    def __init__(self, clock: Clock, outbox: Outbox | None = None) -> None:
        self._clock = clock
        self.outbox: Outbox = [] if outbox is None else outbox
        self._received: dict[tuple[str, str], str | None] = {}  # (SES id, department) -> held
        self._message_ids: dict[tuple[str, str], _MessageIdSeen] = {}
        self._by_sender: dict[str, set[str]] = {}  # address -> SES ids
        self._counts: dict[tuple[str, str], int] = {}  # (what, hour) -> count
        self._quarantine: dict[str, QuarantinedMail] = {}

    # --- inbound --------------------------------------------------------------------------------

    def record(
        self,
        received: EmailReceived,
        events: Sequence[OutgoingEvent],
        acknowledge: bool = False,
        new_tickets_per_hour: int | None = None,
    ) -> bool:
        if self._seen(received):
            return False
        opened = f"OPENED#{received.sender.email}"
        if new_tickets_per_hour is not None and not self._below(opened, new_tickets_per_hour):
            raise TooManyNewTickets()
        self._save_received(received, None, acknowledge)
        if new_tickets_per_hour is not None:
            self._count(opened)
        self.outbox.extend(events)
        return True

    def quarantine(self, received: EmailReceived, reason: str, held: bool = False) -> bool:
        if self._seen(received):
            return False
        self._save_received(received, reason if held else f"quarantined: {reason}", False)
        kept = QuarantinedMail(quarantine_id(received, held), reason, received.model_copy())
        self._quarantine[kept.id] = kept
        return True

    def _seen(self, received: EmailReceived) -> bool:
        """Recorded before: the same SES message, or the same Message-ID for the department."""
        department = received.department_id or NO_KEY
        return (received.ses_message_id, department) in self._received or (
            received.message_id is not None
            and (received.message_id, department) in self._message_ids
        )

    def _save_received(self, received: EmailReceived, held: str | None, acknowledge: bool) -> None:
        department = received.department_id or NO_KEY
        self._received[(received.ses_message_id, department)] = held
        if received.message_id:
            seen = _MessageIdSeen(acknowledge, received.channel_id)
            self._message_ids[(received.message_id, department)] = seen
        sender = received.sender.email.lower()
        self._by_sender.setdefault(sender, set()).add(received.ses_message_id)

    # --- hourly counts --------------------------------------------------------------------------

    def _hour(self) -> str:
        return self._clock.now().strftime("%Y-%m-%dT%H")

    def _below(self, key: str, limit: int) -> bool:
        return self._counts.get((key, self._hour()), 0) < limit

    def _count(self, key: str) -> None:
        counted = (key, self._hour())
        self._counts[counted] = self._counts.get(counted, 0) + 1

    # --- acknowledgements -----------------------------------------------------------------------

    def claim_acknowledgement(self, message_id: str, department_id: str | None) -> str | None:
        seen = self._message_ids.get((message_id, department_id or NO_KEY))
        if seen is None or not seen.acknowledge or seen.acknowledged:
            return None
        seen.acknowledged = True
        return seen.channel_id

    def take_acknowledgement(self, sender: str, channel_id: str, limits: HourlyLimits) -> bool:
        counts = [
            (f"ACKS#{sender}", limits.per_sender),
            (f"CHANNEL_ACKS#{channel_id}", limits.per_channel),
        ]
        if not all(self._below(key, limit) for key, limit in counts):
            return False
        for key, _ in counts:
            self._count(key)
        return True

    # --- the quarantine -------------------------------------------------------------------------

    def quarantined(
        self, held: bool, limit: int, cursor: str | None
    ) -> tuple[list[QuarantinedMail], str | None]:
        # Newest first, from below the cursor, as the adapter's query reads its partition.
        ids = sorted((i for i in self._quarantine if is_held(i) == held), reverse=True)
        rest = [i for i in ids if cursor is None or i < cursor]
        page = [self._quarantine[i] for i in rest[:limit]]
        return page, (page[-1].id if len(rest) > limit else None)

    def get_quarantined(self, quarantine_id_: str) -> QuarantinedMail | None:
        return self._quarantine.get(quarantine_id_)

    def release(self, mail: QuarantinedMail, received: EmailReceived, by: str) -> bool:
        # The use cases release only what they read; the adapter's update would not check either.
        stored = self._quarantine.get(mail.id, mail)
        if stored.released_at is not None:
            return False
        now = self._clock.now()
        self._quarantine[mail.id] = replace(stored, released_at=now, released_by=by)
        self.outbox.append(OutgoingEvent.of(received, now))
        return True

    # --- mail by sender -------------------------------------------------------------------------

    def mail_from(self, address: str) -> list[str]:
        return sorted(self._by_sender.get(address.lower(), ()))

    def forget_mail_from(self, address: str, ses_message_ids: list[str]) -> None:
        self._by_sender.get(address.lower(), set()).difference_update(ses_message_ids)


class FakeOutboundRepository:
    def __init__(self, outbox: Outbox | None = None) -> None:
        self._mail: dict[str, Outbound] = {}  # by the mail's key
        self._ses: dict[str, str] = {}  # SES message id -> the mail's key
        self.outbox: Outbox = [] if outbox is None else outbox

    def begin_attempt(self, outbound: Outbound) -> Outbound:
        # The first attempt's record stays; only the count grows.
        stored = self._mail.get(outbound.key, replace(outbound, attempts=0))
        counted = replace(stored, attempts=stored.attempts + 1)
        self._mail[outbound.key] = counted
        return counted

    def finish(
        self, outbound: Outbound, events: list[OutgoingEvent], ses_message_id: str | None = None
    ) -> None:
        stored = replace(self._mail.get(outbound.key, outbound), state=outbound.state)
        if ses_message_id is not None:
            stored = replace(stored, ses_message_id=ses_message_id)
            self._ses[ses_message_id] = outbound.key
        self._mail[outbound.key] = stored
        self.outbox.extend(events)

    def record_sent(self, outbound: Outbound, ses_message_id: str) -> None:
        self._mail[outbound.key] = replace(
            outbound, attempts=1, state="sent", ses_message_id=ses_message_id
        )
        self._ses[ses_message_id] = outbound.key

    def of_ses_message(self, ses_message_id: str) -> Outbound | None:
        key = self._ses.get(ses_message_id)
        return None if key is None else self._mail.get(key)

    def announce(self, events: list[OutgoingEvent]) -> None:
        self.outbox.extend(events)

    def of_message(self, key: str) -> Outbound | None:
        """The record of a mail by its key: for tests to look at, as they would at the table."""
        return self._mail.get(key)


@dataclass(frozen=True)
class SentMail:
    sender: str
    recipients: list[str]
    raw: bytes
    ses_message_id: str

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class FakeMailSender:
    """Sends nothing: keeps each mail in `sent` with the id it answers. Each error queued in
    `failures` is raised by one send instead (SES throttling or refusing)."""

    sent: list[SentMail] = field(default_factory=list)
    failures: list[SendFailed] = field(default_factory=list)
    attempts: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, sender: str, recipients: list[str], raw: bytes) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        ses_message_id = f"ses-out-{next(self._ids):04d}"
        self.sent.append(SentMail(sender, list(recipients), raw, ses_message_id))
        return ses_message_id

    def fail(self, error: SendFailed, times: int = 1) -> None:
        self.failures.extend([error] * times)

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.sent]


@dataclass(frozen=True)
class UploadForm:
    """What a presigned POST allows: this type and exactly this size."""

    content_type: str
    size: int


class FakeMailBucket:
    """The bucket's objects in `objects`, and the upload tag of each upload in `tags`."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.tags: dict[str, str] = {}
        self.forms: dict[str, UploadForm] = {}

    def raw(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def keep_attachments(
        self, ses_message_id: str, files: list[ParsedAttachment]
    ) -> list[Attachment]:
        kept = []
        for number, file in enumerate(files, start=1):
            # The same mail stores the same keys, beside its raw MIME.
            key = (
                f"{ATTACHMENTS_PREFIX}{ses_message_id}/{number}-{UNSAFE.sub('_', file.name)[:100]}"
            )
            self.objects[key] = file.data
            kept.append(
                Attachment(
                    name=file.name,
                    content_type=file.content_type,
                    size=file.size,
                    key=key,
                    content_id=file.content_id,
                )
            )
        return kept

    def delete_mail(self, ses_message_ids: list[str]) -> None:
        for ses_message_id in ses_message_ids:
            attachments = f"{ATTACHMENTS_PREFIX}{ses_message_id}/"
            gone = [k for k in self.objects if k.startswith(attachments)]
            for key in [INBOUND_PREFIX + ses_message_id, *gone]:
                self.objects.pop(key, None)

    def presign_upload(
        self, key: str, content_type: str, size: int, expires_in: timedelta
    ) -> tuple[str, dict[str, str]]:
        self.forms[key] = UploadForm(content_type, size)
        return "https://mail-bucket.example", {"key": key, "Content-Type": content_type}

    def post(self, key: str, data: bytes) -> bool:
        """The browser's POST of a form: stored, tagged unnamed, if it is the file allowed."""
        form = self.forms.get(key)
        if form is None or form.size != len(data):
            return False
        self.objects[key] = data
        self.tags[key] = UNNAMED_UPLOAD_TAG[1]
        return True

    def keep_uploads(self, keys: list[str]) -> None:
        for key in keys:
            if key.startswith(UPLOADS_PREFIX) and key in self.objects:
                self.tags[key] = NAMED_UPLOAD_TAG[1]

    def keep_upload_folders(self, folders: list[str]) -> None:
        wanted = [f for f in folders if f.startswith(UPLOADS_PREFIX) and f != UPLOADS_PREFIX]
        self.keep_uploads([k for k in self.objects if any(k.startswith(f) for f in wanted)])


class FakeNotificationStore:
    """Notifications in memory, keeping the DynamoDB store's promises: each part of a watched
    ticket keeps its newest value, and a write that keeps one reads the ticket back as it left
    it; an event is claimed once per agent; a window changes only from the version read (else
    StaleWindow); what waits is due when its window ends, or RETRY_AFTER after a send of it failed,
    and is taken once."""

    def __init__(self) -> None:
        self._watched: dict[str, dict[str, Any]] = {}
        self._defaults: dict[str, bool] = {}
        self._own: dict[str, dict[str, bool]] = {}
        self._windows: dict[tuple[str, str], Window] = {}
        self._claims: set[tuple[str, str]] = set()
        self._sent: dict[str, SentNotification] = {}

    def watch(self, ticket: WatchedTicket) -> WatchedTicket:
        item = self._watched.setdefault(ticket.ticket_id, {})
        item.update(number=ticket.number, subject=ticket.subject)
        if ticket.channel_id:
            item["channel_id"] = ticket.channel_id
        if ticket.department_id:
            item.setdefault("department_id", ticket.department_id)
        item.setdefault("department_version", 0)
        if ticket.client_words:
            item.setdefault("client_words", ticket.client_words)
        watched = self.watched(ticket.ticket_id)
        assert watched is not None
        return watched

    def follow_assignee(self, ticket_id: str, assignment: Assignment) -> WatchedTicket | None:
        kept: Assignment | None = self._watched.get(ticket_id, {}).get("assignment")
        if (
            kept is not None
            and kept.version == assignment.version
            and kept.cause != assignment.cause
        ):
            return None  # the same assignment, told by the other event of its commit
        if not self._newer(ticket_id, "assignment", assignment, assignment.version):
            return None
        return self.watched(ticket_id)

    def follow_department(self, ticket_id: str, department_id: str | None, version: int) -> None:
        self._newer(ticket_id, "department_id", department_id, version)

    def follow_client_words(self, ticket_id: str, words: str, at: datetime) -> None:
        self._newer(ticket_id, "client_words", words, at)

    def _newer(self, ticket_id: str, field_: str, value: Any, order: Any) -> bool:
        item = self._watched.setdefault(ticket_id, {})
        order_field = "department_version" if field_ == "department_id" else f"{field_}_order"
        if order_field in item and item[order_field] > order:
            return False
        item[field_], item[order_field] = value, order
        return True

    def forget_client_words(self, ticket_id: str) -> None:
        self._watched.setdefault(ticket_id, {}).pop("client_words", None)

    def watched(self, ticket_id: str) -> WatchedTicket | None:
        item = self._watched.get(ticket_id)
        if item is None or "number" not in item:
            return None
        assignment: Assignment | None = item.get("assignment")
        return WatchedTicket(
            ticket_id=ticket_id,
            number=item["number"],
            subject=item["subject"],
            department_id=item.get("department_id"),
            channel_id=item.get("channel_id"),
            assignee=assignment.assignee if assignment else None,
            client_words=item.get("client_words"),
            assignment=assignment,
        )

    def defaults(self) -> dict[str, bool]:
        return dict(self._defaults)

    def set_defaults(self, defaults: dict[str, bool]) -> None:
        self._defaults = dict(defaults)

    def own_preferences(self, agents: list[str]) -> dict[str, dict[str, bool]]:
        return {agent: dict(self._own[agent]) for agent in agents if agent in self._own}

    def set_own_preferences(self, agent: str, own: dict[str, bool]) -> None:
        self._own[agent] = dict(own)

    def window(self, agent: str, ticket_id: str) -> Window | None:
        return self._windows.get((agent, ticket_id))

    def _check(self, agent: str, ticket_id: str, previous: Window | None) -> None:
        if self._windows.get((agent, ticket_id)) != previous:
            raise StaleWindow()

    def open_window(
        self,
        cause: str,
        agent: str,
        ticket_id: str,
        previous: Window | None,
        sent: NotificationMail,
    ) -> Window | None:
        if (cause, agent) in self._claims:
            return None
        self._check(agent, ticket_id, previous)
        opened = Window(agent, ticket_id, sent.at, (previous.version if previous else 0) + 1)
        self._claims.add((cause, agent))
        self._windows[(agent, ticket_id)] = opened
        self._sent[sent.message_id] = SentNotification(agent, ticket_id)
        return opened

    def hold(self, cause: str, agent: str, notice: Notice, previous: Window) -> bool:
        if (cause, agent) in self._claims:
            return False
        self._check(agent, previous.ticket_id, previous)
        self._claims.add((cause, agent))
        self._windows[(agent, previous.ticket_id)] = replace(
            previous, version=previous.version + 1, pending=(*previous.pending, notice)
        )
        return True

    def release(self, cause: str, opened: Window, previous: Window | None) -> None:
        self._claims.discard((cause, opened.agent))
        if previous is None:
            del self._windows[(opened.agent, opened.ticket_id)]
        else:
            self._windows[(opened.agent, opened.ticket_id)] = previous

    def due(self, now: datetime, limit: int) -> list[DueDigest]:
        due = [
            DueDigest(w.agent, w.ticket_id, w.due_at)
            for w in self._windows.values()
            if w.pending and w.due_at <= now
        ]
        return sorted(due, key=lambda d: (d.due_at, d.agent, d.ticket_id))[:limit]

    def take_due(self, due: DueDigest, sent: NotificationMail) -> Window | None:
        window = self._windows.get((due.agent, due.ticket_id))
        if window is None or not window.pending or window.due_at != due.due_at:
            return None
        self._windows[(due.agent, due.ticket_id)] = Window(
            due.agent, due.ticket_id, sent.at, window.version + 1
        )
        self._sent[sent.message_id] = SentNotification(due.agent, due.ticket_id)
        return window

    def put_back(self, waiting: Window, current: Window | None) -> None:
        self._check(waiting.agent, waiting.ticket_id, current)
        self._windows[(waiting.agent, waiting.ticket_id)] = waiting

    def sent_notification(self, message_ids: list[str]) -> SentNotification | None:
        return next((self._sent[m] for m in message_ids if m in self._sent), None)


class FakeRatingRequestStore:
    """Rating mails waiting in memory, keeping the DynamoDB store's promises: a request is held
    unless a re-open or a resolution as late or later is known; it is due at its time, the
    oldest first, and taken once, while no re-open followed its resolution and no other
    resolution followed it."""

    def __init__(self) -> None:
        self._due: dict[tuple[datetime, str], RatingRequest] = {}
        self._resolved: dict[str, str] = {}
        self._reopened: dict[str, str] = {}

    def hold(self, request: RatingRequest) -> None:
        latest = self._resolved.get(request.ticket_id, request.resolved_at)
        if self._reopened_since(request) or latest > request.resolved_at:
            return
        self._resolved[request.ticket_id] = request.resolved_at
        self._due[(request.due_at, request.ticket_id)] = request

    def reopened(self, ticket_id: str, at: str) -> None:
        self._reopened[ticket_id] = max(at, self._reopened.get(ticket_id, at))

    def due(self, now: datetime, limit: int) -> list[RatingRequest]:
        return [self._due[key] for key in sorted(self._due) if key[0] <= now][:limit]

    def take(self, request: RatingRequest) -> bool:
        if self._due.pop((request.due_at, request.ticket_id), None) is None:
            return False
        latest = self._resolved.get(request.ticket_id)
        return latest == request.resolved_at and not self._reopened_since(request)

    def _reopened_since(self, request: RatingRequest) -> bool:
        return self._reopened.get(request.ticket_id, "") >= request.resolved_at
