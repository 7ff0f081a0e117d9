"""SLA timers kept from ticket events, and the sweep that flags them: targets per priority, the
first reply, pauses, re-opening, priority and policy changes, duplicates and out-of-order events,
and overlapping sweeps. On the in-memory storage; time is a fixed clock the tests move, nothing
sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.sla.logic.dependencies import Dependencies
from services.sla.logic.policy import DEFAULT_RULES
from services.sla.logic.sweep import sweep
from services.sla.logic.timer import Timer
from shared.clock import FixedClock, isoformat
from tests.fakes.departments import FakeDepartmentStore
from tests.fakes.sla import FakePolicyRepository, FakeTimerRepository
from tests.sla_desk import T0, Desk, minutes


@pytest.fixture
def desk() -> Desk:
    clock = FixedClock(T0)
    timers = FakeTimerRepository()
    deps = Dependencies(timers, FakePolicyRepository(), FakeDepartmentStore(), clock)
    return Desk(clock, deps, lambda: [(e.detail_type, e.envelope.data) for e in timers.outbox])


def test_a_new_ticket_starts_both_clocks_with_its_priority_targets(desk: Desk) -> None:
    timer = desk.apply("t1", desk.created("t1"))
    assert timer is not None
    fr, res = timer.clocks["first_response"], timer.clocks["resolution"]
    assert (fr.status, fr.due_at, fr.warn_at) == ("running", minutes(60), minutes(45))
    assert (res.status, res.due_at, res.warn_at) == ("running", minutes(240), minutes(180))
    [due] = desk.announced("SlaDueTimesChanged")
    assert due["first_response_due_at"] == isoformat(minutes(60))
    assert due["resolution_due_at"] == isoformat(minutes(240))


def test_the_sweep_warns_then_breaches_each_target_once(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"))
    # Before the warning time the sweep reads nothing
    assert desk.sweep(minutes(44)).read == 0
    assert desk.announced("SlaWarning") == []
    # Past 75 % of the hour: one warning for the first response
    report = desk.sweep(minutes(46))
    assert (report.read, report.warned, report.breached) == (1, 1, 0)
    [warning] = desk.announced("SlaWarning")
    assert (warning["target"], warning["due_at"]) == ("first_response", isoformat(minutes(60)))
    # The next sweep has nothing to read until the due time
    assert desk.sweep(minutes(50)).read == 0
    assert desk.sweep(minutes(61)).breached == 1
    assert desk.sweep(minutes(62)).read == 0
    [breach] = desk.announced("SlaBreached")
    assert breach["target"] == "first_response"
    assert len(desk.announced("SlaWarning")) == 1
    assert desk.timer("t1").state() == "breached"


def test_a_sweep_that_finds_a_target_already_past_due_breaches_without_warning(
    desk: Desk,
) -> None:
    desk.apply("t1", desk.created("t1"))
    assert desk.sweep(minutes(90)).breached == 1
    assert [e["target"] for e in desk.announced("SlaBreached")] == ["first_response"]
    assert desk.announced("SlaWarning") == []
    # And the skipped warning is not pending any more: the next sweep reads nothing till 3 h
    assert desk.sweep(minutes(179)).read == 0


def test_a_first_public_reply_meets_first_response_and_nothing_breaches_it(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"), desk.reply("t1", minutes(30)))
    [met] = desk.announced("SlaMet")
    assert (met["target"], met["at"]) == ("first_response", isoformat(minutes(30)))
    assert desk.sweep(minutes(61)).read == 0
    assert desk.announced("SlaBreached") == []
    # The resolution clock still runs, and warns at its own time
    assert desk.sweep(minutes(181)).warned == 1
    assert desk.announced("SlaWarning")[0]["target"] == "resolution"
    assert desk.timer("t1").clocks["first_response"].elapsed_minutes == 30


def test_a_reply_after_the_due_time_is_a_breach_even_if_no_sweep_saw_it(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"), desk.reply("t1", minutes(70)))
    [breach] = desk.announced("SlaBreached")
    assert (breach["target"], breach["due_at"]) == ("first_response", isoformat(minutes(60)))
    assert desk.announced("SlaMet")[0]["target"] == "first_response"
    # A later sweep does not announce the breach again
    desk.sweep(minutes(100))
    assert len(desk.announced("SlaBreached")) == 1
    assert desk.timer("t1").state() == "breached"


def test_a_priority_change_recomputes_due_times_from_the_ticket_start(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1", priority="low"))
    assert desk.timer("t1").clocks["first_response"].due_at == minutes(24 * 60)
    timer = desk.apply("t1", desk.priority("t1", "low", "urgent", minutes(30)))
    assert timer is not None
    assert timer.clocks["first_response"].due_at == minutes(60)
    assert timer.clocks["resolution"].due_at == minutes(240)
    announced = [e["first_response_due_at"] for e in desk.announced("SlaDueTimesChanged")]
    assert sorted(announced) == [isoformat(minutes(60)), isoformat(minutes(24 * 60))]
    # Down again, later: the due time moves out, still counted from the start
    timer = desk.apply("t1", desk.priority("t1", "urgent", "high", minutes(40)))
    assert timer is not None
    assert timer.clocks["first_response"].due_at == minutes(4 * 60)
    entries = [e.event for e in timer.timeline("first_response")]
    assert entries == ["started", "priority_changed", "priority_changed"]


def test_a_priority_raised_past_the_target_is_breached_at_the_next_sweep(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1", priority="low"))
    timer = desk.apply("t1", desk.priority("t1", "low", "urgent", minutes(90)))
    assert timer is not None
    assert timer.clocks["first_response"].due_at == minutes(60)  # already past
    assert desk.sweep(minutes(91)).breached == 1


def test_waiting_on_the_client_pauses_and_resuming_pushes_the_due_time_out(desk: Desk) -> None:
    desk.apply(
        "t1",
        desk.created("t1"),
        desk.reply("t1", minutes(10)),
        desk.status("t1", "waiting_on_client", minutes(10)),
    )
    timer = desk.timer("t1")
    assert timer.clocks["resolution"].status == "paused"
    assert timer.due_times() == (None, None)
    assert timer.next_alarm() is None  # out of the sweep's index while paused
    assert desk.sweep(minutes(300)).read == 0
    # The client answers after 60 minutes: the resolution is due 60 minutes later than before
    timer = desk.apply("t1", desk.status("t1", "open", minutes(70)))
    assert timer is not None
    assert timer.clocks["resolution"].due_at == minutes(240 + 60)
    [resumed] = [e for e in timer.timeline("resolution") if e.event == "resumed"]
    assert "60 min" in resumed.reason


def test_without_pausing_in_the_policy_waiting_on_the_client_keeps_the_clock_running(
    desk: Desk,
) -> None:
    desk.policy(T0 - timedelta(days=1), pause_when_waiting_on_client=False)
    timer = desk.apply(
        "t1", desk.created("t1"), desk.status("t1", "waiting_on_client", minutes(10))
    )
    assert timer is not None
    assert timer.clocks["resolution"].status == "running"
    assert timer.clocks["resolution"].due_at == minutes(240)


def test_resolving_meets_resolution_and_a_reopen_restarts_it_with_the_time_counted(
    desk: Desk,
) -> None:
    desk.apply(
        "t1",
        desk.created("t1"),
        desk.reply("t1", minutes(20)),
        desk.status("t1", "resolved", minutes(100)),
    )
    timer = desk.timer("t1")
    assert timer.clocks["resolution"].status == "met"
    assert timer.state() == "met"
    assert sorted(e["target"] for e in desk.announced("SlaMet")) == ["first_response", "resolution"]
    # The client writes again 100 minutes later: 100 minutes are counted, 140 remain
    timer = desk.apply("t1", desk.status("t1", "open", minutes(200)))
    assert timer is not None
    resolution = timer.clocks["resolution"]
    assert (resolution.status, resolution.elapsed_minutes) == ("running", 100)
    assert resolution.due_at == minutes(340)
    assert timer.clocks["first_response"].status == "met"
    # Resolved again: met once more, announced once more
    desk.apply("t1", desk.status("t1", "closed", minutes(250)))
    assert [e["target"] for e in desk.announced("SlaMet")].count("resolution") == 2
    assert desk.timer("t1").closed_at == minutes(250)


def test_resolving_without_a_reply_stops_first_response_unmet(desk: Desk) -> None:
    timer = desk.apply("t1", desk.created("t1"), desk.status("t1", "resolved", minutes(30)))
    assert timer is not None
    assert timer.clocks["first_response"].status == "stopped"
    assert timer.next_alarm() is None
    assert desk.sweep(minutes(500)).read == 0


def test_a_merged_away_ticket_is_neither_met_nor_breached_and_stays_so(desk: Desk) -> None:
    # Given a ticket merged into another at minute 30, with the close that came with the merge
    merge = [*desk.status("t1", "closed", minutes(30)), *desk.merged("t1", "TKT-0002", minutes(30))]
    timer = desk.apply("t1", desk.created("t1"), merge)
    # Then both clocks stopped there, unmet and not breached, and it says why
    assert timer is not None
    assert timer.merged_into == "TKT-0002"
    assert {t: c.status for t, c in timer.clocks.items()} == {
        "first_response": "stopped",
        "resolution": "stopped",
    }
    assert timer.timeline("resolution")[-1].event == "merged"
    assert desk.announced("SlaMet") == []
    # And nothing is ever due: no sweep reads it, nothing breaches
    assert desk.sweep(minutes(500)).read == 0
    assert desk.announced("SlaBreached") == []
    # And a later status change (a merged ticket stays closed) starts nothing again
    reopened = desk.apply("t1", desk.status("t1", "open", minutes(600)))
    assert reopened is not None
    assert reopened.clocks == timer.clocks


def test_a_merge_that_arrives_after_its_close_still_stops_the_clocks(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"), desk.status("t1", "closed", minutes(30)))
    timer = desk.apply("t1", desk.merged("t1", "TKT-0002", minutes(30)))
    assert timer is not None
    assert timer.merged_into == "TKT-0002"
    assert timer.clocks["resolution"].status == "stopped"


def test_a_breach_before_the_merge_stands(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"))
    assert desk.sweep(minutes(70)).breached == 1
    timer = desk.apply(
        "t1", desk.merged("t1", "TKT-0002", minutes(90)), desk.status("t1", "closed", minutes(90))
    )
    assert timer is not None
    assert timer.state() == "breached"


def test_duplicate_and_out_of_order_events_give_the_same_timer(desk: Desk) -> None:
    created = desk.created("a")
    reply = desk.reply("a", minutes(20))
    waiting = desk.status("a", "waiting_on_client", minutes(20))
    back = desk.status("a", "open", minutes(80))
    raised = desk.priority("a", "urgent", "high", minutes(90))
    desk.apply("a", created, reply, waiting, back, raised)
    in_order = desk.timer("a")
    # The same events for ticket b (facts name no ticket), backwards, some twice
    for batch in [raised, back, waiting, reply, created, raised, created, back]:
        desk.apply("b", batch)
    shuffled = desk.timer("b")
    assert shuffled.clocks == in_order.clocks
    assert [f.id for f in shuffled.facts] == [f.id for f in in_order.facts]
    # A duplicate changes nothing and writes nothing
    before = desk.timer("a").version
    desk.apply("a", reply, created)
    assert desk.timer("a").version == before


def test_a_ticket_is_not_timed_until_its_created_event_arrives(desk: Desk) -> None:
    timer = desk.apply("t1", desk.reply("t1", minutes(20)))
    assert timer is not None
    assert (timer.started, timer.clocks, timer.next_alarm()) == (False, {}, None)
    assert desk.announced() == []
    timer = desk.apply("t1", desk.created("t1"))
    assert timer is not None
    assert timer.clocks["first_response"].status == "met"
    assert sorted(e["event"] for e in desk.announced()) == ["SlaDueTimesChanged", "SlaMet"]


class RacingTimers:
    """Runs a second sweep just before the first one writes, as an overlapping schedule would."""

    def __init__(self, desk: Desk) -> None:
        self.timers = desk.deps.timers
        self.rival = desk.deps
        self.raced = False

    def get(self, ticket_id: str) -> Timer | None:
        return self.timers.get(ticket_id)

    def save(self, timer: Timer, events: Any) -> None:
        if not self.raced and events:
            self.raced = True
            assert sweep(self.rival).breached == 1
        self.timers.save(timer, events)

    def due(self, bucket: int, now: datetime) -> Iterator[Timer]:
        return self.timers.due(bucket, now)

    def with_alarms(
        self, bucket: int, cursor: str | None, limit: int
    ) -> tuple[list[Timer], str | None]:
        return self.timers.with_alarms(bucket, cursor, limit)

    def started_between(
        self, department_id: str | None, start: datetime, end: datetime
    ) -> Iterator[Timer]:
        return self.timers.started_between(department_id, start, end)


def test_overlapping_sweeps_announce_a_breach_once(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"))
    desk.clock.advance(minutes(61) - desk.clock.now())
    racing = RacingTimers(desk)
    first = Dependencies(racing, desk.deps.policies, desk.deps.departments, desk.clock)
    report = sweep(first)
    # The first sweep read the timer, lost the race, read it again and had nothing to announce
    assert racing.raced
    assert (report.read, report.breached) == (1, 0)
    assert len(desk.announced("SlaBreached")) == 1


def test_a_policy_change_applies_to_open_timers_from_the_change_on(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"))
    # Half an hour in, first responses to urgent tickets get two hours
    targets = DEFAULT_RULES.targets.model_dump()
    targets["urgent"]["first_response_minutes"] = 120
    desk.policy(minutes(30), targets=targets)
    desk.sweep(minutes(31))  # the sweep carries the new version to open timers
    timer = desk.timer("t1")
    assert timer.policy_version == 1
    assert timer.clocks["first_response"].due_at == minutes(120)
    assert desk.sweep(minutes(61)).breached == 0
    [entry] = [e for e in timer.timeline("first_response") if e.event == "policy_changed"]
    assert entry.at == minutes(30)


def test_a_shorter_target_is_breached_at_its_new_due_time(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"))
    targets = DEFAULT_RULES.targets.model_dump()
    targets["urgent"]["first_response_minutes"] = 40
    desk.policy(minutes(30), targets=targets)
    assert desk.sweep(minutes(41)).breached == 1  # not at the old due time, 60
    assert desk.announced("SlaBreached")[0]["due_at"] == isoformat(minutes(40))


def test_a_new_ticket_is_timed_under_the_policy_in_force_when_it_opened(desk: Desk) -> None:
    targets = DEFAULT_RULES.targets.model_dump()
    targets["high"]["resolution_minutes"] = 600
    desk.policy(T0 - timedelta(hours=1), targets=targets)
    timer = desk.apply("t1", desk.created("t1", priority="high"))
    assert timer is not None
    assert (timer.policy_version, timer.clocks["resolution"].due_at) == (1, minutes(600))


BERLIN_HOURS = {
    "time_zone": "Europe/Berlin",
    "weekly": {
        d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")
    },
    "holidays": ["2026-04-03"],  # Good Friday
}


def test_in_business_hours_due_times_skip_the_night_the_weekend_and_holidays(desk: Desk) -> None:
    desk.policy(T0 - timedelta(days=30), clock="business_hours", business_hours=BERLIN_HOURS)
    # Thursday 2 April 2026, 16:30 in Berlin (summer time, UTC+2); Friday is a holiday
    opened = datetime(2026, 4, 2, 14, 30, tzinfo=UTC)
    timer = desk.apply("t1", desk.created("t1", at=opened))
    assert timer is not None
    # One working hour: 30 minutes on Thursday, 30 on Monday morning
    assert timer.clocks["first_response"].due_at == datetime(2026, 4, 6, 7, 30, tzinfo=UTC)
    # Warned at 45 working minutes: Monday 09:15 local
    assert timer.clocks["first_response"].warn_at == datetime(2026, 4, 6, 7, 15, tzinfo=UTC)
    # Nothing fires over the long weekend
    assert desk.sweep(datetime(2026, 4, 6, 7, 0, tzinfo=UTC)).read == 0
    assert desk.sweep(datetime(2026, 4, 6, 7, 31, tzinfo=UTC)).breached == 1


def test_a_ticket_opened_out_of_hours_says_when_its_clock_starts(desk: Desk) -> None:
    desk.policy(T0 - timedelta(days=30), clock="business_hours", business_hours=BERLIN_HOURS)
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    timer = desk.apply("t1", desk.created("t1", at=saturday))
    assert timer is not None
    started, out_of_hours = timer.timeline("first_response")
    assert (started.event, out_of_hours.event) == ("started", "out_of_hours")
    assert "2026-03-09 08:00" in out_of_hours.reason  # Monday 09:00 in Berlin
    assert timer.clocks["first_response"].due_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_a_warned_target_met_in_time_is_no_longer_at_risk(desk: Desk) -> None:
    desk.apply("t1", desk.created("t1"))
    desk.sweep(minutes(50))
    assert desk.timer("t1").state() == "at_risk"
    desk.apply("t1", desk.reply("t1", minutes(55)), desk.status("t1", "in_progress", minutes(55)))
    timer = desk.timer("t1")
    assert timer.state() == "ok"
    assert [e.event for e in timer.timeline("first_response")] == ["started", "warned", "met"]
    assert desk.sweep(minutes(70)).breached == 0
