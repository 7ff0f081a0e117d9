"""Who may see a ticket's SLA, and the explanation they get: per target, its clock as it stands
and the timeline of what moved it.

The rule is the tickets service's: admins see every ticket, agents the tickets of their
departments, and a ticket without a department is for admins and the triage department's members.
Membership comes from DepartmentMembersChanged. A ticket the caller may not see answers exactly
like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.sla.logic.dependencies import Dependencies
from services.sla.logic.policy import PolicyHistory
from services.sla.logic.timer import (
    TARGETS,
    Alarms,
    Entry,
    SlaState,
    Target,
    TargetClock,
    Timer,
    elapsed_minutes,
)
from shared.errors import not_found
from shared.identity import Caller


def may_see(caller: Caller, department_id: str | None, deps: Dependencies) -> bool:
    """The tickets service's rule, from the departments it announced."""
    if caller.is_admin:
        return True  # no read
    return deps.departments.load().may_see(caller, department_id, deps.triage_department)


@dataclass(frozen=True)
class TargetView:
    target: Target
    clock: TargetClock
    alarms: Alarms
    elapsed_minutes: float
    timeline: list[Entry]


@dataclass(frozen=True)
class Explanation:
    timer: Timer
    state: SlaState | None
    targets: list[TargetView]


def explain(ticket_id: str, caller: Caller, deps: Dependencies) -> Explanation:
    timer = deps.timers.get(ticket_id)
    if timer is None or not timer.started or not may_see(caller, timer.department_id, deps):
        raise not_found("SLA timer of ticket", ticket_id)
    now = deps.clock.now()
    history = PolicyHistory(deps.policies.versions())
    views = []
    for target in TARGETS:
        elapsed = elapsed_minutes(timer, target, history, now)
        views.append(
            TargetView(
                target, timer.clocks[target], timer.alarms[target], elapsed, timer.timeline(target)
            )
        )
    return Explanation(timer, timer.state(), views)
