"""Lists and queue counts: which partitions of which index to read for a filter, never a Scan.

Queues are keyed `<department>#<status>`, so the usual view (a department's open tickets) is one
Query; several departments or statuses are read side by side and merged in order. An assignee or
a contact has its own index; the remaining filters are applied while reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.tickets.logic.access import Viewer, viewer_of
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.repository import ListPlan, Partition, TicketFilter
from services.tickets.logic.ticket import STATUSES, Priority, SlaState, Status, Ticket
from shared.errors import FieldError, Invalid, not_found
from shared.identity import Caller
from shared.keys import NO_KEY
from shared.storage import Page

Sort = Literal["updated", "created", "sla_due"]
QUEUE_INDEX: dict[Sort, Literal["by_queue_updated", "by_queue_created", "by_queue_sla"]] = {
    "updated": "by_queue_updated",
    "created": "by_queue_created",
    "sla_due": "by_queue_sla",
}


@dataclass(frozen=True)
class TicketQuery:
    statuses: tuple[Status, ...] = ()
    priority: Priority | None = None
    department_id: str | None = None
    assignee: str | None = None  # "me", "none" or an agent's email
    contact_id: str | None = None
    sla: SlaState | None = None
    tag: str | None = None
    sort: Sort = "updated"


def queue_key(department_id: str | None, status: str) -> str:
    return f"{department_id or NO_KEY}#{status}"


def assignee_key(assignee: str | None, status: str) -> str:
    return f"{assignee or NO_KEY}#{status}"


def list_tickets(
    query: TicketQuery, caller: Caller, deps: Dependencies, limit: int, cursor: str | None
) -> Page[Ticket]:
    viewer = viewer_of(caller, deps.repository, deps.config.triage_department)
    plan = plan_list(query, viewer, deps)
    if not plan.partitions:
        return Page([], None)
    return deps.repository.list_page(plan, limit, cursor)


def plan_list(query: TicketQuery, viewer: Viewer, deps: Dependencies) -> ListPlan:
    statuses = query.statuses or STATUSES
    departments = _visible_departments(query, viewer, deps)
    assignee = _assignee(query, viewer)
    newest_first = query.sort != "sla_due"
    restrict = None if viewer.caller.is_admin and query.department_id is None else departments
    if query.contact_id is not None:
        if query.sort != "created":
            raise _unsorted("contact_id", "created")
        partitions: tuple[Partition, ...] = (Partition("by_contact", query.contact_id),)
        filters = TicketFilter(
            query.priority, query.tag, query.sla, assignee, tuple(statuses), restrict
        )
    elif assignee is not None:
        if query.sort != "updated":
            raise _unsorted("assignee", "updated")
        partitions = tuple(Partition("by_assignee", assignee_key(assignee, s)) for s in statuses)
        filters = TicketFilter(query.priority, query.tag, query.sla, None, (), restrict)
    else:
        index = QUEUE_INDEX[query.sort]
        partitions = tuple(
            Partition(index, queue_key(d or None, s)) for d in departments for s in statuses
        )
        filters = TicketFilter(query.priority, query.tag, query.sla)
    return ListPlan(partitions, filters, newest_first)


def _visible_departments(query: TicketQuery, viewer: Viewer, deps: Dependencies) -> tuple[str, ...]:
    """Departments to read ("" for no department), as far as the caller may see them."""
    if query.department_id is not None:
        wanted = "" if query.department_id == "none" else query.department_id
        return (wanted,) if viewer.sees_department(wanted or None) else ()
    if viewer.caller.is_admin:
        known = tuple(d.id for d in deps.repository.departments())
    else:
        known = tuple(sorted(viewer.departments))
    return (*known, "") if viewer.sees_department(None) else known


def _assignee(query: TicketQuery, viewer: Viewer) -> str | None:
    if query.assignee is None:
        return None
    if query.assignee == "me":
        return viewer.caller.email
    if query.assignee == "none":
        return NO_KEY
    return query.assignee.lower()


def _unsorted(field: str, sort: str) -> Invalid:
    message = f"with {field}, lists sort by {sort} only"
    return Invalid(f"sort: {message}", [FieldError("query.sort", message)])


def queue_counts(department_id: str, caller: Caller, deps: Dependencies) -> dict[Status, int]:
    """The numbers on an agent's tabs: tickets per status in a department's queue."""
    viewer = viewer_of(caller, deps.repository, deps.config.triage_department)
    department = None if department_id == "none" else department_id
    if not viewer.sees_department(department):
        raise not_found("department", department_id)
    return deps.repository.counts(department)
