"""The departments another service announced, kept in one item of this service's table.

All departments live in one item: a team has tens of them, every read needs them together, and
one item can be read in the same round trip as what it guards.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from shared.departments import Department, Directory
from shared.storage import retry_on_stale

DIRECTORY_KEY = ("DEPARTMENTS", "DEPARTMENTS")  # pk and sk of the item, in any service's table


class _DirectoryChanged(Exception):
    """Another announcement was written between this one's read and write."""


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
        # Two announcements written at once: the second reads again and merges.
        return retry_on_stale(
            lambda: self._record(department),
            _DirectoryChanged,
            RuntimeError("the department directory kept changing while it was written"),
        )

    def _record(self, department: Department) -> bool:
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
        try:
            item.save(
                condition=self._item_class.pk.does_not_exist()
                if directory.version == 0
                else self._item_class.version == directory.version
            )
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            raise _DirectoryChanged from None
        return True


def directory_of(item: Any) -> Directory:
    """The directory from its stored item (as a batch read hands it over)."""
    stored = json.loads(item.departments)
    return Directory(
        {key: Department.model_validate(value) for key, value in stored.items()},
        int(item.version),
    )
