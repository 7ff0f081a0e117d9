"""Who may see a ticket, for the services that show a ticket's data outside the tickets service.

The tickets service owns departments and announces each one's members in full
(DepartmentMembersChanged). A service that shows what belongs to tickets (their SLA, the tickets
of a contact) keeps those announcements in its own table and applies the tickets service's rule:
admins see every ticket, the members of its department see it, and a ticket without a department
is for the members of the triage department. Anyone else is answered as if it did not exist.

All departments live in one item of the service's table: a team has tens of them, every read
needs them together, and one item can be read in the same round trip as what it guards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from shared.events.catalogue import DepartmentMembersChanged
from shared.identity import Caller

DIRECTORY_KEY = ("DEPARTMENTS", "DEPARTMENTS")  # pk and sk of the item, in any service's table
RETRIES = 5  # two announcements written at once: the second reads again and merges


class Department(BaseModel):
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
    """The departments as last announced, and the rule of who may see a ticket."""

    departments: dict[str, Department] = field(default_factory=dict)
    version: int = 0  # of the stored item

    def with_department(self, department: Department) -> Directory | None:
        """The directory with this announcement, or None when a newer one is already in it."""
        known = self.departments.get(department.id)
        if known is not None and known.changed_at > department.changed_at:
            return None
        return Directory({**self.departments, department.id: department}, self.version)

    def may_see(self, caller: Caller, department_id: str | None, triage: str | None) -> bool:
        if caller.is_admin:
            return True
        department = self.departments.get(department_id or triage or "")
        return department is not None and caller.email.lower() in department.members

    def of_member(self, email: str) -> list[str]:
        return sorted(d.id for d in self.departments.values() if email.lower() in d.members)


class DepartmentStore(Protocol):
    def load(self) -> Directory: ...

    def record(self, department: Department) -> bool:
        """Keep the announcement unless a newer one of the department is kept; whether it was."""
        ...


class DirectoryAttributes:
    """Mixed into a service's item class for the directory item (with its own discriminator)."""

    departments = UnicodeAttribute()  # JSON: id -> Department
    version = NumberAttribute()


class DynamoDepartmentStore:
    """The directory item in a service's table; `item_class` is its model for that item."""

    def __init__(self, item_class: Any) -> None:
        self._item_class = item_class

    def load(self) -> Directory:
        try:
            return directory_of(self._item_class.get(*DIRECTORY_KEY))
        except self._item_class.DoesNotExist:
            return Directory()

    def record(self, department: Department) -> bool:
        for _ in range(RETRIES):
            directory = self.load()
            updated = directory.with_department(department)
            if updated is None:
                return False
            item = self._item_class(
                *DIRECTORY_KEY,
                departments=json.dumps(
                    {key: d.model_dump(mode="json") for key, d in updated.departments.items()}
                ),
                version=directory.version + 1,
            )
            read_at = self._item_class.version == directory.version
            try:
                item.save(
                    condition=self._item_class.pk.does_not_exist()
                    if directory.version == 0
                    else read_at
                )
            except PutError as error:
                if error.cause_response_code != "ConditionalCheckFailedException":
                    raise
                continue
            return True
        raise RuntimeError("the department directory kept changing while it was written")


def directory_of(item: Any) -> Directory:
    """The directory from its stored item (as a batch read hands it over)."""
    stored = json.loads(item.departments)
    return Directory(
        {key: Department.model_validate(value) for key, value in stored.items()},
        int(item.version),
    )
