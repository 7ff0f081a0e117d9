"""The SLA report: for the tickets opened in a period, per priority, how many were measured, met
and breached, the compliance, and the median working minutes to first response and resolution.

Read from an index of timers by department and start time: one Query per department, never a
Scan. Admins report on any department or all; agents on their own departments.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.sla.logic.dependencies import Dependencies
from services.sla.logic.explain import may_see
from services.sla.logic.policy import PRIORITIES
from services.sla.logic.timer import TARGETS, Timer
from shared.errors import FieldError, Invalid, not_found
from shared.identity import Caller

MAX_PERIOD = timedelta(days=366)
NO_DEPARTMENT = "none"  # the `department` that means tickets without one


@dataclass(frozen=True)
class ReportQuery:
    start: datetime
    end: datetime
    department: str | None = None


@dataclass
class PriorityFigures:
    priority: str
    measured: int = 0
    met: int = 0
    breached: int = 0
    open: int = 0
    first_response_minutes: list[float] = field(default_factory=list)
    resolution_minutes: list[float] = field(default_factory=list)

    @property
    def compliance_percent(self) -> float | None:
        decided = self.met + self.breached
        return round(100 * self.met / decided, 1) if decided else None

    @staticmethod
    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 1) if values else None

    def add(self, timer: Timer) -> None:
        self.measured += 1
        if any(timer.breached(target) for target in TARGETS):
            self.breached += 1
        elif timer.clocks["resolution"].status == "met":
            self.met += 1
        else:
            self.open += 1
        for clock, values in (
            (timer.clocks["first_response"], self.first_response_minutes),
            (timer.clocks["resolution"], self.resolution_minutes),
        ):
            if clock.status == "met":
                values.append(clock.elapsed_minutes)


def sla_report(query: ReportQuery, caller: Caller, deps: Dependencies) -> list[PriorityFigures]:
    if query.end <= query.start:
        message = "must be after from"
        raise Invalid(f"query.to: {message}", [FieldError("query.to", message)])
    if query.end - query.start > MAX_PERIOD:
        message = f"a report covers at most {MAX_PERIOD.days} days"
        raise Invalid(f"query.from: {message}", [FieldError("query.from", message)])
    figures = {priority: PriorityFigures(priority) for priority in PRIORITIES}
    for department in _departments(query.department, caller, deps):
        for timer in deps.timers.started_between(department, query.start, query.end):
            # A merged-away ticket is a duplicate; the ticket it went into is measured.
            if timer.priority in figures and timer.clocks and timer.merged_into is None:
                figures[timer.priority].add(timer)
    return list(figures.values())


def _departments(wanted: str | None, caller: Caller, deps: Dependencies) -> Iterable[str | None]:
    if wanted is not None:
        department = None if wanted == NO_DEPARTMENT else wanted
        if not may_see(caller, department, deps):
            raise not_found("department", wanted)
        return [department]
    directory = deps.departments.load()
    if caller.is_admin:
        return [*sorted(directory.departments), None]
    mine = directory.of_member(caller.email)
    return [*mine, None] if deps.triage_department in mine else mine
