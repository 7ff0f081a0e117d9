"""Answering by mail: an agent's public reply goes to the requester and the CCs from the
department's address, threaded so every mail client shows it in the conversation.

Only public messages written by agents are mailed. Internal notes never are: their announcement
carries no body, and this module refuses anything that is not a public agent message.

Who a mail goes to and its Message-ID are settled first, so the attempt can be counted; the MIME is
written as part of the attempt, and a mail that cannot be written fails like one SES refuses.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from services.channels.logic.channel import Channel
from services.channels.logic.delivery import MailNotWritten, SendFailed
from services.channels.logic.dependencies import MailBucket
from services.channels.logic.thread_matching import reply_address
from services.channels.logic.ticket_thread import Thread
from services.channels.logic.uploads import MAX_UPLOAD_BYTES
from shared.clock import Clock, isoformat
from shared.events.catalogue import Attachment, EmailSent, MessagePosted
from shared.events.envelope import OutgoingEvent
from shared.rating_links import Rating
from shared.text import CONTROL_CHARACTERS

REPLIES = uuid.UUID("0b6f3c1e-8d2a-4f57-a8e9-5c4d7b2e1f90")  # namespace of replies' Message-IDs
# A line break in a header would end it (and could start another: `Bcc:`); the MIME writer refuses
# any of these, so each run of them becomes one space.
HEADER_BREAKS = re.compile(f"[{CONTROL_CHARACTERS}]+")


@dataclass(frozen=True)
class Outgoing:
    """A mail to send: its Message-ID (the same on every attempt) and who it goes to."""

    message_id: str
    to: list[str]
    cc: list[str] = field(default_factory=list)

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc]


def deliverable(address: str) -> bool:
    """Not on the reserved `.invalid` domain (RFC 2606), where nothing can ever be delivered: an
    erased requester's address is there, and mailing it would only cost a bounce."""
    return not address.lower().endswith(".invalid")


def should_mail(posted: MessagePosted) -> bool:
    return (
        posted.visibility == "public"
        and posted.author.get("type") == "agent"
        and posted.body is not None
    )


def header_text(value: str) -> str:
    """`value` as one header line: control characters and line separators become a space."""
    return HEADER_BREAKS.sub(" ", value)


def address_reply(posted: MessagePosted, thread: Thread, channel: Channel) -> Outgoing:
    """The reply's Message-ID and recipients: the requester and the CCs that can receive mail."""
    domain = channel.address.partition("@")[2]
    # The same on every attempt to send this message, so a retry cannot fork the thread.
    message_id = f"{uuid.uuid5(REPLIES, posted.message_id)}@{domain}"
    requester = [posted.requester.email] if deliverable(posted.requester.email) else []
    cc = [a for a in thread.cc if a != posted.requester.email and deliverable(a)]
    return Outgoing(message_id, requester, cc)


def write_reply(
    posted: MessagePosted,
    thread: Thread,
    channel: Channel,
    outgoing: Outgoing,
    files: list[tuple[Attachment, bytes]],
    clock: Clock,
    secret: str | None,
) -> bytes:
    """The reply's MIME; MailNotWritten if it cannot be written."""

    def compose() -> EmailMessage:
        message = EmailMessage()
        agent = posted.author.get("name") or posted.author.get("email") or ""
        display = f"{agent} ({channel.department_id})" if agent else channel.department_id
        message["From"] = Address(display_name=header_text(display), addr_spec=channel.address)
        if outgoing.to:
            message["To"] = ", ".join(outgoing.to)
        if outgoing.cc:
            message["Cc"] = ", ".join(outgoing.cc)
        _thread_headers(message, thread, channel, outgoing.message_id, clock, secret)
        message["Auto-Submitted"] = "no"  # a person wrote this; auto-responders may answer it
        text = _signed(posted.body or "", channel)
        message.set_content(text)
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
        message.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
        for attachment, data in files:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                data, maintype=maintype, subtype=subtype, filename=header_text(attachment.name)
            )
        return message

    return written_mail(compose)


def _thread_headers(
    message: EmailMessage,
    thread: Thread,
    channel: Channel,
    message_id: str,
    clock: Clock,
    secret: str | None,
) -> None:
    """What keeps a mail of ours in its ticket's thread in every client: the tag, our Message-ID,
    the ids it answers, and the signed reply-to address."""
    reply_to = (
        reply_address(channel.address, thread.number, secret, clock.now()) if secret else None
    )
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = header_text(f"[{thread.number}] {thread.subject}")
    message["Message-ID"] = f"<{message_id}>"
    if thread.message_ids:
        message["In-Reply-To"] = f"<{thread.message_ids[-1]}>"
        message["References"] = " ".join(f"<{m}>" for m in thread.message_ids)
    message["Date"] = format_datetime(clock.now())


def _automatic(
    thread: Thread,
    channel: Channel,
    outgoing: Outgoing,
    clock: Clock,
    secret: str | None,
    auto_submitted: str,
) -> EmailMessage:
    """An automatic mail of ours to the client in the ticket's thread, from the department's
    address, declared as `auto_submitted` (RFC 3834); its body is the caller's."""
    message = EmailMessage()
    message["From"] = Address(
        display_name=header_text(channel.department_id), addr_spec=channel.address
    )
    message["To"] = ", ".join(outgoing.to)
    _thread_headers(message, thread, channel, outgoing.message_id, clock, secret)
    message["Auto-Submitted"] = auto_submitted
    return message


def _signed(text: str, channel: Channel) -> str:
    return f"{text}\n\n-- \n{channel.signature}" if channel.signature else text


def written_mail(compose: Callable[[], EmailMessage]) -> bytes:
    """The MIME of the mail `compose` builds. Writing it reads nothing and depends on nothing but
    its input, so whatever fails here fails the same way on every attempt: for good."""
    try:
        return compose().as_bytes()
    except Exception as error:  # the email package raises several kinds: any one is final
        raise MailNotWritten(f"the mail could not be written: {error}") from error


def read_attachments(
    attachments: list[Attachment], files: MailBucket
) -> list[tuple[Attachment, bytes]]:
    """The files an agent attached; a missing or oversized one fails the mail for good."""
    read: list[tuple[Attachment, bytes]] = []
    total = 0
    for attachment in attachments:
        try:
            data = files.raw(attachment.key)
        except Exception as error:  # the store did not answer: another attempt may do better
            raise SendFailed(
                f"the attachment {attachment.name} could not be read", False
            ) from error
        if data is None:
            raise SendFailed(f"the attachment {attachment.name} was never uploaded", True)
        total += len(data)
        if total > MAX_UPLOAD_BYTES:
            raise SendFailed("the attachments are larger than a mail may be (10 MB)", True)
        read.append((attachment, data))
    return read


def sent_event(
    posted: MessagePosted, outgoing: Outgoing, sender: str, clock: Clock
) -> OutgoingEvent:
    sent = EmailSent(
        ticket_id=posted.ticket_id,
        ticket_message_id=posted.message_id,
        ticket_message_at=posted.created_at,
        message_id=outgoing.message_id,
        sender=sender,
        recipients=outgoing.recipients,
        sent_at=isoformat(clock.now()),
    )
    return OutgoingEvent.of(sent, clock.now())


ACKNOWLEDGED_SUBJECT_LENGTH = 80  # the sender's words we repeat: enough to recognise, no more
TEMPLATE_FIELD = re.compile(r"\{(number|subject)\}")
DEFAULT_ACKNOWLEDGEMENT = (
    "We received your message and opened ticket {number}: {subject}.\n\n"
    "Reply to this mail to add to it; please keep {number} in the subject."
)


def address_acknowledgement(thread: Thread, channel: Channel) -> Outgoing:
    return Outgoing(f"{uuid.uuid4()}@{channel.address.partition('@')[2]}", [thread.requester])


def write_acknowledgement(
    created_number: str,
    thread: Thread,
    channel: Channel,
    outgoing: Outgoing,
    clock: Clock,
    secret: str | None,
) -> bytes:
    """The mail that tells a client their ticket exists. It declares itself automatic (RFC 3834)
    and asks autoresponders not to answer, so two robots never talk to each other."""

    def compose() -> EmailMessage:
        message = _automatic(thread, channel, outgoing, clock, secret, "auto-replied")
        message["X-Auto-Response-Suppress"] = "All"
        template = channel.acknowledge_template or DEFAULT_ACKNOWLEDGEMENT
        fields = {"number": created_number, "subject": _quoted_subject(thread.subject)}
        # The two fields are filled in, once each; any other brace is sent as written.
        message.set_content(TEMPLATE_FIELD.sub(lambda field: fields[field.group(1)], template))
        return message

    return written_mail(compose)


REMINDERS = uuid.UUID("9a3c2f71-5e04-4b8d-b6a1-7d2e9c4f0b35")  # namespace of reminders' Message-IDs
REMINDER = (
    "We are waiting for your answer on ticket {number}: {subject}.\n\n"
    "Reply to this mail to continue; please keep {number} in the subject."
)
REMINDER_DEADLINE = (
    "\n\nIf we do not hear from you by {date}, we will take the matter as settled and resolve "
    "the ticket; writing to us after that opens it again."
)


def address_reminder(thread: Thread, channel: Channel, reminder_id: str) -> Outgoing:
    """The reminder's Message-ID (the same for every delivery of its event) and recipient: the
    requester, the one the ticket waits on."""
    domain = channel.address.partition("@")[2]
    return Outgoing(f"{uuid.uuid5(REMINDERS, reminder_id)}@{domain}", [thread.requester])


def write_reminder(
    thread: Thread,
    channel: Channel,
    outgoing: Outgoing,
    resolves_at: datetime | None,
    clock: Clock,
    secret: str | None,
) -> bytes:
    """The mail that reminds a client a ticket waits on them. Automatic (RFC 3834), yet written to
    be answered: no header asks mail clients not to, and the answer threads into the ticket and
    re-opens it like any reply."""

    def compose() -> EmailMessage:
        message = _automatic(thread, channel, outgoing, clock, secret, "auto-generated")
        text = REMINDER.format(number=thread.number, subject=_quoted_subject(thread.subject))
        if resolves_at is not None:
            text += REMINDER_DEADLINE.format(date=resolves_at.strftime("%-d %B %Y, %H:%M UTC"))
        message.set_content(_signed(text, channel))
        return message

    return written_mail(compose)


RATING_REQUESTS = uuid.UUID("5d1e8b47-2c9a-4f63-9e0b-8a7c3d2f1e64")  # their Message-IDs' namespace
RATING_REQUEST = (
    "Ticket {number} is resolved: {subject}.\n\n"
    "How did we do? One click tells us:\n\n"
    "Good: {good}\n\n"
    "Bad: {bad}\n\n"
    "The link opens a page where you can add a comment before you send your rating; you can "
    "change it for {days} days. If the matter is not settled, reply to this mail."
)


def address_rating_request(thread: Thread, channel: Channel, resolved_at: str) -> Outgoing:
    """The rating mail's Message-ID (the same for every delivery of the resolution's event) and
    recipient: the requester."""
    domain = channel.address.partition("@")[2]
    message_id = f"{uuid.uuid5(RATING_REQUESTS, f'{thread.ticket_id}/{resolved_at}')}@{domain}"
    return Outgoing(message_id, [thread.requester])


def write_rating_request(
    thread: Thread,
    channel: Channel,
    outgoing: Outgoing,
    links: dict[Rating, str],
    days: int,
    clock: Clock,
    secret: str | None,
) -> bytes:
    """The mail that asks a client to rate the resolution of their ticket, with a link per
    rating (`links`). Automatic (RFC 3834), yet answerable like a reminder: an answer threads
    into the ticket and re-opens it."""

    def compose() -> EmailMessage:
        message = _automatic(thread, channel, outgoing, clock, secret, "auto-generated")
        text = RATING_REQUEST.format(
            number=thread.number,
            subject=_quoted_subject(thread.subject),
            good=links["good"],
            bad=links["bad"],
            days=days,
        )
        message.set_content(_signed(text, channel))
        return message

    return written_mail(compose)


def _quoted_subject(subject: str) -> str:
    """The subject as an acknowledgement repeats it: one line of plain text, cut short. Its
    sender chose the words, and an acknowledgement to a forged sender must not carry them far."""
    line = header_text(subject).strip()
    if len(line) <= ACKNOWLEDGED_SUBJECT_LENGTH:
        return line
    return line[: ACKNOWLEDGED_SUBJECT_LENGTH - 1].rstrip() + "…"
