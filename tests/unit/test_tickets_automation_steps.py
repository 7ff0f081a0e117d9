"""The tickets' automatic steps on time, on the in-memory storage: the pending step each change
files a ticket under, the auto-close of resolved tickets, the one reminder and the resolution of
tickets waiting on their client, what cancels them, and runs that overlap."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.tickets.logic.automations import run_automations
from services.tickets.logic.pending_steps import AUTOMATION_BUCKETS, AutomationTimings
from services.tickets.logic.ticket import Ticket
from tests.tickets_desk import Desk

DAY = timedelta(days=1)
TIMINGS = AutomationTimings(
    auto_close_after=4 * DAY, remind_after=2 * DAY, close_after_waiting=5 * DAY
)


@pytest.fixture
def desk() -> Desk:
    desk = Desk(automations=TIMINGS)
    desk.department("Billing")
    return desk


def due_by(desk: Desk, later: timedelta) -> list[str]:
    """The ids of the tickets a run `later` from now would find due."""
    moment = desk.clock.now() + later
    bucket_lists = [desk.repository.automations_due(b, moment) for b in range(AUTOMATION_BUCKETS)]
    return [ticket.id for tickets in bucket_lists for ticket in tickets]


def waiting(desk: Desk) -> Ticket:
    ticket = desk.open()
    return desk.post(ticket, "Which invoice number?")[0]


def test_status_changes_set_and_clear_the_pending_step(desk: Desk) -> None:
    ticket = desk.open()
    assert due_by(desk, 30 * DAY) == []  # open: nothing is automatic
    desk.change(ticket, status="resolved")
    assert due_by(desk, 4 * DAY - timedelta(seconds=1)) == []
    assert due_by(desk, 4 * DAY) == [ticket.id]
    desk.change(ticket, status="in_progress")
    assert due_by(desk, 30 * DAY) == []
    desk.post(ticket, "Which invoice number?")  # a public reply: waiting on the client
    assert due_by(desk, 2 * DAY - timedelta(seconds=1)) == []
    assert due_by(desk, 2 * DAY) == [ticket.id]
    desk.change(ticket, status="closed")
    assert due_by(desk, 30 * DAY) == []


def test_a_resolved_ticket_closes_automatically(desk: Desk) -> None:
    ticket = desk.change(desk.open(), status="resolved")
    desk.later(4 * 24 * 3600 - 60)
    assert run_automations(desk.deps).closed == 0
    assert desk.get(ticket).status == "resolved"
    desk.later(60)
    desk.forget_events()
    report = run_automations(desk.deps)
    closed = desk.get(ticket)
    assert (report.read, report.closed) == (1, 1)
    assert closed.status == "closed"
    assert closed.closed_at == desk.clock.now()
    assert closed.version == ticket.version + 1
    entry = desk.history(ticket)[-1]
    assert (entry.field, entry.old, entry.new, entry.actor) == (
        "status",
        "resolved",
        "closed",
        "system",
    )
    assert entry.reason == "closed automatically: resolved for 4 days without an answer"
    changed = desk.events("TicketStatusChanged")
    assert [(e["new"], e["reason"]) for e in changed] == [("closed", "auto_close")]
    assert run_automations(desk.deps).read == 0  # closed: no longer in the index


def test_a_client_reply_reopens_and_forgets_the_pending_close(desk: Desk) -> None:
    ticket = desk.change(desk.open(), status="resolved")
    desk.later(3 * 24 * 3600)
    reopened = desk.mail(ticket_id=ticket.id, text="It happened again.")
    assert reopened.status == "open"
    desk.later(2 * 24 * 3600)
    assert run_automations(desk.deps).read == 0
    assert desk.get(ticket).status == "open"


def test_a_waiting_ticket_is_reminded_once_then_resolved_with_a_note(desk: Desk) -> None:
    ticket = waiting(desk)
    desk.later(2 * 24 * 3600)
    desk.forget_events()
    assert run_automations(desk.deps).reminded == 1
    reminders = desk.events("ClientReminderDue")
    assert len(reminders) == 1
    reminder = reminders[0]
    assert reminder["requester"]["email"] == ticket.requester.email
    assert reminder["resolves_at"] is not None  # the mail can name the day
    assert not {"body", "text", "html"} & set(reminder)  # no words of the ticket go out
    reminded = desk.get(ticket)
    assert reminded.status == "waiting_on_client"
    assert reminded.version == ticket.version  # the system's mark: agents' versions hold
    entry = desk.history(ticket)[-1]
    assert (entry.field, entry.actor) == ("reminder", "system")
    assert entry.reason == "reminded automatically: waited on the client for 2 days"
    desk.later(24 * 3600)
    assert run_automations(desk.deps).reminded == 0  # one reminder per wait

    desk.later(2 * 24 * 3600)
    desk.forget_events()
    assert run_automations(desk.deps).resolved == 1
    resolved = desk.get(ticket)
    assert resolved.status == "resolved"
    note = desk.messages(ticket)[-1]
    assert (note.visibility, note.author.type) == ("internal", "system")
    assert "waited on the client for 5 days" in note.body
    posted = desk.events("MessagePosted")
    assert [(p["visibility"], p["body"]) for p in posted] == [("internal", None)]
    assert desk.history(ticket)[-1].reason == (
        "resolved automatically: waited on the client for 5 days without an answer"
    )
    # Resolved, it is now on the way to closing.
    assert due_by(desk, 4 * DAY) == [ticket.id]


def test_a_message_resets_the_clock_and_allows_a_new_reminder(desk: Desk) -> None:
    ticket = waiting(desk)
    desk.later(36 * 3600)
    desk.post(ticket, "Still looking into it on our side.", visibility="internal")
    desk.later(24 * 3600)
    assert run_automations(desk.deps).read == 0  # 2.5 days waited, but 1 since the note
    desk.later(24 * 3600)
    assert run_automations(desk.deps).reminded == 1
    desk.post(ticket, "Could you send the invoice number?")
    desk.later(2 * 24 * 3600)
    assert run_automations(desk.deps).reminded == 1  # a new wait: reminded again


def test_a_client_answer_after_the_reminder_reopens_the_ticket(desk: Desk) -> None:
    ticket = waiting(desk)
    desk.later(2 * 24 * 3600)
    run_automations(desk.deps)
    assert desk.mail(ticket_id=ticket.id, text="It is INV-7").status == "open"
    desk.later(10 * 24 * 3600)
    assert run_automations(desk.deps).read == 0


def test_without_a_reminder_a_waiting_ticket_is_resolved_when_due() -> None:
    desk = Desk(automations=AutomationTimings(close_after_waiting=3 * DAY))
    desk.department("Billing")
    ticket = waiting(desk)
    desk.later(3 * 24 * 3600)
    desk.forget_events()
    report = run_automations(desk.deps)
    assert (report.reminded, report.resolved) == (0, 1)
    assert desk.events("ClientReminderDue") == []
    assert desk.get(ticket).status == "resolved"


def test_steps_that_are_off_file_nothing() -> None:
    desk = Desk()  # every step off
    desk.department("Billing")
    ticket = desk.change(desk.open(), status="resolved")
    waiting(desk)
    assert due_by(desk, 365 * DAY) == []
    assert desk.get(ticket).status == "resolved"


def test_two_overlapping_runs_close_a_ticket_once(desk: Desk) -> None:
    ticket = desk.change(desk.open(), status="resolved")
    desk.later(4 * 24 * 3600)
    now = desk.clock.now()
    # The second run read the index before the first wrote: it holds the ticket as resolved.
    as_read = {b: desk.repository.automations_due(b, now) for b in range(AUTOMATION_BUCKETS)}
    desk.forget_events()
    first = run_automations(desk.deps)
    desk.repository.automations_due = lambda bucket, now: as_read[bucket]  # type: ignore[method-assign]
    second = run_automations(desk.deps)
    assert (first.closed, second.read, second.closed) == (1, 1, 0)
    assert [e["new"] for e in desk.events("TicketStatusChanged")] == ["closed"]
    assert [e.new for e in desk.history(ticket) if e.field == "status"][-1] == "closed"
    assert len([e for e in desk.history(ticket) if e.reason]) == 1
