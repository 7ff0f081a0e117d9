"""A rating mail that waits for the deployment's delay after a resolution (`csat_delay`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RatingRequest:
    """The rating mail for the resolution of a ticket at `resolved_at` (the time its event names,
    which names the resolution), due at `due_at`."""

    ticket_id: str
    resolved_at: str
    due_at: datetime
