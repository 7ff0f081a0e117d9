"""The shapes of the rating page's requests and of the CSAT report."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from services.tickets.logic.ratings import CsatReport, Score
from shared.api import RequestModel, ResponseModel
from shared.text import SingleLine


class RatingPageQuery(RequestModel):
    # Any text: the page itself names a choice it does not know, in words a person reads.
    choice: str | None = Field(None, description="`good` or `bad`: the choice shown selected")


class CsatQueryIn(RequestModel):
    start: date | None = Field(
        None, alias="from", description="first day (UTC); default: 29 days before `to`"
    )
    end: date | None = Field(
        None, alias="to", description="last day (UTC), included; default: today"
    )
    department_id: SingleLine | None = Field(
        None, description="a department id, or `none`; default: every one the caller sees"
    )


class ScoreOut(ResponseModel):
    good: int
    bad: int
    share_good: float | None = Field(description="good / (good + bad); null without ratings")

    @classmethod
    def of(cls, score: Score) -> ScoreOut:
        return cls(good=score.good, bad=score.bad, share_good=score.share_good)


class DepartmentScoreOut(ScoreOut):
    department_id: str | None


class AgentScoreOut(ScoreOut):
    agent: str | None = Field(description="the assignee when the client rated; null: none")


class CsatReportOut(ResponseModel):
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    total: ScoreOut
    departments: list[DepartmentScoreOut]
    agents: list[AgentScoreOut]

    @classmethod
    def of(cls, report: CsatReport) -> CsatReportOut:
        return cls(
            start=report.first,
            end=report.last,
            total=ScoreOut.of(report.total),
            departments=[
                DepartmentScoreOut(department_id=d, **ScoreOut.of(s).model_dump())
                for d, s in report.departments.items()
            ],
            agents=[
                AgentScoreOut(agent=a, **ScoreOut.of(s).model_dump())
                for a, s in sorted(report.agents.items(), key=lambda item: item[0] or "")
            ],
        )
