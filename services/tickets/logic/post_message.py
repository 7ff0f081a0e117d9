"""Adding to the conversation: an agent's public reply or internal note, a client's message.

A client message re-opens a ticket that waited on them; an agent's public reply hands an open
ticket to the client unless it names a status; both automatic changes are the system's in history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from services.tickets.logic.access import viewer_of, write_guards
from services.tickets.logic.attachments import forwarded
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.find_ticket import load_ticket
from services.tickets.logic.recording import change_events, history_of, message_posted, outgoing
from services.tickets.logic.repository import Commit, Guard, GuardFailed, StaleVersion
from services.tickets.logic.ticket import (
    SYSTEM,
    Author,
    Change,
    Message,
    Status,
    Ticket,
    Visibility,
    apply_status,
    check_status_change,
    status_after_agent_reply,
    status_after_client_message,
)
from shared.errors import Conflict, DomainError, not_found
from shared.events.catalogue import Attachment
from shared.events.envelope import EventData
from shared.identity import Caller
from shared.storage import retry_on_stale


@dataclass(frozen=True)
class NewMessage:
    body: str
    author: Author
    visibility: Visibility = "public"
    status: Status | None = None  # what the author asks the status to become with it
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    # Ids of files already on the ticket to send again (an agent forwarding a client's file).
    forward: list[str] = field(default_factory=list)
    attachments_omitted: int = 0
    mail_message_id: str | None = None
    automated: bool = False  # an autoreply or a bounce: recorded, but it re-opens nothing
    correlation_id: str | None = None


def post_agent_message(
    key: str, new: NewMessage, caller: Caller, deps: Dependencies
) -> tuple[Ticket, Message]:
    # A message is an append: on a concurrent change, read again and add it again.
    def attempt() -> tuple[Ticket, Message]:
        current = load_ticket(key, deps)
        if current is None:
            raise not_found("ticket", key)
        guards = write_guards(caller, current.department_id, deps.config.triage_department, key)
        try:
            check_agent_message(current, new)
            files = new.attachments + forwarded(current, new.forward, deps)
        except DomainError:
            if not viewer_of(caller, deps.repository, deps.config.triage_department).sees(current):
                raise not_found("ticket", key) from None
            raise
        try:
            return _append(current, replace(new, attachments=files, forward=[]), guards, deps)
        except GuardFailed:
            raise not_found("ticket", key) from None

    return retry_on_stale(
        attempt, StaleVersion, Conflict("The ticket is changing too fast; try again.")
    )


def post_client_message(ticket: Ticket, new: NewMessage, deps: Dependencies) -> Ticket:
    """A client's message (from mail) on a ticket that is not closed."""
    unread = [ticket]  # the first attempt writes on the ticket as the caller read it

    def attempt() -> Ticket:
        current = unread.pop() if unread else deps.repository.get(ticket.id)
        if current is None:
            raise not_found("ticket", ticket.id)
        return _append(current, new, [], deps)[0]

    return retry_on_stale(
        attempt, StaleVersion, Conflict("The ticket is changing too fast; try again.")
    )


def check_agent_message(current: Ticket, new: NewMessage) -> None:
    """What an agent's message may not do: reply on a closed ticket, or move its status back."""
    if new.visibility == "public" and current.status == "closed":
        raise Conflict(f"{current.number} is closed, and a closed ticket is final.")
    if new.status is not None:
        check_status_change(current, new.status)


@dataclass(frozen=True)
class Appended:
    """A message put on a ticket, and the status change it brought with it."""

    message: Message
    changes: list[Change]
    actor: str  # whose the changes are in history: the author's if they named the status
    reason: str  # of the status change, as its event says
    first_response: bool


def append_message(ticket: Ticket, new: NewMessage, now: datetime) -> Appended:
    """Put the message on `ticket` (a copy being changed): its first response, its status."""
    message = Message(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        visibility=new.visibility,
        author=new.author,
        body=new.body,
        html=new.html,
        attachments=new.attachments,
        attachments_omitted=new.attachments_omitted,
        mail_message_id=new.mail_message_id,
        created_at=now,
    )
    agent = new.author.type == "agent"
    public_reply = agent and new.visibility == "public"
    first_response = public_reply and ticket.first_response_at is None
    if first_response:
        ticket.first_response_at = now
    if public_reply:
        target = status_after_agent_reply(ticket.status, new.status)
    elif agent:
        target = new.status or ticket.status
    elif new.automated:
        target = ticket.status
    else:
        target = status_after_client_message(ticket.status)
    status_change = apply_status(ticket, target, now)
    # A status the author named is theirs; one that followed from the message is the system's.
    actor = (new.author.email or SYSTEM) if new.status is not None else SYSTEM
    reason = "agent" if new.status is not None else ("agent_reply" if agent else "client_reply")
    changes = [status_change] if status_change else []
    return Appended(message, changes, actor, reason, first_response)


def _append(
    current: Ticket, new: NewMessage, guards: list[Guard], deps: Dependencies
) -> tuple[Ticket, Message]:
    now = deps.clock.now()
    ticket = current.model_copy(deep=True)
    added = append_message(ticket, new, now)
    ticket.version = current.version + 1
    ticket.updated_at = now
    events: list[EventData] = [message_posted(ticket, added.message, added.first_response)]
    events += change_events(ticket, added.changes, added.actor, now, added.reason)
    deps.repository.commit(
        Commit(
            ticket=ticket,
            previous=current,
            messages=[added.message],
            history=history_of(ticket, added.changes, added.actor, now),
            events=outgoing(events, now, new.correlation_id),
            guards=guards,
        )
    )
    return ticket, added.message
