"""The channels service's event consumers: ticket threads, replies to mail out, reminders to
clients, rating mail for resolved tickets, the mail of erased requesters, and notifications to
agents."""

from __future__ import annotations

from services.channels.handlers.wiring import dependencies
from services.channels.logic.ask_rating import ask_for_rating
from services.channels.logic.follow_tickets import (
    follow_message,
    follow_requester,
    remember_ticket,
)
from services.channels.logic.notify_agents import (
    client_answered,
    sla_changed,
    ticket_changed,
    ticket_opened,
)
from services.channels.logic.remind_client import remind_client
from shared.departments import department_of
from shared.events.catalogue import (
    ClientReminderDue,
    DepartmentMembersChanged,
    MessagePosted,
    SlaBreached,
    SlaWarning,
    TicketCreated,
    TicketStatusChanged,
    TicketUpdated,
)
from shared.events.consumer import EventConsumer
from shared.events.envelope import Envelope
from shared.settings import get_settings

consumer = EventConsumer(lambda: get_settings().idempotency_table("channels"))


@consumer.on(TicketCreated)
def on_ticket_created(data: TicketCreated, envelope: Envelope) -> None:
    deps = dependencies()
    remember_ticket(data, deps)
    ticket_opened(data, envelope.id, deps)


@consumer.on(TicketUpdated)
def on_ticket_updated(data: TicketUpdated, envelope: Envelope) -> None:
    deps = dependencies()
    follow_requester(data, deps)
    ticket_changed(data, envelope.id, deps)


@consumer.on(MessagePosted)
def on_message_posted(data: MessagePosted, envelope: Envelope) -> None:
    deps = dependencies()
    follow_message(data, deps)
    client_answered(data, envelope.id, deps)


@consumer.on(ClientReminderDue)
def on_client_reminder_due(data: ClientReminderDue, envelope: Envelope) -> None:
    remind_client(data, dependencies())


@consumer.on(TicketStatusChanged)
def on_ticket_status_changed(data: TicketStatusChanged, envelope: Envelope) -> None:
    ask_for_rating(data, dependencies())


@consumer.on(SlaWarning)
def on_sla_warning(data: SlaWarning, envelope: Envelope) -> None:
    sla_changed("sla_at_risk", data.ticket_id, data.at, envelope.id, dependencies())


@consumer.on(SlaBreached)
def on_sla_breached(data: SlaBreached, envelope: Envelope) -> None:
    sla_changed("sla_breached", data.ticket_id, data.at, envelope.id, dependencies())


@consumer.on(DepartmentMembersChanged)
def on_members_changed(data: DepartmentMembersChanged, envelope: Envelope) -> None:
    dependencies().departments.record(department_of(data, envelope.occurred_at))
