"""Macros: canned replies or notes with changes to make, kept shared by admins for every agent or
personal by each agent for themselves.

A personal macro is its owner's only: to anyone else it does not exist. Shared macros are read by
every agent and changed by admins. A name is unique among the macros of one scope and owner
(whatever its case). The text may name placeholders from a fixed list, checked when the macro is
saved and filled in when it is applied (`services.tickets.logic.apply_macro`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from pydantic import Field

from services.tickets.logic.ticket import Priority, Status, Visibility
from shared.clock import Clock
from shared.errors import Conflict, FieldError, Forbidden, Invalid, PreconditionFailed, not_found
from shared.identity import Caller
from shared.model import Model

Scope = Literal["shared", "personal"]
ME = "me"  # as an assignee: whoever applies the macro
MAX_PLACEHOLDERS = 100  # in one text: a filled-in text stays far below a message's limit
# name: what it stands for
PLACEHOLDERS: dict[str, str] = {
    "ticket.number": "the ticket's number (TKT-0042)",
    "ticket.subject": "the ticket's subject",
    "requester.name": "the client's name (their address if the name is unknown)",
    "requester.first_name": "the first word of the client's name (else as requester.name)",
    "requester.email": "the client's address",
    "agent.name": "the name of the agent applying the macro (their address if unknown)",
    "agent.email": "the address of the agent applying the macro",
    "department.name": "the name of the ticket's department (empty if it has none)",
}
# `{{` and `}}` are literal braces; `{name}` a placeholder; a `{` that opens nothing is an error.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\{")


class MacroChanges(Model):
    """What applying the macro changes on the ticket: only the fields set (`model_fields_set`)
    change; `assignee` set to None unassigns."""

    status: Status | None = None
    priority: Priority | None = None
    tags_add: list[str] = Field(default_factory=list)
    tags_remove: list[str] = Field(default_factory=list)
    assignee: str | None = None  # an agent's email, or `me`

    @property
    def any(self) -> bool:
        return bool(self.model_fields_set)


class Macro(Model):
    id: str
    scope: Scope
    owner: str | None  # the agent whose personal macro it is; None for shared ones
    name: str
    body: str | None = None  # the reply or note it posts, if any
    visibility: Visibility = "public"
    changes: MacroChanges = Field(default_factory=MacroChanges)
    created_by: str
    created_at: datetime
    updated_at: datetime
    revision: int = 1  # moves on every write; what each write is conditional on

    def visible_to(self, caller: Caller) -> bool:
        return self.scope == "shared" or self.owner == caller.email


class NameTaken(Exception):
    """Another macro of the same scope and owner has this name."""


class StaleMacro(Exception):
    """The macro changed (or went) since it was read."""


class MacroStore(Protocol):
    def get(self, macro_id: str) -> Macro | None: ...

    def of_owner(self, owner: str | None) -> list[Macro]:
        """The personal macros of `owner`, or the shared ones for None, by name."""
        ...

    def create(self, macro: Macro) -> None:
        """Store a new macro; NameTaken if its scope and owner have one of that name."""
        ...

    def update(self, macro: Macro, previous: Macro) -> None:
        """Store `macro` over `previous` (as read): StaleMacro if it changed since, NameTaken if
        the new name is another macro's. The stored revision moves on."""
        ...

    def delete(self, macro: Macro) -> None:
        """Remove it as read; StaleMacro if it changed since."""
        ...


@dataclass(frozen=True)
class MacroDraft:
    name: str
    scope: Scope
    body: str | None = None
    visibility: Visibility = "public"
    changes: MacroChanges = field(default_factory=MacroChanges)


UNCHANGED = object()  # a field an edit does not mention (None means "take it away")


@dataclass(frozen=True)
class MacroEdit:
    name: str | None = None
    body: str | object | None = UNCHANGED
    visibility: Visibility | None = None
    changes: MacroChanges | None = None  # replaces every change the macro made


# --- the text ----------------------------------------------------------------------------------


def placeholders_in(text: str) -> list[str]:
    """The placeholders the text names, in order; Invalid (naming `body`) for an unknown one or a
    brace that opens nothing."""
    names: list[str] = []
    for token in _TOKEN.finditer(text):
        if token.group(0) in ("{{", "}}"):
            continue
        name = token.group(1)
        if name is None:
            message = f"a '{{' at character {token.start() + 1} opens no placeholder: write '{{{{'"
            raise Invalid(f"body: {message}", [FieldError("body", message)])
        if name.strip() not in PLACEHOLDERS:
            known = ", ".join(f"{{{known}}}" for known in PLACEHOLDERS)
            message = f"unknown placeholder {{{name}}}; the known ones are {known}"
            raise Invalid(f"body: {message}", [FieldError("body", message)])
        names.append(name.strip())
    if len(names) > MAX_PLACEHOLDERS:
        message = f"at most {MAX_PLACEHOLDERS} placeholders in one text"
        raise Invalid(f"body: {message}", [FieldError("body", message)])
    return names


def render(text: str, value_of: Callable[[str], str]) -> str:
    """The text with each placeholder replaced by `value_of(name)` and each `{{`, `}}` by a brace
    (a text saved with a macro has been checked, so every name is known)."""

    def replace(token: re.Match[str]) -> str:
        if token.group(0) in ("{{", "}}"):
            return token.group(0)[0]
        return value_of(token.group(1).strip())

    return _TOKEN.sub(replace, text)


# --- use cases ---------------------------------------------------------------------------------


def create_macro(draft: MacroDraft, caller: Caller, store: MacroStore, clock: Clock) -> Macro:
    if draft.scope == "shared" and not caller.is_admin:
        raise Forbidden("Only admins keep shared macros; make it personal.")
    now = clock.now()
    macro = Macro(
        id=uuid.uuid4().hex,
        scope=draft.scope,
        owner=caller.email if draft.scope == "personal" else None,
        name=draft.name,
        body=draft.body,
        visibility=draft.visibility,
        changes=draft.changes,
        created_by=caller.email,
        created_at=now,
        updated_at=now,
    )
    _check(macro)
    try:
        store.create(macro)
    except NameTaken:
        raise _name_taken(macro) from None
    return macro


def list_macros(caller: Caller, store: MacroStore) -> list[Macro]:
    """The shared macros, then the caller's own, each by name."""
    return store.of_owner(None) + store.of_owner(caller.email)


def get_macro(macro_id: str, caller: Caller, store: MacroStore) -> Macro:
    macro = store.get(macro_id)
    if macro is None or not macro.visible_to(caller):
        raise not_found("macro", macro_id)
    return macro


def update_macro(
    macro_id: str,
    edit: MacroEdit,
    caller: Caller,
    store: MacroStore,
    clock: Clock,
    expected: int | None = None,
) -> Macro:
    """`expected`: the version the caller read (If-Match); another's edit since is a 412."""
    current = _editable(macro_id, caller, store, expected)
    macro = current.model_copy(deep=True)
    if edit.name is not None:
        macro.name = edit.name
    if edit.body is not UNCHANGED:
        macro.body = edit.body if isinstance(edit.body, str) else None
    if edit.visibility is not None:
        macro.visibility = edit.visibility
    if edit.changes is not None:
        macro.changes = edit.changes
    macro.updated_at = clock.now()
    _check(macro)
    try:
        store.update(macro, current)
    except NameTaken:
        raise _name_taken(macro) from None
    except StaleMacro:
        raise Conflict("The macro changed while you edited it; read it again.") from None
    macro.revision = current.revision + 1
    return macro


def delete_macro(
    macro_id: str, caller: Caller, store: MacroStore, expected: int | None = None
) -> None:
    macro = _editable(macro_id, caller, store, expected)
    try:
        store.delete(macro)
    except StaleMacro:
        raise Conflict("The macro changed while you deleted it; read it again.") from None


def usable_macro(macro_id: str, caller: Caller, store: MacroStore) -> Macro:
    """The macro the caller asks to apply: someone else's personal macro exists, but is not theirs
    to use (422 naming it), unlike one that does not exist (404)."""
    macro = store.get(macro_id)
    if macro is None:
        raise not_found("macro", macro_id)
    if not macro.visible_to(caller):
        message = "this is another agent's personal macro: use a shared macro or one of yours"
        raise Invalid(f"macro_id: {message}", [FieldError("macro_id", message)])
    return macro


def _editable(macro_id: str, caller: Caller, store: MacroStore, expected: int | None) -> Macro:
    macro = get_macro(macro_id, caller, store)
    if macro.scope == "shared" and not caller.is_admin:
        raise Forbidden("Only admins change shared macros.")
    if expected is not None and expected != macro.revision:
        # A shared macro is the whole team's: an edit made on an older read would undo another's.
        raise PreconditionFailed(
            f"The macro is at version {macro.revision}, not {expected}; read it again."
        )
    return macro


def _check(macro: Macro) -> None:
    """A macro posts a text or makes a change, names only known placeholders, and does not add
    and take away the same tag."""
    if macro.body is None and not macro.changes.any:
        message = "a macro posts a text or makes a change: give a body or changes"
        raise Invalid(f"body: {message}", [FieldError("body", message)])
    if macro.body is not None:
        placeholders_in(macro.body)
    both = sorted(set(macro.changes.tags_add) & set(macro.changes.tags_remove))
    if both:
        message = f"added and removed at once: {', '.join(both)}"
        raise Invalid(
            f"changes.tags_remove: {message}", [FieldError("changes.tags_remove", message)]
        )


def _name_taken(macro: Macro) -> Conflict:
    whose = "shared macro" if macro.scope == "shared" else "macro of yours"
    message = f"another {whose} is named {macro.name!r}: choose another name"
    return Conflict(f"name: {message}", [FieldError("name", message)])
