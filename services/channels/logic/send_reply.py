"""Answering by mail: an agent's public reply goes to the requester and the CCs from the
department's address, threaded so every mail client shows it in the conversation.

Only public messages written by agents are mailed. Internal notes never are: their announcement
carries no body, and this module refuses anything that is not a public agent message.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from services.channels.logic.channel import Channel
from services.channels.logic.delivery import SendFailed
from services.channels.logic.threading import Thread, reply_token
from services.channels.logic.uploads import MAX_UPLOAD_BYTES
from shared.clock import Clock, isoformat
from shared.events.catalogue import Attachment, EmailSent, MessagePosted
from shared.events.envelope import OutgoingEvent


class MailSender(Protocol):
    def send(self, sender: str, recipients: list[str], raw: bytes) -> str:
        """Send the raw mail; returns the sending service's id of it, or raises SendFailed."""
        ...


REPLIES = uuid.UUID("0b6f3c1e-8d2a-4f57-a8e9-5c4d7b2e1f90")  # namespace of replies' Message-IDs


class FileStore(Protocol):
    def raw(self, key: str) -> bytes | None: ...


@dataclass(frozen=True)
class Outgoing:
    message: EmailMessage
    message_id: str
    recipients: list[str]


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


def compose_reply(
    posted: MessagePosted, thread: Thread, channel: Channel, clock: Clock, secret: str | None
) -> Outgoing:
    domain = channel.address.partition("@")[2]
    # The same on every attempt to send this message, so a retry cannot fork the thread.
    message_id = f"{uuid.uuid5(REPLIES, posted.message_id)}@{domain}"
    message = EmailMessage()
    agent = posted.author.get("name") or posted.author.get("email") or ""
    display = f"{agent} ({channel.department_id})" if agent else channel.department_id
    message["From"] = Address(display_name=display, addr_spec=channel.address)
    requester = [posted.requester.email] if deliverable(posted.requester.email) else []
    if requester:
        message["To"] = requester[0]
    cc = [a for a in thread.cc if a != posted.requester.email and deliverable(a)]
    if cc:
        message["Cc"] = ", ".join(cc)
    _thread_headers(message, thread, channel, message_id, clock, secret)
    message["Auto-Submitted"] = "no"  # a person wrote this; auto-responders may answer it
    text = posted.body or ""
    if channel.signature:
        text = f"{text}\n\n-- \n{channel.signature}"
    message.set_content(text)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
    message.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    return Outgoing(message, message_id, [*requester, *cc])


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
    local, _, domain = channel.address.partition("@")
    if secret:
        message["Reply-To"] = f"{local}+{reply_token(thread.number, secret)}@{domain}"
    message["Subject"] = f"[{thread.number}] {thread.subject}"
    message["Message-ID"] = f"<{message_id}>"
    if thread.message_ids:
        message["In-Reply-To"] = f"<{thread.message_ids[-1]}>"
        message["References"] = " ".join(f"<{m}>" for m in thread.message_ids)
    message["Date"] = format_datetime(clock.now())


def attach(message: EmailMessage, attachments: list[Attachment], files: FileStore) -> None:
    """Add the files an agent attached; a missing or oversized one fails the mail for good."""
    total = 0
    for attachment in attachments:
        data = files.raw(attachment.key)
        if data is None:
            raise SendFailed(f"the attachment {attachment.name} was never uploaded", True)
        total += len(data)
        if total > MAX_UPLOAD_BYTES:
            raise SendFailed("the attachments are larger than a mail may be (10 MB)", True)
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=attachment.name)


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


DEFAULT_ACKNOWLEDGEMENT = (
    "We received your message and opened ticket {number}: {subject}.\n\n"
    "Reply to this mail to add to it; please keep {number} in the subject."
)


def compose_acknowledgement(
    created_number: str,
    thread: Thread,
    channel: Channel,
    clock: Clock,
    secret: str | None,
) -> Outgoing:
    """The mail that tells a client their ticket exists. It declares itself automatic (RFC 3834)
    and asks autoresponders not to answer, so two robots never talk to each other."""
    message_id = f"{uuid.uuid4()}@{channel.address.partition('@')[2]}"
    message = EmailMessage()
    message["From"] = Address(display_name=channel.department_id, addr_spec=channel.address)
    message["To"] = thread.requester
    _thread_headers(message, thread, channel, message_id, clock, secret)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    template = channel.acknowledge_template or DEFAULT_ACKNOWLEDGEMENT
    try:
        text = template.format(number=created_number, subject=thread.subject)
    except (KeyError, IndexError, ValueError):  # a template with other braces: send it as written
        text = template
    message.set_content(text)
    return Outgoing(message, message_id, [thread.requester])
