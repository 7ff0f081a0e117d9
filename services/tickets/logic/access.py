"""Who sees what, by the rule of `shared.departments`: an agent sees and changes only tickets of
departments they belong to; admins see all; a ticket without a department is for admins and the
triage department, if one is set. Here the caller's departments are this service's own records.

A ticket someone may not see answers exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.tickets.logic.dependencies import TicketRepository
from services.tickets.logic.repository import Guard, MemberGuard
from services.tickets.logic.ticket import Ticket
from shared.departments import may_see, responsible_department
from shared.errors import not_found
from shared.identity import Caller


@dataclass(frozen=True)
class Viewer:
    caller: Caller
    departments: frozenset[str]  # the caller's; unused for admins, who see everything
    triage_department: str | None

    def sees_department(self, department_id: str | None) -> bool:
        return may_see(self.caller, self.departments, department_id, self.triage_department)

    def sees(self, ticket: Ticket) -> bool:
        return self.sees_department(ticket.department_id)


def viewer_of(caller: Caller, repository: TicketRepository, triage: str | None) -> Viewer:
    """The caller with their departments (one read for agents, none for admins)."""
    departments = frozenset() if caller.is_admin else repository.departments_of(caller.email)
    return Viewer(caller, departments, triage)


def write_guards(
    caller: Caller, department_id: str | None, triage: str | None, ticket_key: str
) -> list[Guard]:
    """Conditions under which `caller` may change a ticket of `department_id`, checked by the write
    itself so a change costs no separate membership read."""
    if caller.is_admin:
        return []
    target = responsible_department(department_id, triage)
    if target is None:  # no department and no triage team: admins only
        raise not_found("ticket", ticket_key)
    return [MemberGuard(caller.email, target)]
