"""Changing a ticket by hand: status, priority, assignee, department and tags, with optimistic
concurrency (a stale version changes nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from services.tickets.logic.access import Viewer, viewer_of, write_guards
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.find_ticket import load_ticket
from services.tickets.logic.recording import change_events, history_of, outgoing
from services.tickets.logic.repository import (
    Commit,
    Guard,
    GuardFailed,
    MemberGuard,
    OpenDepartmentGuard,
    StaleVersion,
)
from services.tickets.logic.ticket import (
    MAX_TAGS,
    Change,
    Priority,
    Status,
    Ticket,
    apply_status,
    check_status_change,
)
from shared.errors import (
    Conflict,
    DomainError,
    FieldError,
    Invalid,
    PreconditionFailed,
    not_found,
)
from shared.identity import Caller
from shared.storage import retry_on_stale

UNSET = object()  # a field the request did not mention (None means "set to nothing")


@dataclass(frozen=True)
class TicketPatch:
    status: Status | None = None
    priority: Priority | None = None
    assignee: str | object | None = UNSET
    department_id: str | object | None = UNSET
    tags: list[str] | None = None
    # Tags added to and taken from what the ticket has (after `tags`, if both are given).
    tags_add: frozenset[str] = frozenset()
    tags_remove: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ExpectedVersion:
    version: int
    source: Literal["if-match", "body"]  # a stale If-Match is 412, a stale body version 409


def change_ticket(
    key: str,
    patch: TicketPatch,
    expected: ExpectedVersion | None,
    caller: Caller,
    deps: Dependencies,
    correlation_id: str | None = None,
    *,
    as_read: Ticket | None = None,
    viewer: Viewer | None = None,
) -> Ticket:
    """`as_read`: the ticket as the caller has just read it (with others, in one read), changed
    on the first attempt instead of reading it again; `viewer`: the caller's rights, if known."""
    unread = [as_read] if as_read is not None else []

    def rights() -> Viewer:
        return viewer or viewer_of(caller, deps.repository, deps.config.triage_department)

    # A write that loses a race is tried again on what is there now: if a person changed the
    # ticket meanwhile, the caller's expected version no longer matches and the retry says so; if
    # only the system did (an SLA due time, say), the change goes through.
    def attempt() -> Ticket:
        current = unread.pop() if unread else load_ticket(key, deps)
        if current is None:
            raise not_found("ticket", key)
        return _change(current, key, patch, expected, caller, deps, correlation_id, rights)

    return retry_on_stale(
        attempt, StaleVersion, Conflict("The ticket is changing too fast; try again.")
    )


def _change(
    current: Ticket,
    key: str,
    patch: TicketPatch,
    expected: ExpectedVersion | None,
    caller: Caller,
    deps: Dependencies,
    correlation_id: str | None,
    rights: Callable[[], Viewer],
) -> Ticket:
    triage = deps.config.triage_department
    try:
        guards = write_guards(caller, current.department_id, triage, key)
        if expected is not None and expected.version != current.version:
            raise stale_version(expected, current)
        ticket, changes, guards_for_change = apply_patch(current, patch, caller, deps)
    except DomainError:
        # Never tell a caller who may not see the ticket anything but "not found".
        if not rights().sees(current):
            raise not_found("ticket", key) from None
        raise
    if not changes:
        # Nothing to write means no write-time membership check: check before answering.
        if not rights().sees(current):
            raise not_found("ticket", key)
        return current
    now = deps.clock.now()
    ticket.version = current.version + 1
    ticket.updated_at = now
    try:
        deps.repository.commit(
            Commit(
                ticket=ticket,
                previous=current,
                history=history_of(ticket, changes, caller.email, now),
                events=outgoing(
                    change_events(ticket, changes, caller.email, now, "agent"), now, correlation_id
                ),
                guards=guards + guards_for_change,
            )
        )
    except GuardFailed as failed:
        raise refused_change(failed.guard, key) from None
    return ticket


def apply_patch(
    current: Ticket, patch: TicketPatch, caller: Caller, deps: Dependencies
) -> tuple[Ticket, list[Change], list[Guard]]:
    """A changed copy of the ticket, the changes made and the guards their write needs."""
    ticket = current.model_copy(deep=True)
    now = deps.clock.now()
    changes: list[Change] = []
    guards: list[Guard] = []
    if patch.status is not None:
        check_status_change(current, patch.status)
        changes += [c for c in [apply_status(ticket, patch.status, now)] if c]
    if patch.priority is not None and patch.priority != ticket.priority:
        changes.append(Change(field="priority", old=ticket.priority, new=patch.priority))
        ticket.priority = patch.priority
    if patch.tags is not None or patch.tags_add or patch.tags_remove:
        kept = set(ticket.tags if patch.tags is None else patch.tags)
        tags = sorted((kept | patch.tags_add) - patch.tags_remove)
        if len(tags) > MAX_TAGS:
            message = f"a ticket has at most {MAX_TAGS} tags; this would make {len(tags)}"
            raise Invalid(f"tags: {message}", [FieldError("tags", message)])
        if tags != ticket.tags:
            changes.append(Change(field="tags", old=ticket.tags, new=tags))
            ticket.tags = tags
    if patch.department_id is not UNSET and patch.department_id != ticket.department_id:
        department = patch.department_id if isinstance(patch.department_id, str) else None
        changes.append(Change(field="department_id", old=ticket.department_id, new=department))
        ticket.department_id = department
        if department is not None:
            guards.append(OpenDepartmentGuard(department))
        if not caller.is_admin:
            target = department if department is not None else deps.config.triage_department
            if target is None:
                message = "only admins may leave a ticket without a department"
                raise Invalid(f"department_id: {message}", [FieldError("department_id", message)])
            guards.append(MemberGuard(caller.email, target, role="destination"))
        # Moving keeps the assignee only if they are a member of the new department.
        keep = (
            ticket.assignee is not None
            and patch.assignee is UNSET
            and department is not None
            and deps.repository.is_member(ticket.assignee, department)
        )
        if ticket.assignee is not None and patch.assignee is UNSET and not keep:
            changes.append(Change(field="assignee", old=ticket.assignee, new=None))
            ticket.assignee = None
    if patch.assignee is not UNSET:
        assignee = patch.assignee.lower() if isinstance(patch.assignee, str) else None
        moved = ticket.department_id != current.department_id
        if assignee != ticket.assignee or (moved and assignee is not None):
            if assignee is not None:
                if ticket.department_id is None:
                    raise Invalid(
                        "assignee: a ticket needs a department before it can be assigned",
                        [FieldError("assignee", "the ticket has no department")],
                    )
                guards.append(MemberGuard(assignee, ticket.department_id, role="assignee"))
            if assignee != ticket.assignee:
                changes.append(Change(field="assignee", old=ticket.assignee, new=assignee))
                ticket.assignee = assignee
    return ticket, changes, guards


def stale_version(expected: ExpectedVersion | None, current: Ticket) -> DomainError:
    detail = (
        f"{current.number} changed since you read it (now version {current.version}); "
        "read it again and retry."
    )
    if expected is not None and expected.source == "body":
        return Conflict(detail)
    return PreconditionFailed(detail)


def refused_change(guard: Guard, key: str) -> DomainError:
    if isinstance(guard, OpenDepartmentGuard):
        message = "no such department, or it is archived"
        return Invalid(f"department_id: {message}", [FieldError("department_id", message)])
    if guard.role == "assignee":
        message = f"{guard.email} is not a member of department {guard.department_id}"
        return Invalid(f"assignee: {message}", [FieldError("assignee", message)])
    if guard.role == "destination":
        message = f"you are not a member of department {guard.department_id}"
        return Invalid(f"department_id: {message}", [FieldError("department_id", message)])
    return not_found("ticket", key)
