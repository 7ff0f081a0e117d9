"""Ticket lists through the HTTP API: filters from the query string, cursors and limits the API
refuses, and no request path that reads the tickets table with a Scan. Every filter, sort and
paging rule is held in `tests/unit/test_tickets_logic.py`."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.client import BaseClient

from shared.clock import isoformat
from shared.events.catalogue import (
    ContactLinked,
    SlaDueTimesChanged,
    SlaTargetEvent,
    SlaWarning,
)
from shared.events.envelope import EventData, OutgoingEvent
from shared.events.publisher import bus_publisher
from tests.conftest import Answer, Delivery, HttpClient

pytestmark = pytest.mark.service

Who = tuple[str, str]
ADMIN: Who = ("admin@example.com", "admin")
ALICE: Who = ("alice@example.com", "agent")  # a member of Billing
BOB: Who = ("bob@example.com", "agent")  # a member of Technical
STATUSES = ("open", "in_progress", "waiting_on_client", "resolved", "closed")
DUE = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@dataclass
class Known:
    """What the test did to one ticket, so it knows what every list must show."""

    id: str
    number: str
    department_id: str | None
    priority: str
    tags: tuple[str, ...]
    created: int
    touched: int
    status: str = "open"
    assignee: str | None = None


class Desk:
    """Opens and changes tickets over HTTP, remembering the order in which it touched them."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.tickets: dict[str, Known] = {}
        self._tick = 0

    def departments(self) -> None:
        for name, agent in (("Billing", ALICE), ("Technical", BOB)):
            created = self.http.call("POST", "/departments", {"name": name})
            assert created.status == 201, created.body
            path = f"/departments/{created.body['id']}/members"
            assert self.http.call("POST", path, {"email": agent[0]}).status == 200

    def open(
        self, department_id: str | None, priority: str = "medium", tags: tuple[str, ...] = ()
    ) -> Known:
        body = {
            "subject": f"Ticket {len(self.tickets) + 1}",
            "body": "Please help.",
            "priority": priority,
            "department_id": department_id,
            "requester": {"email": "client@example.org", "name": "Client"},
            "tags": list(tags),
        }
        answer = self.http.call("POST", "/tickets", body)
        assert answer.status == 201, answer.body
        self._tick += 1
        known = Known(
            answer.body["id"],
            answer.body["number"],
            department_id,
            priority,
            tuple(sorted(tags)),
            created=self._tick,
            touched=self._tick,
        )
        self.tickets[known.id] = known
        return known

    def change(self, known: Known, **patch: Any) -> None:
        answer = self.http.call("PATCH", f"/tickets/{known.id}", patch)
        assert answer.status == 200, answer.body
        self._tick += 1
        known.touched = self._tick
        for name, value in patch.items():
            setattr(known, name, tuple(sorted(value)) if name == "tags" else value)

    def expected(
        self, keep: Callable[[Known], bool] = lambda ticket: True, sort: str = "updated"
    ) -> list[str]:
        chosen = [ticket for ticket in self.tickets.values() if keep(ticket)]
        order = (lambda t: t.touched) if sort == "updated" else (lambda t: t.created)
        return [ticket.id for ticket in sorted(chosen, key=order, reverse=True)]


def listed(http: HttpClient, as_: Who = ADMIN, **query: Any) -> Answer:
    return http.call("GET", "/tickets?" + urlencode(query, doseq=True), as_=as_)


def ids(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [ticket["id"] for ticket in answer.body["items"]]


def publish(delivery: Delivery, *events: EventData) -> None:
    """Put events on the bus as their owning service would, and deliver them."""
    now = datetime.now(UTC)
    assert bus_publisher().publish([OutgoingEvent.of(event, now) for event in events]) == []
    delivery.run()


def sla_event(
    kind: type[SlaTargetEvent], ticket: Known, target: str = "first_response"
) -> EventData:
    return kind(ticket_id=ticket.id, target=target, due_at=isoformat(DUE), at=isoformat(DUE))


# --- filters ------------------------------------------------------------------------------------


def test_a_list_shows_the_tickets_in_any_of_the_statuses_asked_for(http: HttpClient) -> None:
    # Given one Billing ticket in each status
    desk = Desk(http)
    desk.departments()
    tickets = [desk.open("billing") for _ in STATUSES]
    for ticket, status in zip(tickets, STATUSES, strict=True):
        if status != "open":
            desk.change(ticket, status=status)
    # When the list asks for two statuses, then one, then none
    two = listed(http, status=["open", "resolved"])
    one = listed(http, status="waiting_on_client")
    repeated = listed(http, status=["closed", "closed"])
    everything = listed(http)
    # Then each shows exactly the tickets in those statuses, most recently changed first
    assert ids(two) == desk.expected(lambda t: t.status in ("open", "resolved"))
    assert len(ids(two)) == 2
    assert ids(one) == [tickets[2].id]
    assert ids(repeated) == [tickets[4].id]
    assert ids(everything) == desk.expected()
    assert [t["status"] for t in one.body["items"]] == ["waiting_on_client"]


def test_combined_filters_keep_only_tickets_matching_all_of_them(http: HttpClient) -> None:
    # Given a mix of tickets across departments, statuses, priorities, tags and assignees
    desk = Desk(http)
    desk.departments()
    for i in range(16):
        department = ("billing", "technical")[i % 2]
        ticket = desk.open(department, ("high", "low")[i // 2 % 2], ("vip",) if i % 6 != 2 else ())
        status = ("open", "in_progress", "resolved", "open")[i // 4]
        patch: dict[str, Any] = {} if status == "open" else {"status": status}
        if department == "billing" and i % 5 < 3:
            patch["assignee"] = ALICE[0]
        if patch:
            desk.change(ticket, **patch)

    def wanted(t: Known) -> bool:
        return (
            t.department_id == "billing"
            and t.status in ("open", "in_progress")
            and t.priority == "high"
            and "vip" in t.tags
        )

    # When several filters are given at once
    answer = listed(
        http,
        department_id="billing",
        status=["open", "in_progress"],
        priority="high",
        tag="vip",
    )
    mine = listed(http, ALICE, assignee="me", priority="high", tag="vip", status="open")
    # Then only tickets matching every one of them show
    assert ids(answer) == desk.expected(wanted)
    assert len(ids(answer)) == 3
    assert ids(mine) == desk.expected(
        lambda t: (
            t.assignee == ALICE[0]
            and t.priority == "high"
            and "vip" in t.tags
            and t.status == "open"
        )
    )
    assert len(ids(mine)) == 2


# --- paging -------------------------------------------------------------------------------------


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%***",
        _cursor("not json at all"),
        _cursor("[1, 2, 3]"),
        _cursor('"a string"'),
        _cursor('{"0": "somewhere"}'),
        _cursor('{"0": {"pk": {"S": "TICKET#nope"}}}'),
    ],
)
def test_a_cursor_the_api_did_not_give_out_is_a_422(http: HttpClient, cursor: str) -> None:
    # Given two departments, so an admin's list reads several queues
    Desk(http).departments()
    # When a list is asked for with a made-up or tampered cursor
    answer = listed(http, cursor=cursor)
    # Then it is refused naming the cursor
    assert answer.status == 422, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith("/validation")
    assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]


def test_a_cursor_is_not_valid_for_another_sort(http: HttpClient) -> None:
    # Given a cursor from a list sorted by creation
    desk = Desk(http)
    desk.departments()
    for _ in range(3):
        desk.open("billing")
    first = listed(http, sort="created", limit=1)
    assert first.status == 200
    assert first.body["next_cursor"]
    # When it is used with the list sorted by last change
    answer = listed(http, sort="updated", limit=1, cursor=first.body["next_cursor"])
    # Then it is refused as a bad cursor, not a server error
    assert answer.status == 422, answer.body
    assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]


@pytest.mark.parametrize("limit", ["101", "0", "-1", "lots"])
def test_a_limit_outside_1_to_100_is_a_422(http: HttpClient, limit: str) -> None:
    answer = listed(http, limit=limit)
    assert answer.status == 422, answer.body
    assert [e["field"] for e in answer.body["errors"]] == ["query.limit"]


def test_a_limit_of_100_is_accepted(http: HttpClient) -> None:
    desk = Desk(http)
    desk.departments()
    ticket = desk.open("billing")
    assert ids(listed(http, limit=100)) == [ticket.id]


# --- no Scan ------------------------------------------------------------------------------------


def test_no_request_reads_the_tables_with_a_scan(
    http: HttpClient, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given tickets with a contact, SLA state and due times, an assignee and messages
    desk = Desk(http)
    desk.departments()
    billing = desk.open("billing", "high", ("vip",))
    other = desk.open("billing")
    desk.open("technical")
    desk.open(None)
    desk.change(billing, assignee=ALICE[0])
    delivery.run()
    publish(
        delivery,
        ContactLinked(ticket_id=billing.id, contact_id="contact-1"),
        sla_event(SlaWarning, other),
        SlaDueTimesChanged(
            ticket_id=billing.id,
            first_response_due_at=isoformat(DUE),
            resolution_due_at=isoformat(DUE + timedelta(days=1)),
        ),
    )
    # And every DynamoDB operation from now on recorded
    operations: list[str] = []
    real_call = BaseClient._make_api_call  # type: ignore[attr-defined]

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            operations.append(operation_name)
        return real_call(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    # When lists, reads and writes are requested, by an admin and by an agent
    queries: list[dict[str, Any]] = [
        {},
        {"status": ["open", "in_progress"]},
        {"priority": "high"},
        {"department_id": "billing"},
        {"department_id": "none"},
        {"assignee": "me"},
        {"assignee": "none"},
        {"assignee": ALICE[0]},
        {"contact_id": "contact-1", "sort": "created"},
        {"sla": "at_risk"},
        {"tag": "vip"},
        {"sort": "created"},
        {"sort": "sla_due"},
        {"department_id": "billing", "status": "open", "priority": "high", "tag": "vip"},
    ]
    for who in (ADMIN, ALICE):
        for query in queries:
            assert listed(http, who, **query).status == 200, query
        first = listed(http, who, limit=1)
        assert first.body["next_cursor"], "a second page should exist"
        assert listed(http, who, limit=1, cursor=first.body["next_cursor"]).status == 200
        for path in (
            f"/tickets/{billing.id}",
            f"/tickets/{billing.number}",
            f"/tickets/{billing.id}/messages",
            f"/tickets/{billing.number}/messages",
            f"/tickets/{billing.id}/history",
            "/departments/billing/counts",
            "/departments",
            "/departments/billing",
        ):
            assert http.call("GET", path, as_=who).status == 200, path
    patched = http.call("PATCH", f"/tickets/{billing.id}", {"status": "in_progress"}, as_=ALICE)
    replied = http.call(
        "POST", f"/tickets/{billing.id}/messages", {"body": "Done.", "visibility": "public"}
    )
    noted = http.call(
        "POST",
        f"/tickets/{other.number}/messages",
        {"body": "Note.", "visibility": "internal"},
        as_=ALICE,
    )
    opened = http.call(
        "POST",
        "/tickets",
        {
            "subject": "s",
            "body": "b",
            "requester": {"email": "c@x.org"},
            "department_id": "billing",
        },
        as_=ALICE,
    )
    assert (patched.status, replied.status, noted.status, opened.status) == (200, 201, 201, 201)
    # Then the recorder saw the reads, and none of them was a Scan
    assert "Query" in operations
    assert "TransactWriteItems" in operations
    assert "Scan" not in operations
