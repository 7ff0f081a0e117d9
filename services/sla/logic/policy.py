"""SLA policies: the targets per priority and how the clock runs (around the clock or in business
hours, paused or not while the ticket waits on the client).

A policy change is a new version; versions are never edited, so a ticket's history can always be
explained by the versions that were in force during its life.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.model import Model

Priority = Literal["low", "medium", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = ("urgent", "high", "medium", "low")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_TARGET_MINUTES = 366 * 24 * 60
END_OF_DAY = "24:00"


class Rules(Model):
    """Base of the policy's parts: strict, so a misspelt field is an error and not a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Targets(Rules):
    first_response_minutes: int = Field(gt=0, le=MAX_TARGET_MINUTES)
    resolution_minutes: int = Field(gt=0, le=MAX_TARGET_MINUTES)


class TargetsByPriority(Rules):
    urgent: Targets
    high: Targets
    medium: Targets
    low: Targets

    def of(self, priority: str) -> Targets:
        return getattr(self, priority)  # type: ignore[no-any-return]


class Approaching(Rules):
    """When a target counts as approaching: once `percent` of it has elapsed, or `minutes_before`
    its due time. Exactly one of the two."""

    percent: int | None = Field(None, gt=0, lt=100)
    minutes_before: int | None = Field(None, gt=0, le=MAX_TARGET_MINUTES)

    @model_validator(mode="after")
    def _one_rule(self) -> Approaching:
        if (self.percent is None) == (self.minutes_before is None):
            raise ValueError("give either percent or minutes_before")
        return self

    def warning_after(self, target_minutes: int) -> float | None:
        """Working minutes into the target at which it is approaching; None if never."""
        if self.percent is not None:
            return target_minutes * self.percent / 100
        lead = target_minutes - (self.minutes_before or 0)
        return lead if lead > 0 else None


class Interval(Rules):
    """Working hours within one day, local time, `HH:MM`; `end` may be `24:00`."""

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.end != END_OF_DAY and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class BusinessHours(Rules):
    time_zone: str = Field(description="IANA time zone, such as Europe/Berlin")
    weekly: dict[Weekday, list[Interval]] = Field(
        description="working intervals per weekday; a day not named is closed"
    )
    holidays: list[date] = Field(default_factory=list, max_length=1000)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @field_validator("weekly")
    @classmethod
    def _some_hours(cls, weekly: dict[Weekday, list[Interval]]) -> dict[Weekday, list[Interval]]:
        if not any(weekly.values()):
            raise ValueError("at least one working interval is needed")
        for day, intervals in weekly.items():
            ordered = sorted(intervals, key=lambda interval: interval.start)
            for before, after in pairwise(ordered):
                if before.end == END_OF_DAY or after.start < before.end:
                    raise ValueError(f"{day}: intervals overlap")
            weekly[day] = ordered
        return weekly


class PolicyRules(Rules):
    targets: TargetsByPriority
    approaching: Approaching = Approaching(percent=75)
    pause_when_waiting_on_client: bool = True
    clock: Literal["calendar", "business_hours"] = "calendar"
    business_hours: BusinessHours | None = None

    @model_validator(mode="after")
    def _hours_when_needed(self) -> PolicyRules:
        if self.clock == "business_hours" and self.business_hours is None:
            raise ValueError("business_hours is required when clock is business_hours")
        return self


class PolicyVersion(Model):
    model_config = ConfigDict(frozen=True)

    version: int
    rules: PolicyRules
    effective_from: datetime
    changed_by: str


def _targets(first_response_hours: int, resolution_hours: int) -> Targets:
    return Targets(
        first_response_minutes=first_response_hours * 60, resolution_minutes=resolution_hours * 60
    )


DEFAULT_RULES = PolicyRules(
    targets=TargetsByPriority(
        urgent=_targets(1, 4),
        high=_targets(4, 24),
        medium=_targets(8, 3 * 24),
        low=_targets(24, 5 * 24),
    )
)
# In force until an admin saves a policy: version 0, from the beginning of time.
DEFAULT_POLICY = PolicyVersion(
    version=0,
    rules=DEFAULT_RULES,
    effective_from=datetime(2000, 1, 1, tzinfo=UTC),
    changed_by="system",
)


class PolicyHistory:
    """The versions of the policy in order; answers which one was in force at a moment."""

    def __init__(self, versions: list[PolicyVersion]) -> None:
        self.versions = sorted([DEFAULT_POLICY, *versions], key=lambda v: v.version)

    @property
    def current(self) -> PolicyVersion:
        return self.versions[-1]

    def at(self, moment: datetime) -> PolicyVersion:
        in_force = self.versions[0]
        for version in self.versions:
            if version.effective_from <= moment:
                in_force = version
        return in_force

    def changes_between(self, start: datetime, end: datetime | None) -> list[PolicyVersion]:
        """Versions that took effect after `start` (and by `end`, if given)."""
        return [
            v
            for v in self.versions
            if v.effective_from > start and (end is None or v.effective_from <= end)
        ]
