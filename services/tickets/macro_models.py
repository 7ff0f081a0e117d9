"""The shapes of macros on the wire (`/macros…`, `POST /tickets/{id}/macros/{macro_id}`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator
from typing_extensions import TypedDict

from services.tickets.logic.apply_macro import MacroOutcome
from services.tickets.logic.macros import ME, Macro, MacroChanges, Scope
from services.tickets.logic.pending_steps import AutomationTimings
from services.tickets.logic.ticket import MAX_TAGS, Priority, Status, Visibility
from services.tickets.models import AGENT_EMAIL, MessageOut, TicketOut, valid_tags
from shared.api import Reply, RequestModel, ResponseModel
from shared.text import MultiLine, SingleLine

MAX_MACRO_BODY = 20_000  # characters, before placeholders are filled in


class MacroChangesIn(RequestModel):
    """Only the fields sent change the ticket; `assignee: null` unassigns."""

    status: Status | None = None
    priority: Priority | None = None
    tags_add: list[SingleLine] = Field(default_factory=list, max_length=MAX_TAGS)
    tags_remove: list[SingleLine] = Field(default_factory=list, max_length=MAX_TAGS)
    assignee: str | None = Field(
        None, description="an agent's email, `me` (whoever applies it), or null to unassign"
    )

    @field_validator("tags_add", "tags_remove")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return valid_tags(tags)

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, assignee: str | None) -> str | None:
        if assignee is None or assignee == ME:
            return assignee
        if not re.match(AGENT_EMAIL, assignee):
            raise ValueError("an agent's email, `me`, or null to unassign")
        return assignee.lower()

    def to_changes(self) -> MacroChanges:
        # A null or empty value changes nothing, except `assignee: null`, which unassigns.
        sent = self.model_dump(exclude_unset=True)
        return MacroChanges(**{k: v for k, v in sent.items() if v or k == "assignee"})


class MacroIn(RequestModel):
    name: SingleLine = Field(min_length=1, max_length=100)
    scope: Scope = Field(description="`shared` (admins only) or `personal` (yours alone)")
    body: MultiLine | None = Field(
        None,
        min_length=1,
        max_length=MAX_MACRO_BODY,
        description="the reply or note it posts, with placeholders such as {ticket.number}; "
        "`{{` and `}}` are literal braces",
    )
    visibility: Visibility = "public"
    changes: MacroChangesIn = Field(default_factory=MacroChangesIn)


class MacroPatchIn(RequestModel):
    """Only the fields sent change; `body: null` takes the text away; `changes` replaces every
    change the macro made."""

    name: SingleLine | None = Field(None, min_length=1, max_length=100)
    body: MultiLine | None = Field(None, min_length=1, max_length=MAX_MACRO_BODY)
    visibility: Visibility | None = None
    changes: MacroChangesIn | None = None


class MacroChangesOut(TypedDict, total=False):
    """The changes the macro makes: a field it leaves alone is absent; `assignee: null`
    unassigns."""

    status: Status
    priority: Priority
    tags_add: list[str]
    tags_remove: list[str]
    assignee: str | None


class MacroOut(ResponseModel):
    id: str
    scope: Scope
    owner: str | None = Field(description="whose personal macro it is; null for shared ones")
    name: str
    body: str | None
    visibility: Visibility
    changes: MacroChangesOut
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="moves on with every edit; send it as If-Match to edit")

    @classmethod
    def of(cls, macro: Macro) -> MacroOut:
        changes = macro.changes.model_dump(exclude_unset=True)
        fields = macro.model_dump(exclude={"changes"})
        return cls.model_validate(fields | {"changes": changes, "version": macro.revision})

    def reply(self) -> Reply:
        """The macro with its version as the ETag, for an If-Match on the next edit."""
        return Reply(self, None, {"ETag": f'"{self.version}"'})


class MacroList(ResponseModel):
    items: list[MacroOut] = Field(description="the shared macros, then yours, each by name")


class ApplyMacroIn(RequestModel):
    version: int | None = Field(None, ge=1, description="the version you read; or send If-Match")


class AppliedOut(ResponseModel):
    ticket: TicketOut
    message: MessageOut | None = Field(description="what the macro posted; null if it posts none")


class ChangeOut(ResponseModel):
    field: str
    old: Any = None
    new: Any = None


class PreviewOut(ResponseModel):
    body: str | None = Field(description="the text as it would be posted, placeholders filled in")
    visibility: Visibility | None = Field(description="of that text; null if it posts none")
    changes: list[ChangeOut] = Field(description="what would change, in order, with the reply's")
    ticket: TicketOut = Field(description="the ticket as it would be")

    @classmethod
    def of(cls, outcome: MacroOutcome, timings: AutomationTimings) -> PreviewOut:
        message = outcome.message
        return cls(
            body=message.body if message is not None else None,
            visibility=message.visibility if message is not None else None,
            changes=[ChangeOut(field=c.field, old=c.old, new=c.new) for c in outcome.changes],
            ticket=TicketOut.of(outcome.ticket, timings),
        )
