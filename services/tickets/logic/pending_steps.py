"""The automatic step a ticket has pending, and when it is due: a resolved ticket closes by
itself; a ticket waiting on its client gets one reminder, then is resolved.

The clock of each step starts at the ticket's last change (`updated_at`: a message, a status
change, any field a person changes; the automatic resolution moves it too). The step is derived
from the ticket and the deployment's timings whenever the ticket is written, so no change can
forget to set or clear it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.tickets.logic.ticket import Status, Ticket

Step = Literal["remind", "resolve", "close"]
# Tickets with a pending step are spread over this many index partitions, so no one partition
# takes every write of a busy desk; a sweep reads each.
AUTOMATION_BUCKETS = 4


@dataclass(frozen=True)
class AutomationTimings:
    """How long until each automatic step; None: that step is off."""

    auto_close_after: timedelta | None = None  # resolved -> closed
    remind_after: timedelta | None = None  # waiting on the client -> one reminder mail
    close_after_waiting: timedelta | None = None  # waiting on the client -> resolved

    @classmethod
    def of_days(
        cls, auto_close_after: float, remind_after: float, close_after_waiting: float
    ) -> AutomationTimings:
        """From the settings, in days; 0 turns a step off."""

        def days(value: float) -> timedelta | None:
            return timedelta(days=value) if value > 0 else None

        return cls(days(auto_close_after), days(remind_after), days(close_after_waiting))


def statuses_retimed(old: AutomationTimings | None, new: AutomationTimings) -> tuple[Status, ...]:
    """The statuses whose tickets' steps the change from `old` to `new` moves (`old` None: not
    known, so both): resolved tickets for the auto-close, waiting ones for the other two."""
    retimed: list[Status] = []
    if old is None or old.auto_close_after != new.auto_close_after:
        retimed.append("resolved")
    waits = (new.remind_after, new.close_after_waiting)
    if old is None or (old.remind_after, old.close_after_waiting) != waits:
        retimed.append("waiting_on_client")
    return tuple(retimed)


@dataclass(frozen=True)
class PendingStep:
    step: Step
    since: datetime  # when its clock started
    due_at: datetime


def pending_step(ticket: Ticket, timings: AutomationTimings) -> PendingStep | None:
    since = ticket.updated_at
    if ticket.status == "resolved" and timings.auto_close_after is not None:
        return PendingStep("close", since, since + timings.auto_close_after)
    if ticket.status != "waiting_on_client":
        return None
    # A reminder counts for this wait only: a change since then starts the clock again.
    reminded = ticket.reminded_at is not None and ticket.reminded_at >= since
    remind, resolve = timings.remind_after, timings.close_after_waiting
    if remind is not None and not reminded and (resolve is None or remind < resolve):
        return PendingStep("remind", since, since + remind)
    if resolve is not None:
        return PendingStep("resolve", since, since + resolve)
    return None


def automation_bucket(ticket_id: str) -> int:
    """A stable bucket per ticket (crc32, not `hash`, which changes from process to process)."""
    return zlib.crc32(ticket_id.encode()) % AUTOMATION_BUCKETS
