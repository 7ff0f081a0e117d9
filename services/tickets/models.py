"""The tickets API's request and response shapes (the names a frontend relies on)."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, Field

from services.tickets.logic.ticket import Priority, Status, Ticket
from shared.api import RequestModel, ResponseModel

MAX_SUBJECT = 250
MAX_BODY = 100_000  # characters; a longer message is refused with 422 naming `body`


class PersonIn(RequestModel):
    email: EmailStr
    name: str | None = Field(None, max_length=200)


class OpenTicketIn(RequestModel):
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    priority: Priority = "medium"
    department_id: str | None = None
    requester: PersonIn
    tags: list[str] = Field(default_factory=list, max_length=50)
    cc: list[EmailStr] = Field(default_factory=list, max_length=50)


class PersonOut(ResponseModel):
    email: str
    name: str | None


class SlaOut(ResponseModel):
    state: str | None = None
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None


class TicketOut(ResponseModel):
    id: str
    number: str
    subject: str
    status: Status
    priority: Priority
    department_id: str | None
    assignee: str | None
    requester: PersonOut
    contact_id: str | None
    tags: list[str]
    cc: list[str]
    channel_id: str | None
    sla: SlaOut = Field(default_factory=SlaOut)
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> TicketOut:
        return cls.model_validate(ticket.model_dump())
