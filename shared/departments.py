"""Who may see a ticket: the rule, the same in every service, and the departments it reads.

Admins see every ticket, the members of its department see it, and a ticket without a department
is for the members of the triage department. Anyone else is answered as if it did not exist.

The tickets service owns departments and applies the rule to its own membership items; it
announces each department's members in full (DepartmentMembersChanged). A service that shows what
belongs to tickets (their SLA, the tickets of a contact) keeps those announcements
(`shared.department_store`) and applies the rule to them through a `Directory`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.events.catalogue import DepartmentMembersChanged
from shared.identity import Caller
from shared.model import Model


def responsible_department(department_id: str | None, triage: str | None) -> str | None:
    """The department whose members see a ticket: its own, or triage for one without."""
    return department_id or triage


def may_see(
    caller: Caller,
    caller_departments: Collection[str],
    department_id: str | None,
    triage: str | None,
) -> bool:
    """Whether `caller`, a member of `caller_departments`, may see a ticket of `department_id`."""
    if caller.is_admin:
        return True
    responsible = responsible_department(department_id, triage)
    return responsible is not None and responsible in caller_departments


class Department(Model):
    id: str
    members: list[str]  # lower-cased addresses
    archived: bool = False
    changed_at: datetime  # when the tickets service announced it


def department_of(data: DepartmentMembersChanged, occurred_at: str) -> Department:
    return Department(
        id=data.department_id,
        members=sorted(member.lower() for member in data.members),
        archived=data.archived,
        changed_at=datetime.fromisoformat(occurred_at),
    )


@dataclass(frozen=True)
class Directory:
    """The departments as last announced, and who of their members may see a ticket."""

    departments: dict[str, Department] = field(default_factory=dict)
    version: int = 0  # of the stored item

    def with_department(self, department: Department) -> Directory | None:
        """The directory with this announcement, or None when a newer one is already in it."""
        known = self.departments.get(department.id)
        if known is not None and known.changed_at > department.changed_at:
            return None
        return Directory({**self.departments, department.id: department}, self.version)

    def may_see(self, caller: Caller, department_id: str | None, triage: str | None) -> bool:
        departments = () if caller.is_admin else self.of_member(caller.email)
        return may_see(caller, departments, department_id, triage)

    def of_member(self, email: str) -> list[str]:
        return sorted(d.id for d in self.departments.values() if email.lower() in d.members)


class DepartmentStore(Protocol):
    def load(self) -> Directory: ...

    def record(self, department: Department) -> bool:
        """Keep the announcement unless a newer one of the department is kept; whether it was."""
        ...
