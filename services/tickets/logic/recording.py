"""Turning the changes of a ticket into history entries and the events other services read."""

from __future__ import annotations

from datetime import datetime

from services.tickets.logic.ticket import Change, HistoryEntry, Message, Ticket
from shared.clock import isoformat
from shared.events.catalogue import (
    FieldChange,
    MessagePosted,
    TicketAssigned,
    TicketStatusChanged,
    TicketUpdated,
)
from shared.events.envelope import EventData, OutgoingEvent


def history_of(
    ticket: Ticket, changes: list[Change], actor: str, at: datetime, reason: str | None = None
) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            ticket_id=ticket.id,
            field=c.field,
            old=c.old,
            new=c.new,
            actor=actor,
            at=at,
            reason=reason,
        )
        for c in changes
    ]


def change_events(
    ticket: Ticket, changes: list[Change], actor: str, at: datetime, reason: str
) -> list[EventData]:
    """TicketUpdated with every change, plus the narrower events for status and assignee."""
    if not changes:
        return []
    events: list[EventData] = [
        TicketUpdated(
            ticket_id=ticket.id,
            number=ticket.number,
            changes=[FieldChange(field=c.field, old=c.old, new=c.new) for c in changes],
            actor=actor,
            version=ticket.version,
            updated_at=isoformat(at),
        )
    ]
    for change in changes:
        if change.field == "status":
            events.append(
                TicketStatusChanged(
                    ticket_id=ticket.id,
                    number=ticket.number,
                    old=change.old,
                    new=change.new,
                    priority=ticket.priority,
                    department_id=ticket.department_id,
                    reason=reason,
                    changed_at=isoformat(at),
                )
            )
        elif change.field == "assignee":
            events.append(
                TicketAssigned(
                    ticket_id=ticket.id,
                    number=ticket.number,
                    old=change.old,
                    new=change.new,
                    department_id=ticket.department_id,
                )
            )
    return events


def message_posted(ticket: Ticket, message: Message, first_response: bool) -> MessagePosted:
    """The announcement of a message. An internal note goes out without its content: no consumer
    can show a client what it never received; of its files only the upload folders go out (no
    names), so they are kept from expiring."""
    public = message.visibility == "public"
    return MessagePosted(
        ticket_id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        message_id=message.id,
        visibility=message.visibility,
        author=message.author.model_dump(),
        department_id=ticket.department_id,
        requester=ticket.requester,
        cc=ticket.cc,
        body=message.body if public else None,
        html=message.html if public else None,
        attachments=message.attachments if public else [],
        note_uploads=[] if public else [upload_folder(a.key) for a in message.attachments],
        mail_message_id=message.mail_message_id,
        first_response=first_response,
        created_at=isoformat(message.created_at),
    )


def upload_folder(key: str) -> str:
    """`uploads/<random>/`: where an uploaded file is, without its name."""
    return key.rsplit("/", 1)[0] + "/"


def outgoing(
    events: list[EventData], at: datetime, correlation_id: str | None
) -> list[OutgoingEvent]:
    return [OutgoingEvent.of(event, at, correlation_id) for event in events]
