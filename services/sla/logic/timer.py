"""One SLA timer per ticket: when its first response and its resolution are due."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel

TimerState = Literal["ok", "at_risk", "breached", "met"]

# Calendar-time defaults until policies are configurable: (first response, resolution).
DEFAULT_TARGETS: dict[str, tuple[timedelta, timedelta]] = {
    "urgent": (timedelta(hours=1), timedelta(hours=4)),
    "high": (timedelta(hours=4), timedelta(days=1)),
    "medium": (timedelta(hours=8), timedelta(days=3)),
    "low": (timedelta(hours=24), timedelta(days=5)),
}


class Timer(BaseModel):
    ticket_id: str
    priority: str
    started_at: datetime
    first_response_due_at: datetime
    resolution_due_at: datetime
    state: TimerState = "ok"


class TimerRepository(Protocol):
    def start(self, timer: Timer) -> bool:
        """Store a new timer; False if the ticket already has one."""
        ...

    def get(self, ticket_id: str) -> Timer | None: ...


def start_timer(
    ticket_id: str, priority: str, started_at: datetime, repository: TimerRepository
) -> Timer:
    """Start both clocks of a new ticket; a repeated start keeps the first timer."""
    first_response, resolution = DEFAULT_TARGETS[priority]
    timer = Timer(
        ticket_id=ticket_id,
        priority=priority,
        started_at=started_at,
        first_response_due_at=started_at + first_response,
        resolution_due_at=started_at + resolution,
    )
    repository.start(timer)
    return timer
