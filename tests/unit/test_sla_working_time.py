"""Working time in business hours: nights, weekends, holidays, and the days the clocks change
(Europe/Berlin on the last Sundays of March and October, America/New_York in March and November).
Pure arithmetic on fixed instants; no clock is read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.sla.logic.policy import BusinessHours
from services.sla.logic.working_time import AroundTheClock, BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = {
    day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")
}


def calendar(zone: str = "Europe/Berlin", **changes: object) -> BusinessCalendar:
    hours = {"time_zone": zone, "weekly": WEEKDAYS_9_TO_5, **changes}
    return BusinessCalendar(BusinessHours.model_validate(hours))


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def test_a_target_inside_one_working_day_ends_the_same_day() -> None:
    start = local(BERLIN, 2026, 3, 4, 10, 0)  # a Wednesday
    assert calendar().shift(start, 60) == local(BERLIN, 2026, 3, 4, 11, 0)
    assert calendar().between(start, local(BERLIN, 2026, 3, 4, 11, 0)) == 60


def test_a_target_that_runs_past_closing_continues_next_morning() -> None:
    start = local(BERLIN, 2026, 3, 4, 16, 30)
    assert calendar().shift(start, 60) == local(BERLIN, 2026, 3, 5, 9, 30)
    assert calendar().between(start, local(BERLIN, 2026, 3, 5, 9, 30)) == 60


def test_friday_afternoon_continues_on_monday_skipping_the_weekend() -> None:
    start = local(BERLIN, 2026, 3, 6, 16, 30)  # Friday
    assert calendar().shift(start, 60) == local(BERLIN, 2026, 3, 9, 9, 30)


def test_a_ticket_opened_at_night_or_on_a_weekend_starts_counting_at_opening() -> None:
    saturday = local(BERLIN, 2026, 3, 7, 11, 0)
    assert calendar().opens_at(saturday) == local(BERLIN, 2026, 3, 9, 9, 0)
    assert calendar().shift(saturday, 30) == local(BERLIN, 2026, 3, 9, 9, 30)
    night = local(BERLIN, 2026, 3, 4, 23, 0)
    assert calendar().opens_at(night) == local(BERLIN, 2026, 3, 5, 9, 0)
    assert calendar().between(night, local(BERLIN, 2026, 3, 5, 8, 59)) == 0


def test_holidays_are_skipped() -> None:
    hours = calendar(holidays=[date(2026, 12, 24), date(2026, 12, 25)])
    start = local(BERLIN, 2026, 12, 23, 16, 0)  # Wednesday before two holidays
    assert hours.shift(start, 120) == local(BERLIN, 2026, 12, 28, 10, 0)  # Monday


def test_split_days_and_a_day_to_midnight() -> None:
    weekly = {
        "mon": [{"start": "13:00", "end": "17:00"}, {"start": "08:00", "end": "12:00"}],
        "sat": [{"start": "20:00", "end": "24:00"}],
    }
    hours = calendar(weekly=weekly)
    assert hours.shift(local(BERLIN, 2026, 3, 2, 11, 0), 90) == local(BERLIN, 2026, 3, 2, 13, 30)
    assert hours.shift(local(BERLIN, 2026, 3, 7, 23, 0), 90) == local(BERLIN, 2026, 3, 9, 8, 30)


@pytest.mark.parametrize(
    ("zone", "friday", "monday"),
    [
        # Berlin moves to summer time on Sunday 29 March 2026 and back on Sunday 25 October.
        (BERLIN, (2026, 3, 27), (2026, 3, 30)),
        (BERLIN, (2026, 10, 23), (2026, 10, 26)),
        # New York moves on Sunday 8 March 2026 and back on Sunday 1 November.
        (NEW_YORK, (2026, 3, 6), (2026, 3, 9)),
        (NEW_YORK, (2026, 10, 30), (2026, 11, 2)),
    ],
)
def test_over_a_clock_change_weekend_local_hours_stay_local(
    zone: ZoneInfo, friday: tuple[int, int, int], monday: tuple[int, int, int]
) -> None:
    hours = calendar(str(zone))
    start = local(zone, *friday, 16, 0)
    due = hours.shift(start, 120)
    # Due at 10:00 local on Monday, whatever the offset became
    assert due == local(zone, *monday, 10, 0)
    assert hours.between(start, due) == 120
    # While in UTC the weekend was an hour shorter or longer than usual
    utc_gap = due.astimezone(UTC) - start.astimezone(UTC)
    assert utc_gap in (timedelta(hours=65), timedelta(hours=67))


def test_a_sunday_of_clock_change_open_around_the_clock_counts_real_minutes() -> None:
    hours = calendar(weekly={"sun": [{"start": "00:00", "end": "24:00"}]})
    spring = local(BERLIN, 2026, 3, 29, 0, 0)
    autumn = local(BERLIN, 2026, 10, 25, 0, 0)
    assert hours.between(spring, local(BERLIN, 2026, 3, 30, 0, 0)) == 23 * 60
    assert hours.between(autumn, local(BERLIN, 2026, 10, 26, 0, 0)) == 25 * 60
    # Three working hours from midnight on the short night end at 04:00 summer time
    assert hours.shift(spring, 180) == local(BERLIN, 2026, 3, 29, 4, 0)


def test_shifting_back_mirrors_shifting_forward() -> None:
    hours = calendar()
    start = local(BERLIN, 2026, 3, 6, 16, 0)
    due = hours.shift(start, 600)
    assert hours.shift(due, -600) == start
    assert hours.shift(local(BERLIN, 2026, 3, 9, 9, 30), -60) == local(BERLIN, 2026, 3, 6, 16, 30)


def test_around_the_clock_counts_every_minute() -> None:
    clock = AroundTheClock()
    start = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert clock.shift(start, 90) == start + timedelta(minutes=90)
    assert clock.between(start, start + timedelta(hours=25)) == 25 * 60
    assert clock.between(start, start - timedelta(hours=1)) == 0
