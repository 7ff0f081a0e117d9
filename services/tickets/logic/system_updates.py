"""Changes other services cause: mail that opens or continues a ticket, SLA state and due times,
contact links and merges. The actor of each is the system."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.open_ticket import DepartmentUnavailable, OpenTicket, open_ticket
from services.tickets.logic.post_message import (
    NewMessage,
    post_agent_message,
    post_client_message,
)
from services.tickets.logic.recording import change_events, history_of, outgoing
from services.tickets.logic.repository import Commit, StaleVersion
from services.tickets.logic.ticket import (
    SYSTEM,
    Author,
    Change,
    Delivery,
    DeliveryState,
    Sla,
    Ticket,
)
from shared.errors import DomainError
from shared.events.catalogue import (
    EmailBounced,
    EmailComplained,
    EmailDelivered,
    EmailDeliveryEvent,
    EmailReceived,
    EmailSent,
    SlaTargetEvent,
)
from shared.events.envelope import Envelope
from shared.identity import Caller
from shared.storage import retry_on_stale

logger = logging.getLogger(__name__)
MERGE_HOPS = 5  # a merged ticket points at its target; follow a short chain, never a loop
MAIL_TICKETS = uuid.UUID("6f1d8a52-3b9e-4c1a-9d7e-2f0c5b8e4a17")  # namespace of mail tickets' ids


def receive_email(mail: EmailReceived, envelope: Envelope, deps: Dependencies) -> Ticket | None:
    """Add the mail to the thread the channels service found, or open a ticket for it."""
    if mail.agent_reply is not None and mail.ticket_id is not None:
        return _post_agent_reply(mail, mail.ticket_id, envelope, deps)
    thread = _follow_merges(mail.ticket_id, deps) if mail.ticket_id else None
    author = Author(type="client", email=mail.sender.email, name=mail.sender.name)
    if thread is not None and thread.status != "closed":
        return post_client_message(
            thread,
            NewMessage(
                body=mail.text,
                author=author,
                html=mail.html,
                attachments=mail.attachments,
                attachments_omitted=mail.attachments_omitted,
                mail_message_id=mail.message_id,
                automated=mail.automated is not None,
                correlation_id=envelope.id,
            ),
            deps,
        )
    # New mail, or a reply to a closed ticket: a closed ticket is final, so a follow-up opens.
    opening = OpenTicket(
        subject=mail.subject or "(no subject)",
        body=mail.text,
        requester=mail.sender,
        author=author,
        department_id=thread.department_id if thread else mail.department_id,
        cc=mail.cc,
        channel_id=mail.channel_id,
        html=mail.html,
        attachments=mail.attachments,
        attachments_omitted=mail.attachments_omitted,
        mail_message_id=mail.message_id,
        follow_up_of=thread.id if thread else None,
        possible_follow_up_of=mail.possible_follow_up_of,
        correlation_id=envelope.id,
        ticket_id=_ticket_id_of_mail(mail),
    )
    try:
        return open_ticket(opening, None, deps)
    except DepartmentUnavailable:
        # The channel's department was archived, or never existed (channels learn departments
        # only by name): the mail is kept, filed for triage, rather than retried until it is
        # parked in the dead-letter queue.
        logger.warning(
            "mail for a department that takes no tickets is filed without one",
            extra={"department_id": opening.department_id, "ticket_id": opening.ticket_id},
        )
        return open_ticket(replace(opening, department_id=None), None, deps)


def _post_agent_reply(
    mail: EmailReceived, ticket_id: str, envelope: Envelope, deps: Dependencies
) -> Ticket | None:
    """An agent's answer to a notification, posted as theirs: a note, or a reply the client
    gets. Channels checked who sent it; this checks, as for any agent, that they may write on
    the ticket now. A refusal is final (the mail stays in the bucket, and in the log)."""
    assert mail.agent_reply is not None
    agent = mail.agent_reply
    new = NewMessage(
        body=mail.text,
        author=Author(type="agent", email=agent.email, name=mail.sender.name),
        visibility="public" if agent.visibility == "public" else "internal",
        attachments=mail.attachments,
        attachments_omitted=mail.attachments_omitted,
        mail_message_id=mail.message_id,
        correlation_id=envelope.id,
    )
    try:
        return post_agent_message(ticket_id, new, Caller(agent.email, "agent"), deps)[0]
    except DomainError as refused:
        logger.warning(
            "an agent's answer by mail was not posted",
            extra={"ticket_id": ticket_id, "agent": agent.email, "why": str(refused)},
        )
        return None


def _ticket_id_of_mail(mail: EmailReceived) -> str:
    """The id of the ticket a mail opens, the same for every delivery of that mail to that
    department. Channels already applies a Message-ID once per department; this makes the rule
    hold here too, whatever happens to the event on its way (a retried write, a replayed queue)."""
    key = f"{mail.message_id or mail.ses_message_id}|{mail.department_id or ''}"
    return str(uuid.uuid5(MAIL_TICKETS, key))


def _follow_merges(ticket_id: str, deps: Dependencies) -> Ticket | None:
    ticket = deps.repository.get(ticket_id)
    for _ in range(MERGE_HOPS):
        if ticket is None or ticket.merged_into is None:
            return ticket
        ticket = deps.repository.get(ticket.merged_into)
    return ticket


def update_by_system(
    ticket_id: str,
    change: Callable[[Ticket], list[Change]],
    deps: Dependencies,
    announce: str | None = None,
) -> Ticket | None:
    """Apply a change the system makes, retrying on concurrent writes; None if no such ticket.

    Most such changes come from other services and are not announced back (an SLA due time
    announced would come round again); `announce` (the reason) announces the change as
    TicketUpdated, for one the other services keep a copy of."""

    def attempt() -> Ticket | None:
        current = deps.repository.get(ticket_id)
        if current is None:
            return None
        ticket = current.model_copy(deep=True)
        changes = change(ticket)
        if not changes:
            return current
        now = deps.clock.now()  # the version and update time stay: they are the people's
        events = change_events(ticket, changes, SYSTEM, now, announce) if announce else []
        deps.repository.commit(
            Commit(
                ticket,
                current,
                history=history_of(ticket, changes, SYSTEM, now),
                events=outgoing(events, now, None),
            )
        )
        return ticket

    return retry_on_stale(attempt, StaleVersion, StaleVersion(ticket_id))


def _set(ticket: Ticket, field: str, value: object) -> list[Change]:
    old = getattr(ticket, field)
    if old == value:
        return []
    setattr(ticket, field, value)
    return [Change(field=field, old=old, new=value)]


def set_due_times(
    ticket_id: str,
    first_response: datetime | None,
    resolution: datetime | None,
    sequence: int,
    deps: Dependencies,
) -> None:
    def change(ticket: Ticket) -> list[Change]:
        if sequence < ticket.sla.sequence:
            return []  # an older announcement, delivered late: the due times stand
        sla = ticket.sla.model_copy(
            update={
                "first_response_due_at": first_response,
                "resolution_due_at": resolution,
                "sequence": sequence,
            }
        )
        if sla == ticket.sla:
            return []
        old, ticket.sla = ticket.sla, sla
        if ticket.sla.state is None:
            ticket.sla.state = "ok"
        return [Change(field="sla", old=_shown(old), new=_shown(sla))]

    update_by_system(ticket_id, change, deps)


def _shown(sla: Sla) -> dict[str, object]:
    return sla.model_dump(mode="json", exclude={"sequence"})


SLA_STATE_OF = {"SlaWarning": "at_risk", "SlaBreached": "breached", "SlaMet": "met"}
SEVERITY = {None: 0, "ok": 0, "met": 1, "at_risk": 2, "breached": 3}


def record_sla_event(event: SlaTargetEvent, deps: Dependencies) -> None:
    """Keep the worst state seen; a met resolution closes the book (the ticket is done)."""
    state = SLA_STATE_OF[event.event_name]

    def change(ticket: Ticket) -> list[Change]:
        current = ticket.sla.state
        if state == "met" and event.target != "resolution":
            return []  # the first response met: the resolution clock still runs, as it stands
        resolution_met = state == "met" and current != "breached"
        if not resolution_met and SEVERITY[state] <= SEVERITY[current]:
            return []  # an older or milder event, perhaps delivered late: keep what we know
        old = _shown(ticket.sla)
        ticket.sla = ticket.sla.model_copy(update={"state": state})
        return [Change(field="sla", old=old, new=_shown(ticket.sla))]

    update_by_system(event.ticket_id, change, deps)


def link_contact(ticket_id: str, contact_id: str, deps: Dependencies) -> None:
    update_by_system(ticket_id, lambda ticket: _set(ticket, "contact_id", contact_id), deps)


def move_contact(merged: str, surviving: str, deps: Dependencies) -> int:
    moved = 0
    for ticket in deps.repository.tickets_of_contact(merged):
        if update_by_system(ticket.id, lambda t: _set(t, "contact_id", surviving), deps):
            moved += 1
    return moved


def record_mail_outcome(report: EmailSent | EmailDeliveryEvent, deps: Dependencies) -> list[str]:
    """Put what the channels service learnt about a reply's mail on that message; returns the
    recipients whose state changed (none for a report that repeats or comes too late, or is about
    an acknowledgement, which is no message: its bounce shows on the requester's contact)."""
    if report.ticket_message_id is None or report.ticket_message_at is None:
        return []
    state = _delivery_state(report)
    if isinstance(report, EmailSent):
        at = datetime.fromisoformat(report.sent_at)
        outcomes = {r: Delivery(state=state, at=at) for r in report.recipients}
    else:
        at = datetime.fromisoformat(report.at)
        outcomes = {
            r.email: Delivery(state=state, detail=r.detail, at=at) for r in report.recipients
        }
    return deps.repository.record_delivery(
        report.ticket_id,
        report.ticket_message_id,
        datetime.fromisoformat(report.ticket_message_at),
        outcomes,
    )


def _delivery_state(report: EmailSent | EmailDeliveryEvent) -> DeliveryState:
    if isinstance(report, EmailSent):
        return "sent"
    if isinstance(report, EmailDelivered):
        return "delivered"
    if isinstance(report, EmailComplained):
        return "complained"
    if isinstance(report, EmailBounced) and report.kind == "bounce":
        return "bounced"
    return "failed"  # SES refused it, or sending kept failing
