"""The breach sweep: runs every minute, reads only the timers whose next alarm is due, and
announces each warning and breach once.

Timers with a pending alarm sit in a sparse index keyed by the alarm's time, spread over a fixed
set of buckets; a sweep queries each bucket for `alarm_at <= now`, so its reads grow with the
number of alarms due, not with the number of open tickets. Each announcement is written with the
timer in one conditional transaction: of two sweeps that overlap, the second finds the timer
changed, reads it again, and has nothing left to announce.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.sla.logic.dependencies import ALARM_BUCKETS, Dependencies, Retargeting, StaleTimer
from services.sla.logic.keep_timers import announce
from services.sla.logic.policy import PolicyHistory
from services.sla.logic.timer import Timer
from shared.clock import isoformat
from shared.events.catalogue import SlaBreached, SlaWarning
from shared.events.envelope import EventData, OutgoingEvent
from shared.storage import retry_on_stale

RETARGET_PAGE = 200  # open timers a sweep carries to a new policy version, besides its alarms


@dataclass
class SweepReport:
    read: int = 0  # timers read from the index for their alarms
    retargeted: int = 0  # timers read to carry a new policy version to them
    warned: int = 0
    breached: int = 0


def sweep(deps: Dependencies) -> SweepReport:
    now = deps.clock.now()
    history = PolicyHistory(deps.policies.versions())
    report = SweepReport()
    for bucket in range(ALARM_BUCKETS):
        for timer in deps.timers.due(bucket, now):
            report.read += 1
            _fire(timer, now, history, deps, report)
    _retarget(now, history, deps, report)
    return report


def _retarget(
    now: datetime, history: PolicyHistory, deps: Dependencies, report: SweepReport
) -> None:
    """Carry a new policy version to the open timers, up to a page of them per sweep, resuming
    where the last sweep stopped. A paused timer takes it when it resumes: replays read every
    version."""
    pass_ = deps.policies.retargeting()
    budget = RETARGET_PAGE
    while pass_ is not None and budget > 0:
        timers, cursor = deps.timers.with_alarms(pass_.bucket, pass_.cursor, budget)
        for timer in timers:
            report.retargeted += 1
            _fire(timer, now, history, deps, report)
        budget -= len(timers)
        following: Retargeting | None
        if cursor is not None:
            following = pass_.model_copy(update={"cursor": cursor})
        elif pass_.bucket + 1 < ALARM_BUCKETS:
            following = pass_.model_copy(update={"bucket": pass_.bucket + 1, "cursor": None})
        else:
            following = None
        deps.policies.advance(pass_, following)
        pass_ = following


def _fire(
    timer: Timer, now: datetime, history: PolicyHistory, deps: Dependencies, report: SweepReport
) -> None:
    unread = [timer]  # the first attempt fires the timer as the index read it

    def attempt() -> None:
        current = unread.pop() if unread else deps.timers.get(timer.ticket_id)
        if current is None:
            return
        # Replayed under the policies as they are now, so a policy change applies from here on.
        refreshed = current.refresh(history)
        events = announce(current, refreshed) + alarms_due(refreshed, now)
        if not events and refreshed.clocks == current.clocks:
            return  # an index entry older than the timer, or another sweep was first
        deps.timers.save(refreshed, [OutgoingEvent.of(event, now) for event in events])
        report.warned += sum(isinstance(event, SlaWarning) for event in events)
        report.breached += sum(isinstance(event, SlaBreached) for event in events)

    retry_on_stale(attempt, StaleTimer, StaleTimer(timer.ticket_id))


def alarms_due(timer: Timer, now: datetime) -> list[EventData]:
    """The warnings and breaches due by `now`, marked announced on `timer`. A warning whose target
    is already past due is not announced: the breach says more."""
    events: list[EventData] = []
    breaching = {
        target for at, target, kind in timer.pending_alarms() if kind == "breach" and at <= now
    }
    for at, target, kind in timer.pending_alarms():
        if at > now or (kind == "warning" and target in breaching):
            continue
        clock, alarms = timer.clocks[target], timer.alarms[target]
        due_at = isoformat(clock.due_at) if clock.due_at else isoformat(at)
        if kind == "warning":
            alarms.warned_at = now
            events.append(
                SlaWarning(
                    ticket_id=timer.ticket_id, target=target, due_at=due_at, at=isoformat(now)
                )
            )
        else:
            alarms.breached_at = now
            events.append(
                SlaBreached(
                    ticket_id=timer.ticket_id, target=target, due_at=due_at, at=isoformat(now)
                )
            )
    return events
