"""Which ticket a mail continues.

In order: the Message-IDs it answers (In-Reply-To, References) against the ids of mail we sent
and received; the signed reply-to address we gave out (`support+tkt-0042.<signature>@…`), which
survives clients that rewrite or drop Message-IDs; then the ticket tag in the subject
(`[TKT-0042]`). A tag alone is easy to guess, so it threads only mail from the ticket's requester
or a CC, and only when SES did not see DKIM or DMARC fail; anything else opens a new ticket.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared.events.envelope import OutgoingEvent

SUBJECT_TAG = re.compile(r"\[([A-Z][A-Z0-9]{0,9}-\d+)\]")
REPLY_TOKEN = re.compile(r"^([a-z][a-z0-9]{0,9}-\d+)\.([0-9a-f]{16})$")
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
SIGNATURE_LENGTH = 16  # hex characters of the HMAC kept in the address: 64 bits


@dataclass
class Thread:
    """What channels knows of a ticket to thread mail into it and to answer by mail."""

    ticket_id: str
    number: str
    subject: str
    requester: str
    cc: list[str] = field(default_factory=list)
    department_id: str | None = None
    channel_id: str | None = None
    message_ids: list[str] = field(default_factory=list)  # oldest first, for References


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


def message_ids(header: str | None) -> list[str]:
    """The ids in an In-Reply-To or References header, without angle brackets."""
    if not header:
        return []
    found = MESSAGE_ID.findall(header)
    return found or [part for part in header.split() if "@" in part]


def reply_token(number: str, secret: str) -> str:
    """The plus-address tag that leads replies back to a ticket: `tkt-0042.<signature>`."""
    tag = number.lower()
    signature = hmac.new(secret.encode(), tag.encode(), hashlib.sha256).hexdigest()
    return f"{tag}.{signature[:SIGNATURE_LENGTH]}"


def number_of_token(tag: str, secret: str) -> str | None:
    """The ticket number a reply-to tag names, if its signature is ours; None for a forgery."""
    match = REPLY_TOKEN.match(tag.lower())
    if match is None:
        return None
    expected = reply_token(match.group(1), secret).rsplit(".", 1)[1]
    if not hmac.compare_digest(expected, match.group(2)):
        return None
    return match.group(1).upper()


@dataclass(frozen=True)
class MailFacts:
    sender: str
    subject: str
    recipients: list[str]
    in_reply_to: list[str]
    references: list[str]
    authentication_failed: bool  # SES saw DKIM or DMARC fail


@dataclass(frozen=True)
class ThreadDecision:
    ticket_id: str | None
    reason: str
    suspected_ticket: str | None = None  # a tag we did not trust: the ticket it named


def find_thread(mail: MailFacts, threads: ThreadRepository, secret: str | None) -> ThreadDecision:
    ids = list(dict.fromkeys(mail.in_reply_to + list(reversed(mail.references))))
    if ids:
        ticket_id = threads.ticket_of_message_ids(ids)
        if ticket_id is not None:
            return ThreadDecision(ticket_id, "answers a Message-ID of the ticket")
    for recipient in mail.recipients if secret else []:
        local = recipient.split("@", 1)[0]
        if "+" in local and secret:
            number = number_of_token(local.split("+", 1)[1], secret)
            thread = threads.thread_by_number(number) if number else None
            if thread is not None:
                return ThreadDecision(thread.ticket_id, "sent to the ticket's reply-to address")
    tag = SUBJECT_TAG.search(mail.subject)
    if tag is None:
        return ThreadDecision(None, "no reference to a ticket")
    thread = threads.thread_by_number(tag.group(1))
    if thread is None:
        return ThreadDecision(None, f"the subject names {tag.group(1)}, which we do not know")
    if mail.authentication_failed:
        return ThreadDecision(
            None, "the subject tag is not trusted: DKIM or DMARC failed", thread.ticket_id
        )
    if mail.sender not in {thread.requester, *thread.cc}:
        return ThreadDecision(
            None,
            "the subject tag is not trusted: the sender is not on the ticket",
            thread.ticket_id,
        )
    return ThreadDecision(thread.ticket_id, "the subject names the ticket and the sender is on it")
