"""What every channels use case is given: its storage, the mail bucket, the mail sender, the clock
and the deployment's choices about mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.channels.logic.channel import Channel
from services.channels.logic.delivery import Outbound
from services.channels.logic.mail_parser import ParsedAttachment
from services.channels.logic.notifications import (
    Assignment,
    DueDigest,
    Notice,
    NotificationMail,
    SentNotification,
    WatchedTicket,
    Window,
)
from services.channels.logic.quarantine import QuarantinedMail, UnknownAddressPolicy
from services.channels.logic.rating_requests import RatingRequest
from services.channels.logic.ticket_thread import Thread
from shared.clock import Clock
from shared.departments import DepartmentStore
from shared.events.catalogue import Attachment, EmailReceived
from shared.events.envelope import OutgoingEvent


class ChannelRepository(Protocol):
    def add(self, channel: Channel) -> bool:
        """Store a new channel; False if its address belongs to another channel."""
        ...

    def replace(self, old: Channel, new: Channel) -> bool:
        """Store a changed channel (re-keying its address); False if the new address is taken."""
        ...

    def remove(self, channel: Channel) -> None: ...

    def get(self, channel_id: str) -> Channel | None: ...

    def all(self) -> list[Channel]: ...

    def of_department(self, department_id: str) -> Channel | None:
        """The department's first channel (its address answers its tickets)."""
        ...

    def by_addresses(self, addresses: list[str]) -> list[Channel]:
        """The channels of these (canonical) addresses, in one read."""
        ...


class ThreadRepository(Protocol):
    def save(
        self, thread: Thread, new_message_ids: list[str], events: Sequence[OutgoingEvent] = ()
    ) -> None:
        """Store the thread, the ids that lead to it, and its events, in one write."""
        ...

    def thread(self, ticket_id: str) -> Thread | None: ...

    def thread_by_number(self, number: str) -> Thread | None: ...

    def ticket_of_message_ids(self, message_ids: list[str]) -> str | None:
        """The ticket any of these Message-IDs belongs to (the first known one wins)."""
        ...


class InboundRepository(Protocol):
    def record(
        self,
        received: EmailReceived,
        events: Sequence[OutgoingEvent],
        acknowledge: bool = False,
        new_tickets_per_hour: int | None = None,
    ) -> bool:
        """Store the mail for its department, with its events; False if it was recorded before
        (same SES message, or same Message-ID for the same department). `acknowledge`: the
        ticket it opens is to be acknowledged. `new_tickets_per_hour`: the mail opens a ticket,
        counted against its sender's hour in the same write; raises TooManyNewTickets (writing
        nothing) when the hour's are spent."""
        ...

    def quarantine(self, received: EmailReceived, reason: str, held: bool = False) -> bool:
        """Record the mail and keep it back for an admin, with what it would have announced, in
        one write; `held`: machine mail that answers nothing, listed apart. False if it was
        recorded before, as for `record`."""
        ...


class QuarantineRepository(Protocol):
    def quarantined(
        self, held: bool, limit: int, cursor: str | None
    ) -> tuple[list[QuarantinedMail], str | None]: ...

    def get_quarantined(self, quarantine_id: str) -> QuarantinedMail | None: ...

    def release(self, mail: QuarantinedMail, received: EmailReceived, by: str) -> bool:
        """Mark it released and announce `received`, in one write; False if released before."""
        ...


@dataclass(frozen=True)
class HourlyLimits:
    """How many acknowledgements go out an hour: to one sender, and from one channel (a flood of
    forged senders must not make a channel a source of spam)."""

    per_sender: int
    per_channel: int


class Acknowledgements(Protocol):
    def claim_acknowledgement(self, message_id: str, department_id: str | None) -> str | None:
        """The channel to acknowledge from, once, if the opening mail asked for it."""
        ...

    def take_acknowledgement(self, sender: str, channel_id: str, limits: HourlyLimits) -> bool:
        """Count one acknowledgement to the sender from the channel this hour, for both at once;
        False (counting nothing) once either has had the hour's limit."""
        ...


class ReceivedMailIndex(Protocol):
    def mail_from(self, address: str) -> list[str]:
        """The SES ids of the mail received from `address` whose files may still be kept."""
        ...

    def forget_mail_from(self, address: str, ses_message_ids: list[str]) -> None:
        """Drop those mails from the index, and with them the address."""
        ...


class OutboundRepository(Protocol):
    def begin_attempt(self, outbound: Outbound) -> Outbound:
        """Count one more attempt (creating the record on the first); the record as stored."""
        ...

    def finish(
        self, outbound: Outbound, events: list[OutgoingEvent], ses_message_id: str | None = None
    ) -> None:
        """Store the outcome (`sent` with SES's id, or `failed`) with its events, in one write."""
        ...

    def record_sent(self, outbound: Outbound, ses_message_id: str) -> None:
        """Keep a mail sent in one attempt (an acknowledgement), so SES's reports find it."""
        ...

    def of_ses_message(self, ses_message_id: str) -> Outbound | None: ...

    def announce(self, events: list[OutgoingEvent]) -> None: ...


class MailSender(Protocol):
    def send(self, sender: str, recipients: list[str], raw: bytes) -> str:
        """Send the raw mail; returns the sending service's id of it, or raises SendFailed."""
        ...


class MailBucket(Protocol):
    """The received mail as SES stored it, the files taken out of it, and agents' uploads."""

    def raw(self, key: str) -> bytes | None:
        """The object under `key` (raw MIME, an upload), or None if it is not there."""
        ...

    def keep_attachments(
        self, ses_message_id: str, files: list[ParsedAttachment]
    ) -> list[Attachment]:
        """Store the attachments beside the mail; their names, types, sizes and keys."""
        ...

    def delete_mail(self, ses_message_ids: list[str]) -> None:
        """Delete the raw MIME of these mails and the attachments taken out of them."""
        ...

    def presign_upload(
        self, key: str, content_type: str, size: int, expires_in: timedelta
    ) -> tuple[str, dict[str, str]]:
        """The URL and form fields of a POST that may store exactly this file under `key`."""
        ...

    def keep_uploads(self, keys: list[str]) -> None:
        """The files a message names: kept for as long as the message, unlike unnamed uploads."""
        ...

    def keep_upload_folders(self, folders: list[str]) -> None:
        """Every file in these upload folders, as `keep_uploads` keeps named files."""
        ...


class NotificationStore(Protocol):
    """What channels keeps to tell agents of tickets: the tickets as they stand, preferences,
    each agent's window per ticket with what waits in it, and the notifications sent."""

    def watch(self, ticket: WatchedTicket) -> WatchedTicket:
        """Keep a new ticket: its number, subject, department, channel and first words; an
        assignee or department already followed (events can arrive out of order) stays. The
        ticket as it stands now, in the same write."""
        ...

    def follow_assignee(self, ticket_id: str, assignment: Assignment) -> WatchedTicket | None:
        """Keep the assignment, unless a later one is kept, or another event's at the same
        version (one commit tells it twice: the ticket's announcement and its turn). The ticket
        as it stands now, in the same write; None when the assignment is not kept or the ticket
        itself is not known yet (`watch` then returns it with the assignment)."""
        ...

    def follow_department(self, ticket_id: str, department_id: str | None, version: int) -> None:
        """Keep the department of this version of the ticket, unless a later one is kept."""
        ...

    def follow_client_words(self, ticket_id: str, words: str, at: datetime) -> None:
        """Keep the client's words written at `at`, unless later ones are kept."""
        ...

    def forget_client_words(self, ticket_id: str) -> None: ...

    def watched(self, ticket_id: str) -> WatchedTicket | None: ...

    def defaults(self) -> dict[str, bool]:
        """The admins' defaults, by kind (a kind not set is on)."""
        ...

    def set_defaults(self, defaults: dict[str, bool]) -> None: ...

    def own_preferences(self, agents: list[str]) -> dict[str, dict[str, bool]]:
        """Each agent's own choices, by kind (none: they follow the defaults), in one read."""
        ...

    def set_own_preferences(self, agent: str, own: dict[str, bool]) -> None: ...

    def window(self, agent: str, ticket_id: str) -> Window | None: ...

    def open_window(
        self,
        cause: str,
        agent: str,
        ticket_id: str,
        previous: Window | None,
        sent: NotificationMail,
    ) -> Window | None:
        """Claim `cause` for the agent and start a window with a mail sent now, in one write;
        None when the cause was claimed before for them. StaleWindow when `previous` is no
        longer what is stored."""
        ...

    def hold(self, cause: str, agent: str, notice: Notice, previous: Window) -> bool:
        """Claim `cause` for the agent and add `notice` to what waits in the window (due when it
        ends), in one write; False when the cause was claimed before. StaleWindow as above."""
        ...

    def release(self, cause: str, opened: Window, previous: Window | None) -> None:
        """Undo `open_window` for a mail that did not go out, so the event can be tried again."""
        ...

    def due(self, now: datetime, limit: int) -> list[DueDigest]:
        """Windows whose held notices are due, the oldest first; no more than `limit`."""
        ...

    def take_due(self, due: DueDigest, sent: NotificationMail) -> Window | None:
        """Start the next window with a mail sent now and hand over the window as it was (what
        waited, and how many of its sends failed), in one write; None when another sweep took
        it first, or a new notice sent it along."""
        ...

    def put_back(self, waiting: Window, current: Window | None) -> None:
        """Store `waiting` (a group whose send failed, back in the window) in place of
        `current`, listed due at its due time, in one write. StaleWindow when `current` is no
        longer what is stored."""
        ...

    def sent_notification(self, message_ids: list[str]) -> SentNotification | None:
        """The notification any of these Message-IDs names, if it is one of ours."""
        ...


class RatingRequestStore(Protocol):
    """The rating mails that wait for the deployment's delay, listed by when they are due, and
    the latest re-open of each ticket that has one waiting. Times are the tickets service's
    (`isoformat`), which order as their text does."""

    def hold(self, request: RatingRequest) -> None:
        """List the request as due, unless the ticket was re-opened after its resolution or
        resolved again since (those events can arrive first)."""
        ...

    def reopened(self, ticket_id: str, at: str) -> None:
        """The ticket left resolved and closed at `at`: no request for a resolution before it is
        taken any more."""
        ...

    def due(self, now: datetime, limit: int) -> list[RatingRequest]:
        """The requests due by `now`, the oldest first; no more than `limit`."""
        ...

    def take(self, request: RatingRequest) -> bool:
        """Take the request off the due list, in one write; True only for the first to take it,
        and only while its resolution is the ticket's latest and no re-open followed it."""
        ...


@dataclass(frozen=True)
class ReplyTokens:
    """How the deployment signs reply-to addresses: no secret, no reply-to addresses."""

    secret: str | None
    days: int


@dataclass(frozen=True)
class RatingLinks:
    """How rating links are made: the secret that signs them and the public address (the edge's)
    they lead to."""

    secret: str
    public_url: str


@dataclass(frozen=True)
class MailPolicy:
    """The deployment's choices about mail in and out."""

    reply_tokens: ReplyTokens
    acknowledgements: HourlyLimits
    unknown_address: UnknownAddressPolicy = "triage"
    tickets_per_sender_per_hour: int = 20
    triage_department: str | None = None  # sees the tickets that have no department
    console_url: str | None = None  # where the agent console is, for links in mail to agents
    mail_domain: str | None = None  # the domain SES receives and sends for; None: any
    rating_links: RatingLinks | None = None  # None: no rating mail when a ticket is resolved
    rating_delay: timedelta = timedelta()  # how long after the resolution the rating mail goes


@dataclass(frozen=True)
class Dependencies:
    channels: ChannelRepository
    threads: ThreadRepository
    inbound: InboundRepository
    quarantine: QuarantineRepository
    acknowledgements: Acknowledgements
    received_mail: ReceivedMailIndex
    outbound_mail: OutboundRepository
    sender: MailSender
    mail_bucket: MailBucket
    clock: Clock
    policy: MailPolicy
    notifications: NotificationStore
    departments: DepartmentStore
    rating_requests: RatingRequestStore
