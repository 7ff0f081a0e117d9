"""The tickets slice through the HTTP layer: open a ticket, find it, and the refusals."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service

NEW_TICKET = {
    "subject": "Printer on fire",
    "body": "It started this morning.",
    "priority": "urgent",
    "requester": {"email": "Bob@Example.com", "name": "Bob"},
    "tags": ["hardware"],
}


def test_an_agent_opens_a_ticket_and_finds_it_by_id_and_by_number(http: HttpClient) -> None:
    # Given an agent of the Billing department
    agent = ("alice@example.com", "agent")
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    assert http.call("POST", "/departments/billing/members", {"email": agent[0]}).status == 200
    # When they open two tickets
    ticket = {**NEW_TICKET, "department_id": "billing"}
    first = http.call("POST", "/tickets", ticket, as_=agent)
    second = http.call("POST", "/tickets", {**ticket, "subject": "Second"}, as_=agent)
    # Then each gets the next number and the shape a frontend relies on
    assert first.status == 201, first.body
    assert (first.body["number"], second.body["number"]) == ("TKT-0001", "TKT-0002")
    assert first.body["status"] == "open"
    assert first.body["requester"] == {"email": "bob@example.com", "name": "Bob"}
    assert first.body["version"] == 1
    for field in ("id", "department_id", "assignee", "contact_id", "tags", "cc", "sla"):
        assert field in first.body
    # And it is found by id and by number alike
    by_id = http.call("GET", f"/tickets/{first.body['id']}", as_=agent)
    by_number = http.call("GET", "/tickets/TKT-0001", as_=agent)
    assert by_id.status == by_number.status == 200
    assert by_id.body == by_number.body == first.body


def test_an_unknown_ticket_is_a_problem_404(http: HttpClient) -> None:
    answer = http.call("GET", "/tickets/TKT-9999")
    assert answer.status == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith("/not-found")
    assert answer.body["instance"] == "/tickets/TKT-9999"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**NEW_TICKET, "subject": ""}, ["subject"]),
        ({**NEW_TICKET, "priority": "asap"}, ["priority"]),
        ({**NEW_TICKET, "requester": {"email": "not-an-address"}}, ["requester.email"]),
        ({**NEW_TICKET, "colour": "red"}, ["colour"]),
        ({"subject": "x"}, ["body", "requester"]),
        ({**NEW_TICKET, "body": "x" * 100_001}, ["body"]),
    ],
)
def test_invalid_fields_get_a_422_naming_each_field(
    http: HttpClient, body: dict[str, object], fields: list[str]
) -> None:
    answer = http.call("POST", "/tickets", body)
    assert answer.status == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in answer.body["errors"]] == fields
    # And nothing was stored: the next good ticket is still number 1
    assert http.call("POST", "/tickets", NEW_TICKET).body["number"] == "TKT-0001"


def test_malformed_json_wrong_media_type_and_oversize_bodies_are_refused(
    http: HttpClient,
) -> None:
    malformed = http.call("POST", "/tickets", raw=b'{"subject": ')
    assert (malformed.status, malformed.body["type"].rsplit("/", 1)[-1]) == (400, "malformed-json")
    form = http.call("POST", "/tickets", raw=b"a=b", headers={"Content-Type": "text/plain"})
    assert form.status == 415
    huge = http.call("POST", "/tickets", raw=b" " * (256 * 1024 + 1))
    assert huge.status == 413


def test_without_a_valid_token_nothing_is_answered(http: HttpClient) -> None:
    assert http.call("POST", "/tickets", NEW_TICKET, as_=None).status == 401
    forged = http.call(
        "GET", "/tickets/TKT-0001", as_=None, headers={"Authorization": "Bearer not.a.token"}
    )
    assert forged.status == 401
    assert forged.body["type"].endswith("/unauthorized")


def test_unknown_routes_and_methods_are_problems(http: HttpClient) -> None:
    assert http.call("GET", "/nowhere").status == 404
    answer = http.call("DELETE", "/tickets")
    assert answer.status == 405
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_new_ticket_reaches_the_sla_service_through_the_bus(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a new urgent ticket
    ticket = http.call("POST", "/tickets", NEW_TICKET).body
    # When its events are delivered: stream → relay → bus → rule → queue → consumer
    delivery.run()
    # Then the SLA service keeps a timer for it with the urgent targets
    timer = http.call("GET", f"/sla/tickets/{ticket['id']}")
    assert timer.status == 200, timer.body
    assert timer.body["priority"] == "urgent"
    started = datetime.fromisoformat(timer.body["started_at"])
    due = datetime.fromisoformat(timer.body["first_response_due_at"])
    assert due - started == timedelta(hours=1)
