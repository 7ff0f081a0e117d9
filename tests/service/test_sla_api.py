"""The SLA service over HTTP and on the bus, with the tickets service beside it: due times and
states reach tickets, who may read a ticket's SLA, policies, and the report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from local_stack.system import LocalSystem
from services.sla.logic.policy import DEFAULT_RULES
from shared.aws import reset_process_state
from shared.events.catalogue import DepartmentMembersChanged, MessagePosted, Person, TicketCreated
from shared.events.envelope import OutgoingEvent
from shared.events.publisher import bus_publisher
from tests.conftest import Delivery, HttpClient
from tests.service.test_sla_timers import EmulatedDesk
from tests.sla_desk import T0, minutes

pytestmark = pytest.mark.service

ALICE = ("alice@example.com", "agent")  # in Support
BOB = ("bob@example.com", "agent")  # in Sales
NEW_TICKET = {
    "subject": "Cannot log in",
    "body": "The login page says my account is locked.",
    "priority": "urgent",
    "department_id": "support",
    "requester": {"email": "client@example.org"},
}


@pytest.fixture
def teams(http: HttpClient, delivery: Delivery) -> None:
    for name, member in (("Support", ALICE[0]), ("Sales", BOB[0])):
        http.expect(201, "POST", "/departments", {"name": name})
        http.expect(200, "POST", f"/departments/{name.lower()}/members", {"email": member})
    delivery.run()


def _open(http: HttpClient, delivery: Delivery, **changes: Any) -> dict[str, Any]:
    ticket = http.expect(201, "POST", "/tickets", {**NEW_TICKET, **changes})
    delivery.run()
    return ticket  # type: ignore[no-any-return]


def _listed(http: HttpClient, sla: str) -> list[str]:
    return [t["id"] for t in http.expect(200, "GET", f"/tickets?sla={sla}")["items"]]


def _sweep_at(moment: datetime, delivery: Delivery) -> None:
    EmulatedDesk(moment).sweep(moment)
    delivery.run()


# --- due times and states reach the tickets service -----------------------------------------------


def test_an_urgent_ticket_is_at_risk_then_breached_in_ticket_lists(
    http: HttpClient, delivery: Delivery, teams: None
) -> None:
    ticket = _open(http, delivery)
    opened = datetime.fromisoformat(ticket["created_at"])
    sla = http.expect(200, "GET", f"/tickets/{ticket['id']}")["sla"]
    # Events carry milliseconds: the due times are the opening time so rounded, plus the targets
    opened = opened.replace(microsecond=opened.microsecond // 1000 * 1000)
    assert datetime.fromisoformat(sla["first_response_due_at"]) == opened + timedelta(hours=1)
    assert datetime.fromisoformat(sla["resolution_due_at"]) == opened + timedelta(hours=4)
    assert sla["state"] == "ok"
    _sweep_at(opened + timedelta(minutes=50), delivery)
    assert _listed(http, "at_risk") == [ticket["id"]]
    assert _listed(http, "breached") == []
    _sweep_at(opened + timedelta(minutes=61), delivery)
    assert _listed(http, "breached") == [ticket["id"]]
    assert _listed(http, "at_risk") == []


def test_an_agent_reply_before_the_due_time_means_no_breach(
    http: HttpClient, delivery: Delivery, teams: None
) -> None:
    ticket = _open(http, delivery)
    opened = datetime.fromisoformat(ticket["created_at"])
    http.expect(201, "POST", f"/tickets/{ticket['id']}/messages", {"body": "On it."}, as_=ALICE)
    delivery.run()
    _sweep_at(opened + timedelta(minutes=61), delivery)
    assert _listed(http, "breached") == []
    timer = http.expect(200, "GET", f"/sla/tickets/{ticket['id']}", as_=ALICE)
    first_response, resolution = timer["targets"]
    assert (first_response["status"], first_response["breached_at"]) == ("met", None)
    # The reply handed the ticket to the client: resolution waits, with no due time meanwhile
    assert resolution["status"] == "paused"
    assert resolution["due_at"] is None
    assert [e["event"] for e in resolution["timeline"]] == ["started", "paused"]
    assert [e["event"] for e in first_response["timeline"]] == ["started", "met"]


def test_events_out_of_order_and_twice_on_the_bus_make_one_timer(
    http: HttpClient, delivery: Delivery, system: LocalSystem
) -> None:
    desk = EmulatedDesk()
    opened = TicketCreated(
        ticket_id="t9",
        number="TKT-0009",
        subject="Help",
        status="open",
        priority="urgent",
        department_id="support",
        requester=Person(email="client@example.org"),
        created_at=T0.isoformat(),
    )
    answered = MessagePosted(
        ticket_id="t9",
        number="TKT-0009",
        subject="Help",
        message_id="m1",
        visibility="public",
        author={"type": "agent", "email": ALICE[0], "name": None},
        department_id="support",
        requester=Person(email="client@example.org"),
        first_response=True,
        created_at=minutes(10).isoformat(),
    )
    reply_event = OutgoingEvent.of(answered, minutes(10))
    # The reply first, then the creation, then the reply again (same id) and once more (new id)
    for events in ([reply_event], [OutgoingEvent.of(opened, T0)], [reply_event]):
        assert bus_publisher().publish(events) == []
        delivery.run()
    assert bus_publisher().publish([OutgoingEvent.of(answered, minutes(10))]) == []
    delivery.run()
    timer = desk.timer("t9")
    assert [f.kind for f in timer.facts] == ["created", "department", "first_response"]
    assert timer.clocks["first_response"].met_at == minutes(10)
    assert [e["event"] for e in desk.announced("SlaMet")] == ["SlaMet"]


# --- who may read a ticket's SLA ------------------------------------------------------------------


def test_members_of_the_department_and_admins_read_the_sla_and_others_get_not_found(
    http: HttpClient, delivery: Delivery, teams: None
) -> None:
    ticket = _open(http, delivery)
    path = f"/sla/tickets/{ticket['id']}"
    assert http.expect(200, "GET", path)["state"] == "ok"
    timer = http.expect(200, "GET", path, as_=ALICE)
    assert (timer["priority"], timer["department_id"]) == ("urgent", "support")
    hidden = http.call("GET", path, as_=BOB)
    missing = http.call("GET", "/sla/tickets/no-such-ticket", as_=BOB)
    assert (hidden.status, missing.status) == (404, 404)
    assert hidden.body["type"] == missing.body["type"]
    assert "alice" not in str(hidden.body)
    # When Alice leaves Support she no longer sees it
    http.expect(200, "DELETE", f"/departments/support/members/{ALICE[0]}")
    delivery.run()
    assert http.call("GET", path, as_=ALICE).status == 404
    # Moving the ticket to Sales shows it to Bob
    http.expect(200, "PATCH", f"/tickets/{ticket['id']}", {"department_id": "sales"})
    delivery.run()
    assert http.call("GET", path, as_=BOB).status == 200


def test_a_ticket_without_department_is_for_admins_and_the_triage_team(
    http: HttpClient, delivery: Delivery, teams: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = _open(http, delivery, department_id=None)
    path = f"/sla/tickets/{ticket['id']}"
    assert http.call("GET", path, as_=ALICE).status == 404  # no triage team set
    assert http.call("GET", path).status == 200
    monkeypatch.setenv("HELPDESK_TRIAGE_DEPARTMENT", "support")
    reset_process_state()
    assert http.call("GET", path, as_=ALICE).status == 200
    assert http.call("GET", path, as_=BOB).status == 404


def test_an_older_membership_announcement_does_not_undo_a_newer_one(
    http: HttpClient, delivery: Delivery, teams: None
) -> None:
    ticket = _open(http, delivery)
    stale = DepartmentMembersChanged(
        department_id="support", name="Support", members=[BOB[0]], archived=False
    )
    assert (
        bus_publisher().publish([OutgoingEvent.of(stale, datetime(2020, 1, 1, tzinfo=UTC))]) == []
    )
    delivery.run()
    assert http.call("GET", f"/sla/tickets/{ticket['id']}", as_=BOB).status == 404
    assert http.call("GET", f"/sla/tickets/{ticket['id']}", as_=ALICE).status == 200


# --- policies -------------------------------------------------------------------------------------


def _rules(**changes: Any) -> dict[str, Any]:
    return {**DEFAULT_RULES.model_dump(mode="json"), **changes}


def test_the_default_policy_is_in_force_until_an_admin_saves_one(
    http: HttpClient, system: LocalSystem
) -> None:
    policy = http.expect(200, "GET", "/sla/policies", as_=ALICE)
    assert policy["version"] == 0
    assert policy["targets"]["urgent"] == {"first_response_minutes": 60, "resolution_minutes": 240}
    assert policy["targets"]["low"] == {"first_response_minutes": 1440, "resolution_minutes": 7200}
    assert (policy["clock"], policy["pause_when_waiting_on_client"]) == ("calendar", True)
    # An admin saves business hours in Berlin
    hours = {"time_zone": "Europe/Berlin", "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}}
    saved = http.expect(
        200, "PUT", "/sla/policies", _rules(clock="business_hours", business_hours=hours)
    )
    assert (saved["version"], saved["changed_by"]) == (1, "admin@example.com")
    assert (
        http.expect(200, "GET", "/sla/policies")["business_hours"]["time_zone"] == "Europe/Berlin"
    )
    http.expect(200, "PUT", "/sla/policies", _rules(approaching={"minutes_before": 15}))
    history = http.expect(200, "GET", "/sla/policies/history")["items"]
    assert [v["version"] for v in history] == [0, 1, 2]
    assert history[2]["approaching"] == {"percent": None, "minutes_before": 15}


def test_only_admins_change_the_policy(http: HttpClient, system: LocalSystem) -> None:
    answer = http.call("PUT", "/sla/policies", _rules(), as_=ALICE)
    assert answer.status == 403
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert http.expect(200, "GET", "/sla/policies")["version"] == 0


def _targets(**urgent: Any) -> dict[str, Any]:
    targets = DEFAULT_RULES.targets.model_dump()
    targets["urgent"] = {**targets["urgent"], **urgent}
    return targets


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"targets": _targets(first_response_minutes=-5)}, "targets.urgent.first_response_minutes"),
        ({"targets": _targets(resolution_minutes=0)}, "targets.urgent.resolution_minutes"),
        ({"targets": {**_targets(), "critical": _targets()["urgent"]}}, "targets.critical"),
        ({"targets": {k: v for k, v in _targets().items() if k != "low"}}, "targets.low"),
        ({"approaching": {"percent": 120}}, "approaching.percent"),
        ({"approaching": {"percent": 50, "minutes_before": 5}}, "approaching"),
        ({"clock": "sundial"}, "clock"),
        ({"clock": "business_hours"}, "body"),
        (
            {
                "clock": "business_hours",
                "business_hours": {
                    "time_zone": "Mars/Olympus",
                    "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]},
                },
            },
            "business_hours.time_zone",
        ),
        (
            {
                "business_hours": {
                    "time_zone": "UTC",
                    "weekly": {"mon": [{"start": "17:00", "end": "09:00"}]},
                }
            },
            "business_hours.weekly.mon.0",
        ),
        ({"business_hours": {"time_zone": "UTC", "weekly": {}}}, "business_hours.weekly"),
        (
            {"business_hours": {"time_zone": "UTC", "weekly": {"funday": []}}},
            "business_hours.weekly.funday.[key]",
        ),
        ({"pause": True}, "pause"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_field(
    http: HttpClient, system: LocalSystem, changes: dict[str, Any], field: str
) -> None:
    answer = http.call("PUT", "/sla/policies", _rules(**changes))
    assert answer.status == 422, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert field in [error["field"] for error in answer.body["errors"]], answer.body
    assert http.expect(200, "GET", "/sla/policies")["version"] == 0


# --- the report -----------------------------------------------------------------------------------


def _report(
    http: HttpClient, as_: tuple[str, str] = ("admin@example.com", "admin"), **query: str
) -> Any:
    return http.call("GET", f"/sla/report?{urlencode(query)}", as_=as_)


def test_the_report_counts_met_breached_and_open_tickets_with_medians(
    http: HttpClient, delivery: Delivery, teams: None
) -> None:
    desk = EmulatedDesk()
    desk.apply(
        "met",
        desk.created("met"),
        desk.reply("met", minutes(30)),
        desk.status("met", "resolved", minutes(100)),
    )
    desk.apply("late", desk.created("late"), desk.reply("late", minutes(70)))
    desk.apply("open", desk.created("open", at=minutes(5)))
    desk.apply("high", desk.created("high", priority="high"))
    desk.apply("sales", desk.created("sales", department="sales"))
    desk.apply("earlier", desk.created("earlier", at=T0 - timedelta(days=2)))
    period = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
    answer = _report(http, **period, department="support")
    assert answer.status == 200, answer.body
    figures = {row["priority"]: row for row in answer.body["priorities"]}
    assert figures["urgent"] == {
        "priority": "urgent",
        "measured": 3,
        "met": 1,
        "breached": 1,
        "open": 1,
        "compliance_percent": 50.0,
        "median_first_response_minutes": 50.0,
        "median_resolution_minutes": 100.0,
    }
    assert figures["high"]["measured"] == 1
    assert figures["low"]["compliance_percent"] is None
    # Over every department, Sales' ticket counts too
    everything = _report(http, **period).body
    assert sum(row["measured"] for row in everything["priorities"]) == 5
    # Alice reports on Support only; Bob may not, and sees only Sales by default
    assert _report(http, ALICE, **period, department="support").status == 200
    assert _report(http, BOB, **period, department="support").status == 404
    bobs = _report(http, BOB, **period).body["priorities"]
    assert sum(row["measured"] for row in bobs) == 1


def test_a_ticket_merged_away_is_not_measured_and_its_sla_says_why(
    http: HttpClient, delivery: Delivery, teams: None
) -> None:
    # Given two tickets about one problem, the second merged into the first
    first = _open(http, delivery)
    duplicate = _open(http, delivery, subject="Still locked out")
    merge = {"into": first["number"]}
    http.expect(200, "POST", f"/tickets/{duplicate['id']}/merge", merge)
    delivery.run()
    # Then the duplicate's SLA stopped at the merge, met by nothing
    timer = http.expect(200, "GET", f"/sla/tickets/{duplicate['id']}")
    assert timer["merged_into"] == first["number"]
    assert [t["status"] for t in timer["targets"]] == ["stopped", "stopped"]
    assert timer["targets"][1]["timeline"][-1]["event"] == "merged"
    # And the report counts the ticket it went into, not the duplicate
    now = datetime.now(UTC)
    period = {"from": (now - timedelta(hours=1)).isoformat(), "to": now.isoformat()}
    figures = {r["priority"]: r for r in _report(http, **period).body["priorities"]}
    assert (figures["urgent"]["measured"], figures["urgent"]["met"]) == (1, 0)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "query.to"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "query.from"),
        ({"from": "yesterday"}, "query.from"),
    ],
)
def test_a_bad_report_period_is_refused_naming_the_field(
    http: HttpClient, system: LocalSystem, query: dict[str, str], field: str
) -> None:
    answer = _report(http, **query)
    assert answer.status == 422, answer.body
    assert [error["field"] for error in answer.body["errors"]] == [field]
