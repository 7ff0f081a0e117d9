"""One SLA timer per ticket, with a clock per target (first response, resolution).

A timer keeps the facts it learnt from ticket events (created, priority and department changes,
status changes, the first public reply), each with the time it happened, and derives its clocks by
replaying them in time order under the policy versions in force. Events that arrive twice or out of
order therefore change nothing or fall into place: the result depends on the facts, not on the
order they came in. What has been announced (warnings, breaches, met targets) is kept apart and
never recomputed, so each is announced once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from services.sla.logic.policy import PolicyHistory, PolicyVersion
from services.sla.logic.working_time import WorkingTime, working_time
from shared.model import Model

Target = Literal["first_response", "resolution"]
TARGETS: tuple[Target, ...] = ("first_response", "resolution")
FactKind = Literal["created", "department", "priority", "status", "first_response", "merged"]
# Facts at the same instant apply in this order: a ticket exists before it changes, a reply comes
# before the status change it caused, and a merge before the close that comes with it.
KIND_ORDER: dict[str, int] = {
    "created": 0,
    "department": 1,
    "priority": 2,
    "first_response": 3,
    "merged": 4,
    "status": 5,
}
ClockStatus = Literal["running", "paused", "met", "stopped"]
EntryKind = Literal[
    "started",
    "out_of_hours",
    "priority_changed",
    "policy_changed",
    "paused",
    "resumed",
    "reopened",
    "stopped",
    "merged",
    "met",
    "warned",
    "breached",
]
SlaState = Literal["ok", "at_risk", "breached", "met"]
DONE = ("resolved", "closed")
WAITING = "waiting_on_client"


class Fact(Model):
    """Something that happened to the ticket, from one event."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="the event and the part of it this fact comes from")
    at: datetime
    kind: FactKind
    new: str | None = None  # the priority, department or status it became; the merge's target

    def order(self) -> tuple[datetime, int, str]:
        return self.at, KIND_ORDER[self.kind], self.id


class Alarms(Model):
    """What was announced about one target. Set once; never derived again."""

    warned_at: datetime | None = None
    breached_at: datetime | None = None
    met_announced_at: datetime | None = None  # the met_at the last SlaMet announced


class Entry(Model):
    """One line of a target's timeline."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    event: EntryKind
    reason: str
    due_at: datetime | None = None


class TargetClock(Model):
    """One target's clock as the facts leave it."""

    status: ClockStatus
    target_minutes: int
    elapsed_minutes: float = Field(description="working minutes counted until running_since")
    running_since: datetime | None = None
    due_at: datetime | None = Field(None, description="while running; when met, the due it met")
    warn_at: datetime | None = None
    met_at: datetime | None = None
    late: bool = False  # met, but after its due time
    timeline: list[Entry] = Field(default_factory=list)


class Timer(Model):
    ticket_id: str
    facts: list[Fact] = Field(default_factory=list)
    alarms: dict[Target, Alarms] = Field(
        default_factory=lambda: {target: Alarms() for target in TARGETS}
    )
    # Derived from the facts by `refresh`, and stored so the sweep and reports need no replay.
    started_at: datetime | None = None
    closed_at: datetime | None = None
    merged_into: str | None = None  # the number of the ticket it was merged into
    priority: str | None = None
    department_id: str | None = None
    policy_version: int | None = None
    clocks: dict[Target, TargetClock] = Field(default_factory=dict)
    version: int = 0  # of the stored item: every write expects the version it read

    @property
    def started(self) -> bool:
        return self.started_at is not None

    def with_facts(self, facts: list[Fact]) -> Timer:
        known = {fact.id for fact in self.facts}
        fresh = [fact for fact in facts if fact.id not in known]
        merged = sorted([*self.facts, *fresh], key=Fact.order)
        return self.model_copy(update={"facts": merged}, deep=True)

    def refresh(self, history: PolicyHistory) -> Timer:
        """The timer with its clocks derived again from its facts."""
        result = replay(self.facts, history)
        return self.model_copy(
            update={
                "started_at": result.started_at,
                "closed_at": result.closed_at,
                "merged_into": result.merged_into,
                "priority": result.priority,
                "department_id": result.department_id,
                "policy_version": result.policy.version if result.policy else None,
                "clocks": result.clocks,
            },
            deep=True,
        )

    def due_times(self) -> tuple[datetime | None, datetime | None]:
        """The due times of the running clocks, as the tickets service shows them."""

        def due(target: Target) -> datetime | None:
            clock = self.clocks.get(target)
            return clock.due_at if clock is not None and clock.status == "running" else None

        return due("first_response"), due("resolution")

    def pending_alarms(self) -> list[tuple[datetime, Target, Literal["warning", "breach"]]]:
        """The warnings and breaches still to announce, soonest first."""
        pending: list[tuple[datetime, Target, Literal["warning", "breach"]]] = []
        for target, clock in self.clocks.items():
            alarms = self.alarms[target]
            if clock.status != "running" or clock.due_at is None or alarms.breached_at:
                continue
            warn_at = clock.warn_at
            if alarms.warned_at is None and warn_at is not None and warn_at < clock.due_at:
                pending.append((warn_at, target, "warning"))
            pending.append((clock.due_at, target, "breach"))
        return sorted(pending)

    def next_alarm(self) -> datetime | None:
        pending = self.pending_alarms()
        return pending[0][0] if pending else None

    def breached(self, target: Target) -> bool:
        clock = self.clocks.get(target)
        return self.alarms[target].breached_at is not None or (clock is not None and clock.late)

    def state(self) -> SlaState | None:
        if not self.clocks:
            return None
        if any(self.breached(target) for target in TARGETS):
            return "breached"
        if any(
            self.alarms[target].warned_at and self.clocks[target].status in ("running", "paused")
            for target in TARGETS
        ):
            return "at_risk"
        return "met" if self.clocks["resolution"].status == "met" else "ok"

    def timeline(self, target: Target) -> list[Entry]:
        """The target's replayed timeline with its announced warning and breach."""
        clock = self.clocks[target]
        alarms = self.alarms[target]
        entries = list(clock.timeline)
        if alarms.warned_at:
            entries.append(Entry(at=alarms.warned_at, event="warned", reason=_warned(clock)))
        if alarms.breached_at:
            reason = "met after its due time" if clock.late else "its due time passed unmet"
            entries.append(
                Entry(at=alarms.breached_at, event="breached", reason=reason, due_at=clock.due_at)
            )
        return sorted(entries, key=lambda entry: entry.at)


def _warned(clock: TargetClock) -> str:
    return f"approaching its due time ({clock.target_minutes} min target)"


# --- replay ---------------------------------------------------------------------------------------


@dataclass
class _Run:
    """A target's clock while facts are replayed."""

    target: Target
    minutes: int
    status: ClockStatus = "running"
    elapsed: float = 0.0
    running_since: datetime | None = None
    met_due: datetime | None = None
    met_at: datetime | None = None
    paused_at: datetime | None = None
    timeline: list[Entry] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status in ("running", "paused")

    def due(self, clock: WorkingTime) -> datetime | None:
        if self.running_since is None:
            return self.met_due
        return clock.shift(self.running_since, self.minutes - self.elapsed)

    def halt(self, at: datetime, clock: WorkingTime) -> None:
        if self.running_since is not None:
            self.elapsed += clock.between(self.running_since, at)
            self.running_since = None


@dataclass
class ReplayResult:
    started_at: datetime | None = None
    closed_at: datetime | None = None
    merged_into: str | None = None
    priority: str | None = None
    department_id: str | None = None
    policy: PolicyVersion | None = None
    clocks: dict[Target, TargetClock] = field(default_factory=dict)


class _Replay:
    def __init__(self, created: Fact, history: PolicyHistory) -> None:
        self.start = created.at
        self.policy = history.at(created.at)
        self.clock = working_time(self.policy.rules)
        self.priority = created.new or "medium"
        self.status = "open"
        self.merged = False
        self.runs = {target: _Run(target, self._minutes(target)) for target in TARGETS}
        opens = self.clock.opens_at(created.at)
        for run in self.runs.values():
            run.running_since = created.at
            self._note(run, created.at, "started", self._terms(run))
            if opens > created.at:
                reason = f"opened outside working hours; counts from {opens:%Y-%m-%d %H:%M} UTC"
                self._note(run, created.at, "out_of_hours", reason)

    def _minutes(self, target: Target) -> int:
        targets = self.policy.rules.targets.of(self.priority)
        return (
            targets.first_response_minutes
            if target == "first_response"
            else targets.resolution_minutes
        )

    def _terms(self, run: _Run) -> str:
        version = self.policy.version
        return f"{self.priority} priority: {run.minutes} min under policy version {version}"

    def _note(self, run: _Run, at: datetime, event: EntryKind, reason: str) -> None:
        run.timeline.append(Entry(at=at, event=event, reason=reason, due_at=run.due(self.clock)))

    def _pauses(self) -> bool:
        return self.policy.rules.pause_when_waiting_on_client and self.status == WAITING

    def _pause(self, run: _Run, at: datetime, reason: str) -> None:
        run.halt(at, self.clock)
        run.status, run.paused_at = "paused", at
        self._note(run, at, "paused", reason)

    def _resume(self, run: _Run, at: datetime, reason: str) -> None:
        paused = self.clock.between(run.paused_at, at) if run.paused_at else 0.0
        run.status, run.running_since, run.paused_at = "running", at, None
        self._note(run, at, "resumed", f"{reason}; due pushed out by {paused:.0f} min")

    def _meet(self, run: _Run, at: datetime, reason: str) -> None:
        # A paused clock has no due time; it is met with the one it would have had from here.
        run.met_due = run.due(self.clock) or self.clock.shift(at, run.minutes - run.elapsed)
        run.halt(at, self.clock)
        run.status, run.met_at, run.paused_at = "met", at, None
        self._note(run, at, "met", reason)

    def _reopen(self, run: _Run, at: datetime) -> None:
        run.status, run.met_at, run.met_due, run.running_since = "running", None, None, at
        self._note(run, at, "reopened", f"re-opened; {run.elapsed:.0f} min counted so far")
        if self._pauses():
            self._pause(run, at, "waiting on the client")

    def priority_changed(self, at: datetime, priority: str) -> None:
        old, self.priority = self.priority, priority
        for run in self.runs.values():
            if run.active:
                run.minutes = self._minutes(run.target)
                self._note(
                    run,
                    at,
                    "priority_changed",
                    f"{old} to {priority}: {run.minutes} min, counted from the start",
                )

    def policy_changed(self, version: PolicyVersion) -> None:
        at = version.effective_from
        for run in self.runs.values():
            run.halt(at, self.clock)  # time so far is counted under the old hours
        self.policy, self.clock = version, working_time(version.rules)
        for run in self.runs.values():
            if not run.active:
                continue
            run.minutes = self._minutes(run.target)
            if run.status == "running":
                run.running_since = at
            reason = f"policy version {version.version}: {run.minutes} min from now on"
            self._note(run, at, "policy_changed", reason)
            if run.status == "running" and self._pauses():
                self._pause(run, at, "the new policy pauses while waiting on the client")
            elif run.status == "paused" and not self._pauses():
                self._resume(run, at, "the new policy does not pause")

    def merged_into(self, at: datetime, number: str) -> None:
        """A merged-away ticket is a duplicate: its clocks stop, neither met nor breached (its
        target carries the conversation and its targets), and it is closed for good."""
        self.merged = True
        for run in self.runs.values():
            if run.active:
                run.halt(at, self.clock)
                run.status, run.paused_at = "stopped", None
                self._note(run, at, "merged", f"merged into {number}; not measured")

    def status_changed(self, at: datetime, status: str) -> None:
        previous, self.status = self.status, status
        if status == previous or self.merged:
            return
        for run in self.runs.values():
            if status in DONE:
                if run.target == "resolution" and run.active:
                    self._meet(run, at, f"ticket {status}")
                elif run.active:
                    run.halt(at, self.clock)
                    run.status, run.paused_at = "stopped", None
                    self._note(run, at, "stopped", f"ticket {status} before a public reply")
            elif previous in DONE:
                if run.status == "stopped" or (run.status == "met" and run.target == "resolution"):
                    self._reopen(run, at)
            elif run.status == "running" and self._pauses():
                self._pause(run, at, "waiting on the client")
            elif run.status == "paused" and not self._pauses():
                self._resume(run, at, f"status {status}")

    def first_response(self, at: datetime) -> None:
        run = self.runs["first_response"]
        if run.active:
            self._meet(run, at, "first public reply by an agent")

    def result(self) -> dict[Target, TargetClock]:
        clocks: dict[Target, TargetClock] = {}
        approaching = self.policy.rules.approaching
        for target, run in self.runs.items():
            warn_at = None
            warning_after = approaching.warning_after(run.minutes)
            if run.running_since is not None and warning_after is not None:
                warn_at = self.clock.shift(run.running_since, warning_after - run.elapsed)
            clocks[target] = TargetClock(
                status=run.status,
                target_minutes=run.minutes,
                elapsed_minutes=run.elapsed,
                running_since=run.running_since,
                due_at=run.due(self.clock),
                warn_at=warn_at,
                met_at=run.met_at,
                late=run.status == "met" and run.elapsed > run.minutes,
                timeline=run.timeline,
            )
        return clocks


def replay(facts: list[Fact], history: PolicyHistory) -> ReplayResult:
    ordered = sorted(facts, key=Fact.order)
    result = ReplayResult()
    for fact in ordered:
        if fact.kind == "department":
            result.department_id = fact.new
        elif fact.kind in ("created", "priority"):
            result.priority = fact.new
    created = next((fact for fact in ordered if fact.kind == "created"), None)
    if created is None:  # its other events came first: wait for the ticket to start
        return result
    run = _Replay(created, history)
    steps: list[tuple[tuple[datetime, int, str], Fact | PolicyVersion]] = [
        (fact.order(), fact) for fact in ordered if fact.kind not in ("created", "department")
    ]
    steps += [
        ((version.effective_from, -1, str(version.version)), version)
        for version in history.changes_between(created.at, None)
    ]
    for _, step in sorted(steps, key=lambda pair: pair[0]):
        if isinstance(step, PolicyVersion):
            run.policy_changed(step)
            continue
        at = max(step.at, created.at)
        if step.kind == "priority" and step.new:
            run.priority_changed(at, step.new)
        elif step.kind == "status" and step.new:
            run.status_changed(at, step.new)
            if step.new == "closed":
                result.closed_at = at
        elif step.kind == "first_response":
            run.first_response(at)
        elif step.kind == "merged" and step.new:
            run.merged_into(at, step.new)
            result.merged_into = step.new
    result.started_at = created.at
    result.policy = run.policy
    result.clocks = run.result()
    return result


def elapsed_minutes(timer: Timer, target: Target, history: PolicyHistory, now: datetime) -> float:
    """Working minutes the target has run so far, as it stands at `now`."""
    clock = timer.clocks[target]
    if clock.running_since is None or timer.policy_version is None:
        return clock.elapsed_minutes
    policy = history.at(clock.running_since)
    return clock.elapsed_minutes + working_time(policy.rules).between(clock.running_since, now)
