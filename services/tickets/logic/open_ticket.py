"""Opening a ticket: number it, store it with its first message, announce it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from services.tickets.logic.access import write_guards
from services.tickets.logic.assign_by_turns import commit_new_ticket
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.repository import (
    Commit,
    Guard,
    GuardFailed,
    MemberGuard,
    OpenDepartmentGuard,
    StaleVersion,
)
from services.tickets.logic.ticket import (
    SYSTEM,
    Author,
    Department,
    HistoryEntry,
    Message,
    Priority,
    Ticket,
    format_number,
)
from shared.clock import isoformat
from shared.errors import FieldError, Invalid
from shared.events.catalogue import PREVIEW_CHARACTERS, Attachment, Person, TicketCreated
from shared.identity import Caller


@dataclass(frozen=True)
class OpenTicket:
    subject: str
    body: str
    requester: Person
    author: Author
    priority: Priority = "medium"
    department_id: str | None = None
    tags: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    channel_id: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    attachments_omitted: int = 0
    mail_message_id: str | None = None
    follow_up_of: str | None = None
    possible_follow_up_of: str | None = None
    correlation_id: str | None = None
    # Set when the ticket answers something that may be delivered twice (a mail): a second
    # attempt then finds the id taken and opens nothing.
    ticket_id: str | None = None


def open_ticket(command: OpenTicket, caller: Caller | None, deps: Dependencies) -> Ticket:
    """Open a ticket for an agent (`caller`) or for mail (`caller` None, the system)."""
    guards: list[Guard] = []
    department = None
    if command.department_id is not None:
        department = _check_department(command.department_id, caller, deps)
        guards.append(OpenDepartmentGuard(command.department_id))
    if caller is not None:
        if not caller.is_admin and command.department_id is None is deps.config.triage_department:
            raise Invalid(
                "department_id is required", [FieldError("department_id", "required for agents")]
            )
        guards += write_guards(
            caller, command.department_id, deps.config.triage_department, "new ticket"
        )
    now = deps.clock.now()
    ticket = Ticket(
        id=command.ticket_id or str(uuid.uuid4()),
        number=format_number(
            deps.config.number_prefix, deps.config.number_width, deps.repository.next_number()
        ),
        subject=command.subject,
        priority=command.priority,
        department_id=command.department_id,
        requester=command.requester,
        tags=sorted(set(command.tags)),
        cc=list(dict.fromkeys(address.lower() for address in command.cc)),
        channel_id=command.channel_id,
        follow_up_of=command.follow_up_of,
        possible_follow_up_of=command.possible_follow_up_of,
        created_at=now,
        updated_at=now,
    )
    first_message = Message(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        visibility="public",
        author=command.author,
        body=command.body,
        html=command.html,
        attachments=command.attachments,
        attachments_omitted=command.attachments_omitted,
        mail_message_id=command.mail_message_id,
        created_at=now,
    )
    created = TicketCreated(
        ticket_id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        department_id=ticket.department_id,
        requester=ticket.requester,
        channel_id=ticket.channel_id,
        cc=ticket.cc,
        follow_up_of=ticket.follow_up_of,
        mail_message_id=command.mail_message_id,
        uploads=[a.key for a in command.attachments] if caller is not None else [],
        opened_by=caller.email if caller is not None else None,
        preview=command.body[:PREVIEW_CHARACTERS] or None,
        created_at=isoformat(now),
    )
    actor = caller.email if caller is not None else SYSTEM
    opened = HistoryEntry(
        ticket_id=ticket.id, field="created", new=ticket.number, actor=actor, at=now
    )
    try:
        ticket = commit_new_ticket(
            Commit(
                ticket=ticket,
                previous=None,
                messages=[first_message],
                history=[opened],
                guards=guards,
            ),
            created,
            department,
            command.correlation_id,
            deps,
        )
    except GuardFailed as failed:
        # Checked before numbering too; this is a change in between (and leaves a gap).
        raise _refused(not isinstance(failed.guard, MemberGuard)) from None
    except StaleVersion:
        existing = deps.repository.get(ticket.id) if command.ticket_id else None
        if existing is None:
            raise
        return existing  # opened before by the same mail: its number is the one that counts
    return ticket


def _check_department(department_id: str, caller: Caller | None, deps: Dependencies) -> Department:
    """Refuse a department that cannot take the ticket before a number is drawn for it, so a
    refused request leaves no gap in the numbering."""
    agent = caller.email if caller is not None and not caller.is_admin else None
    department, member = deps.repository.department_and_membership(department_id, agent)
    if department is None or department.archived:
        raise _refused(missing=True)
    if agent is not None and not member:
        raise _refused(missing=False)
    return department


class DepartmentUnavailable(Invalid):
    """The department does not exist, or is archived: it takes no new tickets."""


def _refused(missing: bool) -> Invalid:
    if missing:
        message = "no such department, or it is archived"
        return DepartmentUnavailable(
            f"department_id: {message}", [FieldError("department_id", message)]
        )
    message = "you are not a member of this department"
    return Invalid(f"department_id: {message}", [FieldError("department_id", message)])
