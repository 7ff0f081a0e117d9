"""A ticket and its messages as the domain sees them, with the values they may take."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalogue import Person

Status = Literal["open", "in_progress", "waiting_on_client", "resolved", "closed"]
Priority = Literal["low", "medium", "high", "urgent"]
Visibility = Literal["public", "internal"]
AuthorType = Literal["agent", "client", "system"]


class Author(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: AuthorType
    email: str | None = None
    name: str | None = None


class Message(BaseModel):
    id: str
    ticket_id: str
    visibility: Visibility
    author: Author
    body: str
    created_at: datetime


class Ticket(BaseModel):
    id: str
    number: str
    subject: str
    status: Status = "open"
    priority: Priority = "medium"
    department_id: str | None = None
    assignee: str | None = None
    requester: Person
    contact_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    channel_id: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


def format_number(prefix: str, width: int, value: int) -> str:
    """`TKT-0042`: the prefix, a dash and the counter value padded to `width` digits."""
    return f"{prefix}-{value:0{width}d}"
