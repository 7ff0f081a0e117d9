"""Filing tickets again when the deployment's timings change: each write files a ticket under its
pending step, so without this an untouched ticket would keep the step of the timings it was last
written under (a resolved ticket would never close once the auto-close is turned on).

One record says which timings the tickets are filed under. The scheduled run compares it with the
deployment's: equal, that read is all it costs. Different, the run reads the tickets whose step
the change moves through the queue index (each department's resolved tickets for the auto-close,
its waiting ones for the other two; never a Scan), `REFILE_BATCH` at most per run, and files again
each one filed otherwise, on the condition of its revision (a ticket changed meanwhile was filed
by that change). Where it stopped is recorded for the next run; at the end, the new timings. A
change of timings during a refile starts it over, over both statuses (the tickets are then filed
under a mix).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from services.tickets.logic.list_tickets import queue_key
from services.tickets.logic.pending_steps import AutomationTimings, pending_step, statuses_retimed
from services.tickets.logic.repository import AutomationFiling
from shared.clock import isoformat

if TYPE_CHECKING:  # dependencies names the record in its Protocol
    from services.tickets.logic.dependencies import Dependencies

# Tickets read per run at most (an empty queue's read counts as one), so a run stays a few seconds
# long: 2,000 resolved tickets are filed again within 10 runs, 10 minutes.
REFILE_BATCH = 200


@dataclass
class Refiled:
    read: int = 0  # tickets read through the queues
    refiled: int = 0  # of those, filed again


def refile_after_change(deps: Dependencies) -> Refiled:
    timings = deps.config.automations
    filing = deps.repository.automation_filing()
    if filing.refiling is None and filing.filed == timings:
        return Refiled()
    if filing.refiling != timings:
        # Begun here, or begun again: the tickets are filed under a mix if a refile was under way.
        filed = filing.filed if filing.refiling is None else None
        filing = AutomationFiling(filed, timings, revision=filing.revision)
    queues = _queues(filing.filed, timings, deps)
    done = Refiled()
    budget = REFILE_BATCH
    at = next((n for n, queue in enumerate(queues) if queue >= (filing.queue or "")), len(queues))
    cursor = filing.cursor if at < len(queues) and queues[at] == filing.queue else None
    while at < len(queues) and budget > 0:
        page = deps.repository.filed_steps(queues[at], budget, cursor)
        budget -= max(len(page.items), 1)
        for filed_step in page.items:
            done.read += 1
            step = pending_step(filed_step.ticket, timings)
            if _index_key(step.due_at if step else None) == _index_key(filed_step.due_at):
                continue
            if deps.repository.refile(filed_step.ticket):
                done.refiled += 1
        cursor = page.cursor
        if cursor is None:
            at += 1
    following = filing.revision + 1
    if at == len(queues):
        record = AutomationFiling(filed=timings, revision=following)
    else:
        record = replace(filing, queue=queues[at], cursor=cursor, revision=following)
    # Refused when another run recorded meanwhile: this run's writes stand, the record is theirs.
    deps.repository.record_automation_filing(record)
    return done


def _queues(
    filed: AutomationTimings | None, timings: AutomationTimings, deps: Dependencies
) -> list[str]:
    """Every queue holding tickets whose step the change moves, in a stable order (a department
    added since holds only tickets written since, filed as they were written)."""
    departments: list[str | None] = [d.id for d in deps.repository.departments()]
    return sorted(
        queue_key(department, status)
        for department in [*departments, None]
        for status in statuses_retimed(filed, timings)
    )


def _index_key(due_at: datetime | None) -> str | None:
    """A due time as the index keeps it (to the millisecond)."""
    return isoformat(due_at) if due_at is not None else None
