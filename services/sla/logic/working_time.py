"""Working time: how many minutes of it lie between two moments, and when a number of working
minutes after a moment ends. Around the clock every minute counts; in business hours only the
policy's weekly hours count, in its time zone, skipping holidays.

Local working hours are turned into UTC instants day by day with zoneinfo, and all arithmetic is
done on UTC instants: a day on which the clocks change is 23 or 25 hours long, and a `09:00` to
`17:00` day stays eight working hours on either side of the change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from services.sla.logic.policy import END_OF_DAY, WEEKDAYS, BusinessHours, PolicyRules

MINUTE = timedelta(minutes=1)
# A policy has at least one working interval a week, so any target ends within this many days
# unless the holidays swallow years: a bound, not a limit anyone meets.
SEARCH_DAYS = 3 * 366


class WorkingTime(Protocol):
    def between(self, start: datetime, end: datetime) -> float:
        """Working minutes from `start` to `end` (0 if `end` is not after `start`)."""
        ...

    def shift(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` working minutes after `start` (before it, if negative)."""
        ...

    def opens_at(self, moment: datetime) -> datetime:
        """The first working moment at or after `moment`."""
        ...


class AroundTheClock:
    def between(self, start: datetime, end: datetime) -> float:
        return max((end - start) / MINUTE, 0.0)

    def shift(self, start: datetime, minutes: float) -> datetime:
        return start + minutes * MINUTE

    def opens_at(self, moment: datetime) -> datetime:
        return moment


class BusinessCalendar:
    def __init__(self, hours: BusinessHours) -> None:
        self._zone = ZoneInfo(hours.time_zone)
        self._weekly = hours.weekly
        self._holidays = frozenset(hours.holidays)

    def _open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of one local day, as UTC instants."""
        if day in self._holidays:
            return []
        intervals = []
        for interval in self._weekly.get(WEEKDAYS[day.weekday()], []):
            start = datetime.combine(day, time.fromisoformat(interval.start), self._zone)
            if interval.end == END_OF_DAY:
                end = datetime.combine(day + timedelta(days=1), time(), self._zone)
            else:
                end = datetime.combine(day, time.fromisoformat(interval.end), self._zone)
            intervals.append((start.astimezone(UTC), end.astimezone(UTC)))
        return intervals

    def _days(self, moment: datetime, step: int) -> Iterator[date]:
        day = moment.astimezone(self._zone).date()
        for offset in range(SEARCH_DAYS):
            yield day + timedelta(days=offset * step)
        raise ValueError("no working time within the search window: check hours and holidays")

    def between(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        total = 0.0
        for day in self._days(start, 1):
            for opens, closes in self._open_intervals(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap / MINUTE
            if datetime.combine(day, time(), self._zone) > end:
                return total
        return total  # pragma: no cover - _days raises first

    def shift(self, start: datetime, minutes: float) -> datetime:
        if minutes < 0:
            return self._shift_back(start, -minutes)
        remaining = minutes * MINUTE
        for day in self._days(start, 1):
            for opens, closes in self._open_intervals(day):
                if closes <= start:
                    continue
                begin = max(opens, start)
                if begin + remaining <= closes:
                    return begin + remaining
                remaining -= closes - begin
        raise AssertionError("unreachable")  # pragma: no cover - _days raises first

    def _shift_back(self, end: datetime, minutes: float) -> datetime:
        remaining = minutes * MINUTE
        for day in self._days(end, -1):
            for opens, closes in reversed(self._open_intervals(day)):
                if opens >= end:
                    continue
                finish = min(closes, end)
                if finish - remaining >= opens:
                    return finish - remaining
                remaining -= finish - opens
        raise AssertionError("unreachable")  # pragma: no cover - _days raises first

    def opens_at(self, moment: datetime) -> datetime:
        return self.shift(moment, 0)


def working_time(rules: PolicyRules) -> WorkingTime:
    if rules.clock == "business_hours" and rules.business_hours is not None:
        return BusinessCalendar(rules.business_hours)
    return AroundTheClock()
