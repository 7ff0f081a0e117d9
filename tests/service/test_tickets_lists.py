"""Ticket lists: every filter, every sort, paging that returns each ticket once and in order,
and no request path that reads the tickets table with a Scan."""

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
    SlaBreached,
    SlaDueTimesChanged,
    SlaMet,
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
PRIORITIES = ("low", "medium", "high", "urgent")
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


def every_page(http: HttpClient, query: dict[str, Any], limit: int, as_: Who = ADMIN) -> list[str]:
    """Follow next_cursor to the end: only the last page may be short, no ticket shows twice."""
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(200):
        page = listed(http, as_, **query, limit=limit, **({"cursor": cursor} if cursor else {}))
        items = ids(page)
        cursor = page.body["next_cursor"]
        assert len(items) <= limit
        if cursor is not None:
            assert len(items) == limit, "a page with a next_cursor should be full"
        again = set(items) & set(seen)
        assert not again, f"tickets shown again on a later page: {sorted(again)}"
        seen += items
        if cursor is None:
            return seen
    raise AssertionError("next_cursor never ran out")


def publish(delivery: Delivery, *events: EventData) -> None:
    """Put events on the bus as their owning service would, and deliver them."""
    now = datetime.now(UTC)
    assert bus_publisher().publish([OutgoingEvent.of(event, now) for event in events]) == []
    delivery.run()


def sla_event(
    kind: type[SlaTargetEvent], ticket: Known, target: str = "first_response"
) -> EventData:
    return kind(ticket_id=ticket.id, target=target, due_at=isoformat(DUE), at=isoformat(DUE))


def thirty_tickets(desk: Desk) -> None:
    """Twelve Billing, twelve Technical and six department-less tickets in every status, some
    assigned, changed in an order unlike the order they were opened in."""
    desk.departments()
    opened = []
    for i in range(30):
        department = ("billing", "billing", "technical", "technical", None)[i % 5]
        tags = ("vip",) if i % 3 == 0 else ()
        opened.append(desk.open(department, PRIORITIES[i % 4], tags))
    for step in range(30):
        ticket = opened[(step * 7) % 30]
        i = opened.index(ticket)
        status = STATUSES[(i // 2) % 5]
        patch: dict[str, Any] = {} if status == "open" else {"status": status}
        if ticket.department_id == "billing" and i % 4 == 0:
            patch["assignee"] = ALICE[0]
        if ticket.department_id == "technical" and i % 4 == 1:
            patch["assignee"] = BOB[0]
        if patch:
            desk.change(ticket, **patch)


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


def test_priority_and_tag_filters_keep_only_matching_tickets(http: HttpClient) -> None:
    # Given tickets of several priorities and tags, in two departments and none
    desk = Desk(http)
    desk.departments()
    desk.open("billing", "high", ("vip",))
    desk.open("technical", "high")
    desk.open(None, "low", ("vip", "refund"))
    desk.open("billing", "urgent", ("refund",))
    retagged = desk.open("technical", "low")
    desk.change(retagged, tags=["vip"])
    # When the list is filtered by priority, by tag and by both
    high = listed(http, priority="high")
    vip = listed(http, tag="vip")
    low_vip = listed(http, priority="low", tag="vip")
    nothing = listed(http, priority="medium")
    # Then only the matching tickets show, most recently changed first
    assert ids(high) == desk.expected(lambda t: t.priority == "high")
    assert len(ids(high)) == 2
    assert ids(vip) == desk.expected(lambda t: "vip" in t.tags)
    assert ids(vip)[0] == retagged.id  # tagged last, so changed most recently
    assert ids(low_vip) == desk.expected(lambda t: t.priority == "low" and "vip" in t.tags)
    assert len(ids(low_vip)) == 2
    assert ids(nothing) == []
    assert all(t["priority"] == "high" for t in high.body["items"])


def test_the_department_filter_and_none_which_only_admins_see(http: HttpClient) -> None:
    # Given tickets in Billing, in Technical and without a department, in several statuses
    desk = Desk(http)
    desk.departments()
    billing = [desk.open("billing") for _ in range(3)]
    technical = [desk.open("technical") for _ in range(2)]
    loose = [desk.open(None) for _ in range(2)]
    desk.change(billing[0], status="in_progress")
    desk.change(technical[1], status="closed")
    desk.change(loose[0], status="waiting_on_client")
    # When an admin filters by department
    in_billing = listed(http, department_id="billing")
    in_technical = listed(http, department_id="technical")
    without = listed(http, department_id="none")
    # Then each list holds that department's tickets, whatever their status
    assert ids(in_billing) == desk.expected(lambda t: t.department_id == "billing")
    assert len(ids(in_billing)) == 3
    assert ids(in_technical) == desk.expected(lambda t: t.department_id == "technical")
    assert ids(without) == desk.expected(lambda t: t.department_id is None)
    assert len(ids(without)) == 2
    assert {t["department_id"] for t in without.body["items"]} == {None}
    # And an agent sees only their own departments: never another's, never department-less ones
    assert ids(listed(http, ALICE)) == desk.expected(lambda t: t.department_id == "billing")
    assert ids(listed(http, ALICE, department_id="billing")) == ids(in_billing)
    assert ids(listed(http, ALICE, department_id="none")) == []
    assert ids(listed(http, ALICE, department_id="technical")) == []
    assert ids(listed(http, BOB)) == ids(in_technical)


def test_the_assignee_filter_for_me_none_and_an_agent(http: HttpClient) -> None:
    # Given tickets assigned to Alice (Billing) and Bob (Technical), and unassigned ones
    desk = Desk(http)
    desk.departments()
    b1, b2, b3 = (desk.open("billing") for _ in range(3))
    t1, t2 = (desk.open("technical") for _ in range(2))
    loose = desk.open(None)
    desk.change(b1, assignee=ALICE[0])
    desk.change(t1, assignee=BOB[0])
    desk.change(b3, assignee=ALICE[0], status="in_progress")
    desk.change(b1, status="waiting_on_client")
    # When each asks for their own tickets, the unassigned ones, or someone's
    alice_mine = listed(http, ALICE, assignee="me")
    bob_mine = listed(http, BOB, assignee="me")
    admin_alices = listed(http, assignee="Alice@Example.com")
    admin_unassigned = listed(http, assignee="none")
    alice_unassigned = listed(http, ALICE, assignee="none")
    alice_bobs = listed(http, ALICE, assignee=BOB[0])
    # Then "me" is the caller's tickets in every status, most recently changed first
    assert ids(alice_mine) == [b1.id, b3.id]
    assert ids(bob_mine) == [t1.id]
    assert ids(admin_alices) == [b1.id, b3.id]
    assert {t["assignee"] for t in alice_mine.body["items"]} == {ALICE[0]}
    # And "none" is the unassigned tickets the caller may see
    assert ids(admin_unassigned) == desk.expected(lambda t: t.assignee is None)
    assert set(ids(admin_unassigned)) == {b2.id, t2.id, loose.id}
    assert ids(alice_unassigned) == [b2.id]
    # And an agent never sees tickets of departments they do not belong to
    assert ids(alice_bobs) == []


def test_the_contact_filter_shows_the_tickets_linked_to_a_contact(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given tickets in two departments, whose requesters the contacts service linked to contacts
    desk = Desk(http)
    desk.departments()
    first = desk.open("billing")
    second = desk.open("technical")
    other = desk.open("billing")
    unlinked = desk.open("billing")
    delivery.run()  # whatever the other services make of the new tickets, first
    publish(
        delivery,
        ContactLinked(ticket_id=first.id, contact_id="contact-1"),
        ContactLinked(ticket_id=second.id, contact_id="contact-1"),
        ContactLinked(ticket_id=other.id, contact_id="contact-2"),
    )
    # When the list is filtered by contact (newest ticket first)
    admin = listed(http, contact_id="contact-1", sort="created")
    alice = listed(http, ALICE, contact_id="contact-1", sort="created")
    open_only = listed(http, contact_id="contact-2", status="open", sort="created")
    # Then it shows that contact's tickets only, and an agent only those of their departments
    assert ids(admin) == [second.id, first.id]
    assert {t["contact_id"] for t in admin.body["items"]} == {"contact-1"}
    assert ids(alice) == [first.id]
    assert ids(open_only) == [other.id]
    assert unlinked.id not in ids(admin) + ids(open_only)
    assert ids(listed(http, contact_id="contact-9", sort="created")) == []


def test_the_sla_filter_shows_tickets_by_their_sla_state(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given tickets whose targets the SLA service reported on
    desk = Desk(http)
    desk.departments()
    warned, breached, worst, met, quiet = (desk.open("billing") for _ in range(5))
    delivery.run()
    publish(
        delivery,
        sla_event(SlaWarning, warned),
        sla_event(SlaBreached, breached),
        sla_event(SlaWarning, worst),
        sla_event(SlaMet, met, target="resolution"),
    )
    publish(delivery, sla_event(SlaBreached, worst))
    # When the list is filtered by SLA state
    at_risk = listed(http, sla="at_risk")
    past_due = listed(http, sla="breached")
    done = listed(http, sla="met")
    # Then each state shows its tickets
    assert ids(at_risk) == [warned.id]
    assert set(ids(past_due)) == {breached.id, worst.id}
    assert ids(done) == [met.id]
    assert {t["sla"]["state"] for t in past_due.body["items"]} == {"breached"}
    assert quiet.id not in ids(at_risk) + ids(past_due) + ids(done)
    # And they are still most recently changed first
    updated = [datetime.fromisoformat(t["updated_at"]) for t in past_due.body["items"]]
    assert updated == sorted(updated, reverse=True)


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


# --- sorting ------------------------------------------------------------------------------------


def test_lists_sort_by_last_change_or_by_creation_newest_first(http: HttpClient) -> None:
    # Given four tickets, two of them changed after all were opened
    desk = Desk(http)
    desk.departments()
    t1, t2, t3, t4 = (desk.open(department) for department in ("billing", None) * 2)
    desk.change(t2, priority="high")
    desk.change(t1, status="in_progress")
    # When the list is sorted by update (the default) and by creation
    by_update = listed(http)
    explicit = listed(http, sort="updated")
    by_creation = listed(http, sort="created")
    # Then the last changed comes first, or the last opened
    assert ids(by_update) == ids(explicit) == [t1.id, t2.id, t4.id, t3.id]
    assert ids(by_creation) == [t4.id, t3.id, t2.id, t1.id]
    numbers = [t["number"] for t in by_creation.body["items"]]
    assert numbers == ["TKT-0004", "TKT-0003", "TKT-0002", "TKT-0001"]


def test_lists_sort_by_sla_due_time_soonest_first(http: HttpClient, delivery: Delivery) -> None:
    # Given tickets whose due times the SLA service announced, one already answered
    desk = Desk(http)
    desk.departments()
    later, soonest, second, answered = (desk.open("billing") for _ in range(4))
    reply = http.call(
        "POST", f"/tickets/{answered.id}/messages", {"body": "On it.", "visibility": "public"}
    )
    assert reply.status == 201, reply.body
    delivery.run()

    def due(ticket: Known, first: float, resolution: float) -> SlaDueTimesChanged:
        return SlaDueTimesChanged(
            ticket_id=ticket.id,
            first_response_due_at=isoformat(DUE + timedelta(hours=first)),
            resolution_due_at=isoformat(DUE + timedelta(hours=resolution)),
            sequence=1000,  # newer than what the SLA service announced when they opened
        )

    publish(
        delivery,
        due(later, 3, 24),
        due(soonest, 1, 24),
        due(second, 2, 24),
        # answered: the first response is done, so its resolution target is what matters
        due(answered, 0.5, 5),
    )
    # When the list is sorted by SLA due time
    answer = listed(http, sort="sla_due")
    # Then the soonest due comes first, the answered ticket by its resolution due time
    assert ids(answer) == [soonest.id, second.id, later.id, answered.id]
    first_due = answer.body["items"][0]["sla"]["first_response_due_at"]
    assert datetime.fromisoformat(first_due) == DUE + timedelta(hours=1)
    # And paging one at a time gives the same order
    assert every_page(http, {"sort": "sla_due"}, 1) == ids(answer)


# --- paging -------------------------------------------------------------------------------------


def test_paging_through_one_queue_returns_every_ticket_once_in_order(http: HttpClient) -> None:
    # Given fifteen open Billing tickets (one queue), some changed out of order
    desk = Desk(http)
    desk.departments()
    opened = [desk.open("billing", PRIORITIES[i % 4]) for i in range(15)]
    for i in (2, 9, 0, 5):  # none of them urgent yet
        desk.change(opened[i], priority="urgent")
    query = {"department_id": "billing", "status": "open"}
    in_queue = desk.expected()
    assert len(in_queue) == 15
    # When the pages are followed to the end, at several page sizes and both sorts
    for limit in (1, 4, 7, 15, 100):
        # Then each ticket shows exactly once, in the order of the whole list
        assert every_page(http, query, limit) == in_queue, limit
        created = every_page(http, {**query, "sort": "created"}, limit)
        assert created == desk.expected(sort="created"), limit
    # And a filter applied while paging still returns every match once
    urgent = desk.expected(lambda t: t.priority == "urgent")
    assert len(urgent) >= 4
    assert every_page(http, {**query, "priority": "urgent"}, 2) == urgent


def test_paging_an_admins_view_of_every_department_merges_them_in_order(
    http: HttpClient,
) -> None:
    # Given thirty tickets in two departments and none, in every status, some assigned
    desk = Desk(http)
    thirty_tickets(desk)
    assert len({t.status for t in desk.tickets.values()}) == 5
    # When an admin pages through every department at several page sizes
    for limit in (1, 4, 7, 29, 30, 100):
        # Then every ticket shows once, most recently changed first, across all the queues
        assert every_page(http, {}, limit) == desk.expected(), limit
    for limit in (3, 8):
        created = every_page(http, {"sort": "created"}, limit)
        assert created == desk.expected(sort="created"), limit
    # And filters spanning several queues page just as well
    some = every_page(http, {"status": ["open", "closed"], "priority": "high"}, 2)
    assert some == desk.expected(lambda t: t.status in ("open", "closed") and t.priority == "high")
    unassigned = every_page(http, {"assignee": "none"}, 3)
    assert unassigned == desk.expected(lambda t: t.assignee is None)
    # And an agent's pages hold exactly their department's tickets
    alice = every_page(http, {}, 4, as_=ALICE)
    assert alice == desk.expected(lambda t: t.department_id == "billing")
    assert len(alice) == 12
    # And the pages hold no duplicates and miss nothing
    everything = every_page(http, {}, 6)
    assert len(everything) == len(set(everything)) == 30


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
