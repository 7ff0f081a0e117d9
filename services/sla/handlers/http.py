"""The SLA HTTP API: parse, call one use case, answer. No rule lives here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.sla.handlers.wiring import dependencies
from services.sla.logic.edit_policy import change_policy, policy_history
from services.sla.logic.explain import explain
from services.sla.logic.policy import PolicyRules
from services.sla.logic.report import ReportQuery, sla_report
from services.sla.models import (
    PolicyList,
    PolicyOut,
    PriorityReportOut,
    ReportOut,
    ReportQueryIn,
    TimerOut,
)
from shared.api import Api, ApiRequest

api = Api(__name__, tag="sla", service="sla")
DEFAULT_REPORT_PERIOD = timedelta(days=30)


@api.route("/sla/policies", "GET", summary="The SLA policy in force", response=PolicyOut)
def get_policy(request: ApiRequest[Any, Any]) -> PolicyOut:
    return PolicyOut.of(policy_history(dependencies()).current)


@api.route(
    "/sla/policies",
    "PUT",
    summary="Save a new version of the SLA policy (admins)",
    body=PolicyRules,
    response=PolicyOut,
    errors=(403, 409, 422),
)
def put_policy(request: ApiRequest[PolicyRules, Any]) -> PolicyOut:
    return PolicyOut.of(change_policy(request.body, request.caller, dependencies()))


@api.route(
    "/sla/policies/history",
    "GET",
    summary="Every version of the SLA policy",
    response=PolicyList,
)
def list_policies(request: ApiRequest[Any, Any]) -> PolicyList:
    versions = policy_history(dependencies()).versions
    return PolicyList(items=[PolicyOut.of(version) for version in versions])


@api.route(
    "/sla/tickets/{ticket_id}",
    "GET",
    summary="A ticket's SLA targets, due times and why",
    response=TimerOut,
    errors=(404,),
)
def get_timer(request: ApiRequest[Any, Any]) -> TimerOut:
    return TimerOut.of(explain(request.path["ticket_id"], request.caller, dependencies()))


@api.route(
    "/sla/report",
    "GET",
    summary="SLA compliance per priority for the tickets opened in a period",
    query=ReportQueryIn,
    response=ReportOut,
    errors=(404, 422),
)
def get_report(request: ApiRequest[Any, ReportQueryIn]) -> ReportOut:
    deps = dependencies()
    end = request.query.end or deps.clock.now()
    start = request.query.start or end - DEFAULT_REPORT_PERIOD
    query = ReportQuery(start, end, request.query.department)
    figures = sla_report(query, request.caller, deps)
    return ReportOut(
        start=start,
        end=end,
        department=query.department,
        priorities=[PriorityReportOut.of(f) for f in figures],
    )
