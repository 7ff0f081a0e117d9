"""The reminder a client gets when a ticket has waited on them, on the channels service's fakes: one
mail in the ticket's thread from its channel, automatic yet answerable, however often its event
comes; kept so SES's reports find it; an answer to it threads into the ticket as a person's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.channels.logic.remind_client import remind_client
from shared.clock import isoformat
from shared.events.catalogue import ClientReminderDue, EmailReceived, TicketCreated
from tests.channels_desk import BILLING, CLIENT, Desk, mail_id, text_of


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.channel(signature="Billing")
    return desk


def due(desk: Desk, ticket: TicketCreated, resolves_at: str | None = None) -> ClientReminderDue:
    return ClientReminderDue(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        subject=ticket.subject,
        requester=ticket.requester,
        department_id=ticket.department_id,
        channel_id=ticket.channel_id,
        reminder_id=f"{ticket.ticket_id}@{isoformat(desk.clock.now())}",
        waiting_since=isoformat(desk.clock.now()),
        resolves_at=resolves_at,
    )


def waiting_ticket(desk: Desk) -> TicketCreated:
    """A ticket the client's mail opened, answered by an agent."""
    assert desk.receive(message_id="first@client.example.org") == 1
    (ticket,) = desk.deliver()
    desk.reply(ticket, body="Which invoice number?")
    return ticket


def test_the_reminder_is_mailed_once_in_the_thread(desk: Desk) -> None:
    ticket = waiting_ticket(desk)
    reminder = due(desk, ticket, resolves_at="2026-11-09T09:00:00.000Z")
    remind_client(reminder, desk.deps)
    remind_client(reminder, desk.deps)  # the event delivered again
    (reply, mail) = desk.sent
    assert mail["From"].addresses[0].addr_spec == BILLING
    assert mail["To"] == CLIENT
    assert mail["Subject"] == f"[{ticket.number}] Invoice"
    assert mail["In-Reply-To"] == f"<{mail_id(reply)}>"
    assert "<first@client.example.org>" in mail["References"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "X-Auto-Response-Suppress" not in mail  # written to be answered
    text = text_of(mail)
    assert f"waiting for your answer on ticket {ticket.number}" in text
    assert "by 9 November 2026, 09:00 UTC" in text
    assert text.rstrip().endswith("Billing")  # the channel's signature
    # Kept under the reminder, so SES's reports about it find the ticket
    kept = desk.outbound.of_message(f"reminder-{reminder.reminder_id}-{ticket.ticket_id}")
    assert kept is not None
    assert (kept.message_id, kept.state, kept.ticket_message_id) == (mail_id(mail), "sent", None)


def test_a_later_wait_is_reminded_again(desk: Desk) -> None:
    ticket = waiting_ticket(desk)
    remind_client(due(desk, ticket), desk.deps)
    desk.clock.advance(timedelta(days=1))
    desk.reply(ticket, body="And the date?")
    desk.clock.advance(timedelta(days=2))
    remind_client(due(desk, ticket), desk.deps)
    assert [m["Auto-Submitted"] for m in desk.sent] == ["no", "auto-generated"] * 2


def test_an_answer_to_the_reminder_returns_to_its_ticket_as_a_person_wrote_it(desk: Desk) -> None:
    ticket = waiting_ticket(desk)
    remind_client(due(desk, ticket), desk.deps)
    reminder = desk.sent[-1]
    desk.receive(in_reply_to=[mail_id(reminder)], subject="Re: reminder")
    answer = desk.announced(EmailReceived)[-1]
    assert answer.ticket_id == ticket.ticket_id
    assert answer.automated is None  # so it re-opens the ticket like any reply
