"""Departments and their members: admins create, rename, archive, manage members and choose how
new tickets are assigned (by hand, or by turns: `logic.assign_by_turns`); everyone signed in may
list them. Membership changes are announced for the services that need them."""

from __future__ import annotations

import re

from services.tickets.logic.change_ticket import UNSET
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.repository import GuardFailed
from services.tickets.logic.ticket import Assignment, Department
from shared.errors import Conflict, FieldError, Forbidden, Invalid, not_found
from shared.events.catalogue import DepartmentMembersChanged
from shared.events.envelope import OutgoingEvent
from shared.identity import Caller

SLUG = re.compile(r"[^a-z0-9]+")


def _admin_only(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("Only admins manage departments.")


def _announce(department: Department, deps: Dependencies) -> list[OutgoingEvent]:
    changed = DepartmentMembersChanged(
        department_id=department.id,
        name=department.name,
        members=department.members,
        archived=department.archived,
    )
    return [OutgoingEvent.of(changed, deps.clock.now())]


def create_department(
    name: str, department_id: str | None, caller: Caller, deps: Dependencies
) -> Department:
    _admin_only(caller)
    slug = department_id or SLUG.sub("-", name.lower()).strip("-")
    if not slug or slug == "none":
        message = "give an id of letters, digits and dashes"
        raise Invalid(f"id: {message}", [FieldError("id", message)])
    department = Department(id=slug, name=name)
    try:
        deps.repository.save_department(department, _announce(department, deps), new=True)
    except GuardFailed:
        raise Conflict(f"A department with id {slug!r} exists already.") from None
    return department


def get_department(department_id: str, deps: Dependencies) -> Department:
    department = deps.repository.department(department_id)
    if department is None:
        raise not_found("department", department_id)
    return department


def update_department(
    department_id: str,
    name: str | None,
    archived: bool | None,
    caller: Caller,
    deps: Dependencies,
    *,
    assignment: Assignment | None = None,
    open_limit: int | object | None = UNSET,
) -> Department:
    """Only what is not None changes, but `open_limit`: None there takes the limit away. Turning
    assignment by turns on recounts the members' open tickets, which the limit is held to."""
    _admin_only(caller)
    department = get_department(department_id, deps)
    changed = department.model_copy(
        update={
            "name": name if name is not None else department.name,
            "archived": archived if archived is not None else department.archived,
            "assignment": assignment if assignment is not None else department.assignment,
            "open_limit": open_limit if open_limit is not UNSET else department.open_limit,
        }
    )
    if changed.assignment == "round_robin" and department.assignment != "round_robin":
        # Commits keep each agent's count of open tickets (one across all their departments, as
        # the limit reads it), but tickets assigned before counts were kept are in none: count
        # them again before turns rely on them. First, so that a failed recount leaves turns off
        # and the change can be sent again.
        deps.repository.recount_open(changed.members)
    if changed != department:
        deps.repository.save_department(changed, _announce(changed, deps))
    return changed


def add_member(department_id: str, email: str, caller: Caller, deps: Dependencies) -> Department:
    _admin_only(caller)
    department = get_department(department_id, deps)
    email = email.lower()
    if email in department.members:
        return department
    changed = department.model_copy(update={"members": sorted({*department.members, email})})
    if department.assignment == "round_robin":
        deps.repository.recount_open([email])  # as when turns are turned on, for the newcomer
    deps.repository.save_department(changed, _announce(changed, deps), added=email)
    return changed


def remove_member(department_id: str, email: str, caller: Caller, deps: Dependencies) -> Department:
    _admin_only(caller)
    department = get_department(department_id, deps)
    email = email.lower()
    if email not in department.members:
        raise not_found("member", email)
    changed = department.model_copy(
        update={"members": [m for m in department.members if m != email]}
    )
    deps.repository.save_department(changed, _announce(changed, deps), removed=email)
    return changed
