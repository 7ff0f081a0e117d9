"""The SLA API's response shapes."""

from __future__ import annotations

from datetime import datetime

from shared.api import ResponseModel


class TimerOut(ResponseModel):
    ticket_id: str
    priority: str
    state: str
    started_at: datetime
    first_response_due_at: datetime
    resolution_due_at: datetime
