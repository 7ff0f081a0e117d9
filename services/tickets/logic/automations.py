"""The automatic steps on time: runs every minute, reads only the tickets whose pending step is
due, and takes each step once.

Tickets with a pending step sit in a sparse index keyed by its due time, spread over a few
buckets, so a run reads the steps due, not the open tickets. Each step is written conditionally
on the ticket's revision: of two runs that overlap, the second finds the ticket changed, reads it
again, and finds nothing due. Before them, a run files tickets again if the timings changed
(`refile_steps`), so a step they bring forward is taken in the same run.

- close: a resolved ticket closes, "closed automatically" in its history;
- remind: a ticket waiting on its client is marked reminded and `ClientReminderDue` asks the
  channels service for the mail (the event carries no text: the mail is the channels service's);
- resolve: a ticket still waiting is resolved with an internal note saying why. A note, not a
  reply: the client was told by the reminder (which names the day), and a second automatic mail to
  someone who has gone quiet is noise; their answer re-opens the ticket all the same.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.pending_steps import AUTOMATION_BUCKETS, PendingStep, pending_step
from services.tickets.logic.recording import change_events, history_of, message_posted, outgoing
from services.tickets.logic.refile_steps import refile_after_change
from services.tickets.logic.repository import Commit, StaleVersion
from services.tickets.logic.ticket import (
    SYSTEM,
    Author,
    HistoryEntry,
    Message,
    Status,
    Ticket,
    apply_status,
)
from shared.clock import isoformat
from shared.events.catalogue import ClientReminderDue
from shared.events.envelope import EventData
from shared.storage import retry_on_stale


@dataclass
class AutomationReport:
    read: int = 0  # tickets read from the index
    closed: int = 0
    reminded: int = 0
    resolved: int = 0
    refile_read: int = 0  # tickets read from their queues, the timings having changed
    refiled: int = 0  # filed again under their step as the timings now make it


def run_automations(deps: Dependencies) -> AutomationReport:
    now = deps.clock.now()
    refiled = refile_after_change(deps)
    report = AutomationReport(refile_read=refiled.read, refiled=refiled.refiled)
    for bucket in range(AUTOMATION_BUCKETS):
        for ticket in deps.repository.automations_due(bucket, now):
            report.read += 1
            _take_step(ticket, now, deps, report)
    return report


def _take_step(ticket: Ticket, now: datetime, deps: Dependencies, report: AutomationReport) -> None:
    unread = [ticket]  # the first attempt acts on the ticket as the index had it

    def attempt() -> None:
        current = unread.pop() if unread else deps.repository.get(ticket.id)
        if current is None:
            return
        step = pending_step(current, deps.config.automations)
        if step is None or step.due_at > now:
            # Filed as due, yet nothing is: the timings changed since it was written (or the
            # index lagged a change). Filed again as it is now, unless it changed: read again.
            if not deps.repository.refile(current):
                raise StaleVersion(current.id)
            report.refiled += 1
            return
        if step.step == "close":
            deps.repository.commit(_close(current, step, now))
            report.closed += 1
        elif step.step == "remind":
            deps.repository.commit(_remind(current, step, now, deps))
            report.reminded += 1
        else:
            deps.repository.commit(_resolve(current, step, now))
            report.resolved += 1

    retry_on_stale(attempt, StaleVersion, StaleVersion(ticket.id))


def _close(current: Ticket, step: PendingStep, now: datetime) -> Commit:
    reason = f"closed automatically: resolved for {_span(now - step.since)} without an answer"
    return _status_commit(current, "closed", reason, "auto_close", now)


def _resolve(current: Ticket, step: PendingStep, now: datetime) -> Commit:
    reason = (
        f"resolved automatically: waited on the client for {_span(now - step.since)} "
        "without an answer"
    )
    note = Message(
        id=str(uuid.uuid4()),
        ticket_id=current.id,
        visibility="internal",
        author=Author(type="system", name="Automation"),
        body=f"{reason[0].upper()}{reason[1:]}. An answer from them re-opens it.",
        created_at=now,
    )
    return _status_commit(current, "resolved", reason, "waiting_timeout", now, note)


def _status_commit(
    current: Ticket,
    status: Status,
    reason: str,
    event_reason: str,
    now: datetime,
    note: Message | None = None,
) -> Commit:
    """A status change people see: it moves the version and the update time (and with it the
    clock of the next step), as the status change a client's reply brings does."""
    ticket = current.model_copy(deep=True)
    change = apply_status(ticket, status, now)
    changes = [change] if change else []
    ticket.version = current.version + 1
    ticket.updated_at = now
    events: list[EventData] = [message_posted(ticket, note, False)] if note else []
    events += change_events(ticket, changes, SYSTEM, now, event_reason)
    return Commit(
        ticket,
        current,
        messages=[note] if note else [],
        history=history_of(ticket, changes, SYSTEM, now, reason),
        events=outgoing(events, now, None),
    )


def _remind(current: Ticket, step: PendingStep, now: datetime, deps: Dependencies) -> Commit:
    """Marked reminded (the system's own change: version and update time stay), with the event
    that has the channels service mail the client."""
    ticket = current.model_copy(deep=True)
    ticket.reminded_at = now
    waited = _span(now - step.since)
    resolve_after = deps.config.automations.close_after_waiting
    resolves_at = step.since + resolve_after if resolve_after is not None else None
    due: EventData = ClientReminderDue(
        ticket_id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        requester=ticket.requester,
        department_id=ticket.department_id,
        channel_id=ticket.channel_id,
        reminder_id=f"{ticket.id}@{isoformat(now)}",
        waiting_since=isoformat(step.since),
        resolves_at=isoformat(resolves_at) if resolves_at is not None else None,
    )
    entry = HistoryEntry(
        ticket_id=ticket.id,
        field="reminder",
        new=ticket.requester.email,
        actor=SYSTEM,
        at=now,
        reason=f"reminded automatically: waited on the client for {waited}",
    )
    return Commit(ticket, current, history=[entry], events=outgoing([due], now, None))


def _span(length: timedelta) -> str:
    """A wait as people say it: in days, or hours below two days."""
    hours = int(length.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    return "1 hour" if hours == 1 else f"{hours} hours"
