"""The shapes of bulk changes on the wire (`POST /tickets/bulk`).

An answer names each ticket by what was sent and carries no whole ticket: 100 of them must fit
the item the idempotency store keeps the answer in (400 KB), whatever the tickets hold.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, StringConstraints, ValidationInfo, field_validator

from services.tickets.logic.bulk_change import MAX_TICKETS
from services.tickets.logic.ticket import MAX_TAGS, Priority, Status
from services.tickets.models import DepartmentId, valid_tags
from shared.api import RequestModel, ResponseModel
from shared.text import SingleLine

TicketKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class BulkChangesIn(RequestModel):
    """The values of `PATCH /tickets/{id}`; only the fields sent change, `assignee: null`
    unassigns. Tags are added to or taken from each ticket's own."""

    status: Status | None = None
    priority: Priority | None = None
    assignee: EmailStr | None = None
    department_id: DepartmentId | None = None
    tags_add: list[SingleLine] = Field(default_factory=list, max_length=MAX_TAGS)
    tags_remove: list[SingleLine] = Field(default_factory=list, max_length=MAX_TAGS)

    @field_validator("tags_add")
    @classmethod
    def _tags_add(cls, tags: list[str]) -> list[str]:
        return valid_tags(tags)

    @field_validator("tags_remove")
    @classmethod
    def _tags_remove(cls, tags: list[str], info: ValidationInfo) -> list[str]:
        both = sorted(set(tags) & set(info.data.get("tags_add") or ()))
        if both:
            raise ValueError(f"{', '.join(both)}: a tag is either added or removed, not both")
        return valid_tags(tags)

    def changes_something(self) -> bool:
        sent = self.model_fields_set - {"tags_add", "tags_remove"}
        return bool(sent or self.tags_add or self.tags_remove)


class BulkChangeIn(RequestModel):
    ticket_ids: list[TicketKey] = Field(
        min_length=1, max_length=MAX_TICKETS, description="ids or numbers, each once"
    )
    changes: BulkChangesIn

    @field_validator("ticket_ids")
    @classmethod
    def _each_once(cls, keys: list[str]) -> list[str]:
        repeated = [key for key, times in Counter(keys).items() if times > 1]
        if repeated:
            raise ValueError(f"{', '.join(repeated)}: each ticket once")
        return keys

    @field_validator("changes")
    @classmethod
    def _something(cls, changes: BulkChangesIn) -> BulkChangesIn:
        if not changes.changes_something():
            raise ValueError("name at least one change")
        return changes


class BulkChangedOut(ResponseModel):
    id: str = Field(description="the ticket's id or number, as sent")
    status: Literal[200]
    ticket_id: str
    number: str
    version: int = Field(description="the version now, for a later If-Match")


class BulkRefusedOut(ResponseModel):
    id: str = Field(description="the ticket's id or number, as sent")
    status: int = Field(description="what `PATCH /tickets/{id}` would have answered")
    problem: dict[str, Any] = Field(
        description="the problem+json (RFC 9457) a single change would have answered"
    )


class BulkChangeOut(ResponseModel):
    items: list[BulkChangedOut | BulkRefusedOut] = Field(
        description="one per ticket, in the order sent; nothing of a refused ticket changed"
    )
