"""The SLA API's request and response shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, field_validator

from services.sla.logic.explain import Explanation, TargetView
from services.sla.logic.policy import Approaching, BusinessHours, PolicyVersion, TargetsByPriority
from services.sla.logic.report import PriorityFigures
from services.sla.logic.timer import ClockStatus, EntryKind, SlaState, Target
from shared.api import RequestModel, ResponseModel
from shared.text import SingleLine


class PolicyOut(ResponseModel):
    version: int = Field(description="0 is the built-in default, in force until a policy is saved")
    effective_from: datetime
    changed_by: str
    targets: TargetsByPriority
    approaching: Approaching
    pause_when_waiting_on_client: bool
    clock: Literal["calendar", "business_hours"]
    business_hours: BusinessHours | None

    @classmethod
    def of(cls, version: PolicyVersion) -> PolicyOut:
        return cls(
            version=version.version,
            effective_from=version.effective_from,
            changed_by=version.changed_by,
            **version.rules.model_dump(exclude={"targets", "approaching", "business_hours"}),
            targets=version.rules.targets,
            approaching=version.rules.approaching,
            business_hours=version.rules.business_hours,
        )


class PolicyList(ResponseModel):
    items: list[PolicyOut] = Field(description="every version, oldest first")


class EntryOut(ResponseModel):
    at: datetime
    event: EntryKind
    reason: str
    due_at: datetime | None


class TargetOut(ResponseModel):
    target: Target
    status: ClockStatus
    target_minutes: int
    elapsed_minutes: float = Field(description="working minutes counted so far")
    due_at: datetime | None = Field(description="none while paused")
    warn_at: datetime | None
    met_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    timeline: list[EntryOut]

    @classmethod
    def of(cls, view: TargetView) -> TargetOut:
        clock = view.clock
        return cls(
            target=view.target,
            status=clock.status,
            target_minutes=clock.target_minutes,
            elapsed_minutes=round(view.elapsed_minutes, 1),
            due_at=clock.due_at,
            warn_at=clock.warn_at,
            met_at=clock.met_at,
            warned_at=view.alarms.warned_at,
            breached_at=view.alarms.breached_at,
            timeline=[EntryOut.model_validate(entry) for entry in view.timeline],
        )


class TimerOut(ResponseModel):
    ticket_id: str
    priority: str | None
    department_id: str | None
    state: SlaState | None
    started_at: datetime
    merged_into: str | None = Field(description="the ticket it was merged into: not measured")
    policy_version: int | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    targets: list[TargetOut]

    @classmethod
    def of(cls, explanation: Explanation) -> TimerOut:
        timer = explanation.timer
        first_response, resolution = timer.due_times()
        assert timer.started_at is not None  # explain answers for started timers only
        return cls(
            ticket_id=timer.ticket_id,
            priority=timer.priority,
            department_id=timer.department_id,
            state=explanation.state,
            started_at=timer.started_at,
            merged_into=timer.merged_into,
            policy_version=timer.policy_version,
            first_response_due_at=first_response,
            resolution_due_at=resolution,
            targets=[TargetOut.of(view) for view in explanation.targets],
        )


class ReportQueryIn(RequestModel):
    start: datetime | None = Field(None, alias="from", description="default: 30 days before `to`")
    end: datetime | None = Field(None, alias="to", description="default: now")
    department: SingleLine | None = Field(
        None, description="a department id, or `none`; default: all"
    )

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)  # a time without offset is UTC
        return moment


class PriorityReportOut(ResponseModel):
    priority: str
    measured: int = Field(description="tickets opened in the period")
    met: int = Field(description="resolved with every target met")
    breached: int = Field(description="with at least one target breached")
    open: int = Field(description="neither yet")
    compliance_percent: float | None = Field(description="met / (met + breached)")
    median_first_response_minutes: float | None = Field(description="working minutes")
    median_resolution_minutes: float | None = Field(description="working minutes")

    @classmethod
    def of(cls, figures: PriorityFigures) -> PriorityReportOut:
        return cls(
            priority=figures.priority,
            measured=figures.measured,
            met=figures.met,
            breached=figures.breached,
            open=figures.open,
            compliance_percent=figures.compliance_percent,
            median_first_response_minutes=figures.median(figures.first_response_minutes),
            median_resolution_minutes=figures.median(figures.resolution_minutes),
        )


class ReportOut(ResponseModel):
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    department: str | None
    priorities: list[PriorityReportOut]
