"""Keeping timers from ticket events: each event becomes facts, the timer replays them, and what
changed is announced in the same write (due times, met targets, a target met too late).

A fact's id comes from its content (what became what, when), so the same change arriving twice,
in two events or twice in one, is one fact.
"""

from __future__ import annotations

from datetime import datetime

from services.sla.logic.dependencies import Dependencies, StaleTimer
from services.sla.logic.policy import PolicyHistory
from services.sla.logic.timer import TARGETS, Fact, Timer
from shared.clock import isoformat
from shared.events.catalogue import (
    MessagePosted,
    SlaBreached,
    SlaDueTimesChanged,
    SlaMet,
    TicketCreated,
    TicketMerged,
    TicketStatusChanged,
    TicketUpdated,
)
from shared.events.envelope import EventData, OutgoingEvent
from shared.storage import retry_on_stale


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _fact(kind: str, at: datetime, new: str | None = None) -> Fact:
    key = kind if kind in ("created", "first_response") else f"{kind}:{isoformat(at)}:{new}"
    return Fact.model_validate({"id": key, "at": at, "kind": kind, "new": new})


def facts_of_created(data: TicketCreated) -> list[Fact]:
    at = _time(data.created_at)
    return [_fact("created", at, data.priority), _fact("department", at, data.department_id)]


def facts_of_update(data: TicketUpdated) -> list[Fact]:
    """Priority and department changes; status changes come with TicketStatusChanged."""
    at = _time(data.updated_at)
    kinds = {"priority": "priority", "department_id": "department"}
    return [
        _fact(kinds[change.field], at, change.new)
        for change in data.changes
        if change.field in kinds
    ]


def facts_of_status(data: TicketStatusChanged) -> list[Fact]:
    return [_fact("status", _time(data.changed_at), data.new)]


def facts_of_merge(data: TicketMerged) -> list[Fact]:
    """For the merged-away ticket (`source_ticket_id`)."""
    return [_fact("merged", _time(data.merged_at), data.target_number)]


def facts_of_message(data: MessagePosted) -> list[Fact]:
    return [_fact("first_response", _time(data.created_at))] if data.first_response else []


def record_facts(
    ticket_id: str, facts: list[Fact], deps: Dependencies, correlation_id: str | None = None
) -> Timer | None:
    """Add the facts to the ticket's timer and announce what they changed."""
    if not facts:
        return None
    history = PolicyHistory(deps.policies.versions())

    # A timer is written by its events and by sweeps: on a concurrent write, replay again.
    def attempt() -> Timer:
        stored = deps.timers.get(ticket_id) or Timer(ticket_id=ticket_id)
        updated = stored.with_facts(facts)
        if updated.facts == stored.facts:
            return stored  # nothing new: a duplicate
        updated = updated.refresh(history)
        now = deps.clock.now()
        events = [OutgoingEvent.of(e, now, correlation_id) for e in announce(stored, updated)]
        deps.timers.save(updated, events)
        return updated

    return retry_on_stale(attempt, StaleTimer, StaleTimer(ticket_id))


def announce(before: Timer, after: Timer) -> list[EventData]:
    """Events for what changed from `before` to `after`; marks announced targets on `after`."""
    if not after.started:
        return []
    events: list[EventData] = []
    if not before.started or before.due_times() != after.due_times():
        first_response, resolution = after.due_times()
        events.append(
            SlaDueTimesChanged(
                ticket_id=after.ticket_id,
                first_response_due_at=isoformat(first_response) if first_response else None,
                resolution_due_at=isoformat(resolution) if resolution else None,
                sequence=after.version + 1,  # the version this write stores
            )
        )
    for target in TARGETS:
        clock, alarms = after.clocks[target], after.alarms[target]
        if clock.status != "met" or clock.met_at is None or clock.met_at == alarms.met_announced_at:
            continue
        due_at = isoformat(clock.due_at) if clock.due_at else isoformat(clock.met_at)
        if clock.late and alarms.breached_at is None:  # met before any sweep saw it due
            alarms.breached_at = clock.met_at
            events.append(
                SlaBreached(
                    ticket_id=after.ticket_id,
                    target=target,
                    due_at=due_at,
                    at=isoformat(clock.met_at),
                )
            )
        alarms.met_announced_at = clock.met_at
        events.append(
            SlaMet(
                ticket_id=after.ticket_id, target=target, due_at=due_at, at=isoformat(clock.met_at)
            )
        )
    return events
