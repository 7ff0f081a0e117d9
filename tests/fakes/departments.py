"""A service's department directory in memory, keeping the promises of
`shared.department_store.DynamoDepartmentStore`: an older announcement of a department never
replaces a newer one, and every kept announcement is a new version of the directory."""

from __future__ import annotations

from shared.departments import Department, Directory


class FakeDepartmentStore:
    def __init__(self) -> None:
        self._directory = Directory()

    def load(self) -> Directory:
        return self._directory

    def record(self, department: Department) -> bool:
        updated = self._directory.with_department(department)
        if updated is None:
            return False
        self._directory = Directory(updated.departments, self._directory.version + 1)
        return True
