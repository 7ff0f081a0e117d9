"""Which ticket a mail continues, and whether it may.

A mail names a ticket by the Message-IDs it answers (In-Reply-To, References) against the ids of
mail we sent and received, by the signed reply-to address we gave out
(`support+tkt-0042.<day>.<signature>@…`, which survives clients that rewrite or drop Message-IDs),
or by the ticket tag in its subject (`[TKT-0042]`), tried in that order. Every one of these can be
copied or guessed (a Message-ID sits in every mail we sent, a forwarded mail carries the reply-to
address), so naming a ticket is not enough: a mail joins it only if the sender is one of the
ticket's people (or wrote to the reply-to address, which our mail gave only to them) and SES's
verdicts show the mail really comes from its sender. Any other mail opens a ticket of its own,
marked as a possible follow-up of the ticket it named, for an agent to judge.

The reply-to address carries the day it was given out and 128 bits of HMAC over the number and the
day; it expires after the deployment's `reply_token_days`, and an expired one counts as absent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime

from services.channels.logic.dependencies import ReplyTokens, ThreadRepository
from services.channels.logic.ticket_thread import Thread

SUBJECT_TAG = re.compile(r"\[([A-Z][A-Z0-9]{0,9}-\d+)\]")
SIGNATURE_BYTES = 16  # 128 bits of the HMAC: 26 characters of base32
REPLY_TOKEN = re.compile(r"^([a-z][a-z0-9]{0,9}-\d+)\.(\d{1,7})\.([a-z2-7]{26})$")
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
LOCAL_PART_LIMIT = 64  # characters before the @ (RFC 5321)
EPOCH = date(1970, 1, 1)


def message_ids(header: str | None) -> list[str]:
    """The ids in an In-Reply-To or References header, without angle brackets."""
    if not header:
        return []
    found = MESSAGE_ID.findall(header)
    return found or [part for part in header.split() if "@" in part]


def _day(moment: datetime) -> int:
    return (moment.date() - EPOCH).days


def _signature(tag: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), tag.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.b32encode(digest).decode().rstrip("=").lower()


def reply_token(number: str, secret: str, issued: datetime) -> str:
    """The plus-address tag that leads replies back to a ticket: `tkt-0042.<day>.<signature>`."""
    tag = f"{number.lower()}.{_day(issued)}"
    return f"{tag}.{_signature(tag, secret)}"


def reply_address(channel_address: str, number: str, secret: str, issued: datetime) -> str | None:
    """The channel's address with the ticket's reply token; None if it would not fit an address
    (then replies find the ticket by Message-ID or subject tag)."""
    local, _, domain = channel_address.partition("@")
    local = f"{local}+{reply_token(number, secret, issued)}"
    return f"{local}@{domain}" if len(local) <= LOCAL_PART_LIMIT else None


def number_of_token(tag: str, secret: str, now: datetime, days: int) -> str | None:
    """The ticket number a reply-to tag names, if its signature is ours and it has not expired;
    None for a forgery or an expired tag."""
    match = REPLY_TOKEN.match(tag.lower())
    if match is None:
        return None
    number, day, signature = match.groups()
    if not hmac.compare_digest(_signature(f"{number}.{day}", secret), signature):
        return None
    if _day(now) - int(day) > days:
        return None
    return number.upper()


@dataclass(frozen=True)
class MailFacts:
    sender: str
    subject: str
    recipients: list[str]
    in_reply_to: list[str]
    references: list[str]
    authenticated: bool  # SES's verdicts vouch for the sender (see authentication.py)
    received_at: datetime


@dataclass(frozen=True)
class ThreadDecision:
    reason: str
    thread: Thread | None = None  # the ticket's thread the mail joins
    suspected_ticket: str | None = None  # a ticket the mail named but may not join


def find_thread(mail: MailFacts, threads: ThreadRepository, tokens: ReplyTokens) -> ThreadDecision:
    """The ticket the mail joins; or why it joins none, and which ticket it named in vain."""
    invited = _thread_of_reply_address(mail, threads, tokens)
    named, how = _named_thread(mail, threads, invited)
    if named is None:
        return ThreadDecision(how)
    if not mail.authenticated:
        why = f"{how}, but SPF, DKIM and DMARC do not show it comes from its sender"
        return ThreadDecision(why, suspected_ticket=named.ticket_id)
    through_reply_to = invited is not None and invited.ticket_id == named.ticket_id
    if not through_reply_to and mail.sender.lower() not in named.participants:
        why = f"{how}, but the sender is not on it"
        return ThreadDecision(why, suspected_ticket=named.ticket_id)
    return ThreadDecision(how, thread=named)


def _thread_of_reply_address(
    mail: MailFacts, threads: ThreadRepository, tokens: ReplyTokens
) -> Thread | None:
    """The ticket whose valid reply-to address the mail was sent to, if any."""
    if tokens.secret is None:
        return None
    for recipient in mail.recipients:
        local = recipient.split("@", 1)[0]
        if "+" not in local:
            continue
        tag = local.split("+", 1)[1]
        number = number_of_token(tag, tokens.secret, mail.received_at, tokens.days)
        thread = threads.thread_by_number(number) if number else None
        if thread is not None:
            return thread
    return None


def _named_thread(
    mail: MailFacts, threads: ThreadRepository, invited: Thread | None
) -> tuple[Thread | None, str]:
    """The ticket the mail names, the first way that finds one, and how it names it."""
    ids = list(dict.fromkeys(mail.in_reply_to + list(reversed(mail.references))))
    ticket_id = threads.ticket_of_message_ids(ids) if ids else None
    answered = threads.thread(ticket_id) if ticket_id else None
    if answered is not None:
        return answered, "answers a Message-ID of the ticket"
    if invited is not None:
        return invited, "sent to the ticket's reply-to address"
    tag = SUBJECT_TAG.search(mail.subject)
    if tag is None:
        return None, "no reference to a ticket"
    tagged = threads.thread_by_number(tag.group(1))
    if tagged is None:
        return None, f"the subject names {tag.group(1)}, which we do not know"
    return tagged, "the subject names the ticket"
