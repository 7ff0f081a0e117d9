"""`POST /tickets/bulk` through the HTTP API: each ticket answered as a single PATCH of it would be
(a hidden ticket exactly as a missing one), bad requests refused naming the field and changing
nothing, a retried Idempotency-Key changing nothing more and answering the same, events and
history per changed ticket as a single change writes them, and a bulk change racing single
changes of the same tickets. The rules themselves are held in
`tests/unit/test_tickets_bulk_logic.py`."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from services.tickets.data.tables import TicketsOutbox
from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.bulk_change import Changed, change_tickets
from services.tickets.logic.change_ticket import ExpectedVersion, TicketPatch, change_ticket
from services.tickets.logic.find_ticket import find_ticket
from shared.errors import PreconditionFailed
from shared.identity import Caller
from tests.conftest import Answer, HttpClient

pytestmark = pytest.mark.service

Who = tuple[str, str]
ADMIN: Who = ("admin@example.com", "admin")
ALICE: Who = ("alice@example.com", "agent")  # Billing
BOB: Who = ("bob@example.com", "agent")  # Technical
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
UNKNOWN_NUMBER = "TKT-9999"
NEW_TICKET = {
    "subject": "Invoice twice",
    "body": "I was charged twice in March.",
    "requester": {"email": "client@example.org", "name": "Client"},
}


def _departments(http: HttpClient) -> None:
    for name, member in (("Billing", ALICE), ("Technical", BOB)):
        http.expect(201, "POST", "/departments", {"name": name})
        http.expect(200, "POST", f"/departments/{name.lower()}/members", {"email": member[0]})


def _open(http: HttpClient, department_id: str = "billing", **extra: Any) -> dict[str, Any]:
    body = {**NEW_TICKET, "department_id": department_id, **extra}
    return http.expect(201, "POST", "/tickets", body)  # type: ignore[no-any-return]


def _bulk(
    http: HttpClient,
    keys: list[str],
    changes: dict[str, Any],
    as_: Who | None = ADMIN,
    headers: dict[str, str] | None = None,
) -> Answer:
    body = {"ticket_ids": keys, "changes": changes}
    return http.call("POST", "/tickets/bulk", body, as_=as_, headers=headers)


def _items(answer: Answer) -> list[dict[str, Any]]:
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"] == "application/json"
    return answer.body["items"]  # type: ignore[no-any-return]


def _problem(answer: Answer) -> dict[str, Any]:
    """A single request's problem as a bulk answer carries it: without the path it was sent to."""
    assert answer.headers["Content-Type"] == "application/problem+json"
    return {k: v for k, v in answer.body.items() if k != "instance"}


def _get(http: HttpClient, key: str) -> dict[str, Any]:
    return http.expect(200, "GET", f"/tickets/{key}")  # type: ignore[no-any-return]


def _changes(http: HttpClient, ticket_id: str) -> list[tuple[str, Any, Any, str]]:
    items = http.expect(200, "GET", f"/tickets/{ticket_id}/history?limit=200")["items"]
    return sorted(
        (e["field"], e["old"], e["new"], e["actor"]) for e in items if e["field"] != "created"
    )


def _events(ticket_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The events written for the ticket (name, data), by time, those of one moment by name."""
    written = [(item.detail_type, json.loads(item.detail)) for item in TicketsOutbox.scan()]
    return [
        (name, detail["data"])
        for name, detail in sorted(written, key=lambda pair: (pair[1]["occurred_at"], pair[0]))
        if detail["data"].get("ticket_id") == ticket_id
    ]


def _story(http: HttpClient, ticket_id: str) -> tuple[list[Any], list[Any]]:
    """What a change left behind, without what names the ticket or the moment."""
    own = ("ticket_id", "number", "updated_at", "changed_at", "assigned_at", "opened_at")
    events = [
        (name, {k: v for k, v in data.items() if k not in own})
        for name, data in _events(ticket_id)
        if name != "TicketCreated"
    ]
    return events, _changes(http, ticket_id)


# --- answers per ticket ---------------------------------------------------------------------------


def test_each_ticket_answers_as_a_single_patch_would_in_the_order_sent(
    http: HttpClient,
) -> None:
    # Given Billing tickets: two open, one closed; and a twin changed by a single PATCH
    _departments(http)
    first, by_number, closed, twin = (_open(http) for _ in range(4))
    closed = http.expect(200, "PATCH", f"/tickets/{closed['id']}", {"status": "closed"})
    changes = {"status": "in_progress", "priority": "high", "assignee": ALICE[0]}
    http.expect(200, "PATCH", f"/tickets/{twin['id']}", changes)
    # When they are changed in bulk with a ticket that does not exist
    keys = [first["id"], closed["id"], UNKNOWN_ID, by_number["number"]]
    items = _items(_bulk(http, keys, changes))
    # Then each ticket has its answer, in the order sent, named as sent
    assert [i["id"] for i in items] == keys
    assert [i["status"] for i in items] == [200, 409, 404, 200]
    # And the changed ones say their new version, which is theirs now
    for item, ticket in ((items[0], first), (items[3], by_number)):
        now = _get(http, ticket["id"])
        assert item == {
            "id": item["id"],
            "status": 200,
            "ticket_id": ticket["id"],
            "number": ticket["number"],
            "version": 2,
        }
        assert (now["version"], now["status"], now["priority"], now["assignee"]) == (
            2,
            "in_progress",
            "high",
            ALICE[0],
        )
        # With the events and history of a single change
        assert _story(http, ticket["id"]) == _story(http, twin["id"])
    assert [name for name, _ in _story(http, twin["id"])[0]] == [
        "TicketAssigned",
        "TicketStatusChanged",
        "TicketUpdated",
    ]
    # And the closed one is refused exactly as alone, and changed in nothing
    alone = http.call("PATCH", f"/tickets/{closed['id']}", changes)
    assert alone.status == 409
    assert items[1]["problem"] == _problem(alone)
    assert _get(http, closed["id"]) == closed
    # And the missing one is not found, exactly as alone
    assert items[2]["problem"] == _problem(http.call("PATCH", f"/tickets/{UNKNOWN_ID}", changes))


def test_an_agent_gets_for_other_departments_tickets_what_a_single_get_answers(
    http: HttpClient,
) -> None:
    # Given a Billing ticket and a Technical one
    _departments(http)
    billing, technical = _open(http, "billing"), _open(http, "technical")
    keys = [technical["id"], billing["id"], technical["number"], UNKNOWN_ID, UNKNOWN_NUMBER]
    technical_events = _events(technical["id"])
    # When Alice (Billing) changes them all
    items = _items(_bulk(http, keys, {"priority": "urgent", "tags_add": ["checked"]}, as_=ALICE))
    # Then each ticket she may not see, or that does not exist, answers as a GET of it alone
    for item in (items[0], items[2], items[3], items[4]):
        alone = http.call("GET", f"/tickets/{item['id']}", as_=ALICE)
        assert alone.status == 404
        assert item == {"id": item["id"], "status": 404, "problem": _problem(alone)}
    # And the hidden ticket did not change; hers did
    assert _get(http, technical["id"]) == technical
    assert _events(technical["id"]) == technical_events
    assert items[1]["status"] == 200
    assert _get(http, billing["id"])["tags"] == ["checked"]


def test_a_ticket_refusing_one_change_keeps_all_of_its_fields(http: HttpClient) -> None:
    # Given a Technical ticket and a Billing one
    _departments(http)
    technical, billing = _open(http, "technical"), _open(http, "billing")
    # When both are raised and given to Alice, who is in Billing only
    changes = {"priority": "urgent", "assignee": ALICE[0]}
    items = _items(_bulk(http, [technical["id"], billing["id"]], changes))
    # Then the Technical ticket is refused naming the assignee, as alone, and kept its priority
    alone = http.call("PATCH", f"/tickets/{technical['id']}", changes)
    assert alone.status == 422
    assert items[0] == {"id": technical["id"], "status": 422, "problem": _problem(alone)}
    assert [e["field"] for e in items[0]["problem"]["errors"]] == ["assignee"]
    assert _get(http, technical["id"]) == technical
    assert _changes(http, technical["id"]) == []
    # And the Billing ticket took both
    assert items[1]["version"] == 2
    assert _changes(http, billing["id"]) == [
        ("assignee", None, ALICE[0], ADMIN[0]),
        ("priority", "medium", "urgent", ADMIN[0]),
    ]


# --- bad requests ---------------------------------------------------------------------------------

CHANGES = {"priority": "low"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ticket_ids": [f"id-{n}" for n in range(101)], "changes": CHANGES}, "ticket_ids"),
        ({"ticket_ids": ["a", "b", "a"], "changes": CHANGES}, "ticket_ids"),
        ({"ticket_ids": ["TKT-0001", " TKT-0001 "], "changes": CHANGES}, "ticket_ids"),
        ({"ticket_ids": [], "changes": CHANGES}, "ticket_ids"),
        ({"ticket_ids": [""], "changes": CHANGES}, "ticket_ids.0"),
        ({"ticket_ids": ["x" * 101], "changes": CHANGES}, "ticket_ids.0"),
        ({"ticket_ids": "TKT-0001", "changes": CHANGES}, "ticket_ids"),
        ({"ticket_ids": ["TKT-0001"]}, "changes"),
        ({"ticket_ids": ["TKT-0001"], "changes": {}}, "changes"),
        ({"ticket_ids": ["TKT-0001"], "changes": {"tags_add": []}}, "changes"),
        ({"ticket_ids": ["TKT-0001"], "changes": {"status": "done"}}, "changes.status"),
        ({"ticket_ids": ["TKT-0001"], "changes": {"priority": "asap"}}, "changes.priority"),
        ({"ticket_ids": ["TKT-0001"], "changes": {"assignee": "alice"}}, "changes.assignee"),
        (
            {"ticket_ids": ["TKT-0001"], "changes": {"department_id": "A B"}},
            "changes.department_id",
        ),
        ({"ticket_ids": ["TKT-0001"], "changes": {"tags_add": ["a b"]}}, "changes.tags_add"),
        (
            {"ticket_ids": ["TKT-0001"], "changes": {"tags_add": ["x"], "tags_remove": ["x"]}},
            "changes.tags_remove",
        ),
        ({"ticket_ids": ["TKT-0001"], "changes": {"tags": ["x"]}}, "changes.tags"),
        ({"ticket_ids": ["TKT-0001"], "changes": {"version": 1}}, "changes.version"),
        ({"ticket_ids": ["TKT-0001"], "changes": CHANGES, "version": 1}, "version"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field_and_changes_nothing(
    http: HttpClient, body: dict[str, Any], field: str
) -> None:
    _departments(http)
    ticket = _open(http, "billing")
    assert ticket["number"] == "TKT-0001"
    answer = http.call("POST", "/tickets/bulk", body)
    assert answer.status == 422, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in answer.body["errors"]] == [field]
    assert _get(http, ticket["id"]) == ticket


def test_a_request_without_a_token_is_refused(http: HttpClient) -> None:
    _departments(http)
    ticket = _open(http, "billing")
    answer = _bulk(http, [ticket["id"]], CHANGES, as_=None)
    assert answer.status == 401
    assert _get(http, ticket["id"]) == ticket


# --- retries --------------------------------------------------------------------------------------


def test_a_retried_idempotency_key_changes_nothing_more_and_answers_the_same(
    http: HttpClient,
) -> None:
    # Given 100 tickets: 98 Billing, one closed, and one Technical; and Alice to change them
    _departments(http)
    tickets = [_open(http, "billing", tags=["old"]) for _ in range(98)]
    closed = _open(http, "billing")
    http.expect(200, "PATCH", f"/tickets/{closed['id']}", {"status": "closed"})
    hidden = _open(http, "technical")
    keys = [t["id"] for t in tickets] + [closed["number"], hidden["id"]]
    changes = {"status": "waiting_on_client", "tags_add": ["asked"], "tags_remove": ["old"]}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    # When Alice sends the bulk change, then again under the same key
    first = _bulk(http, keys, changes, as_=ALICE, headers=key)
    http.expect(200, "PATCH", f"/tickets/{tickets[0]['id']}", {"priority": "high"})
    again = _bulk(http, keys, changes, as_=ALICE, headers=key)
    # Then the second answer is the first, as kept (version 2 of the ticket since changed)
    items = _items(first)
    assert (again.status, again.body) == (first.status, first.body)
    assert items[0]["version"] == 2
    # And it is lean: far from the 400 KB the idempotency store may keep of one answer
    assert len(json.dumps(first.body)) < 32 * 1024
    assert Counter(i["status"] for i in items) == Counter({200: 98, 409: 1, 404: 1})
    # And each ticket changed once: one version more, one tags change in its history
    for ticket in tickets[1 :: len(tickets) // 7]:
        now = _get(http, ticket["id"])
        assert (now["version"], now["status"], now["tags"]) == (2, "waiting_on_client", ["asked"])
        assert [f for f, *_ in _changes(http, ticket["id"])] == ["status", "tags"]
    assert sum(name == "TicketUpdated" for name, _ in _events(tickets[1]["id"])) == 1
    # And the same key with other changes is refused naming it, changing nothing
    other = _bulk(http, keys, {"priority": "low"}, as_=ALICE, headers=key)
    assert other.status == 422, other.body
    assert [e["field"] for e in other.body["errors"]] == ["header.Idempotency-Key"]
    assert _get(http, tickets[1]["id"])["priority"] == "medium"


# --- racing single changes ------------------------------------------------------------------------


def test_a_bulk_change_racing_single_changes_leaves_each_ticket_consistent(
    http: HttpClient,
) -> None:
    # Given 20 Billing tickets
    _departments(http)
    ids = [_open(http, "billing")["id"] for _ in range(20)]
    admin, alice = Caller(*ADMIN), Caller(*ALICE)
    start = threading.Barrier(2)

    def single(ticket_id: str) -> int:
        """Alice's PATCH with If-Match of what she read, read again while stale; the tries."""
        deps = dependencies()
        for attempt in range(1, 50):
            current = find_ticket(ticket_id, alice, deps)
            patch = TicketPatch(status="in_progress", tags=[*current.tags, "single"])
            expected = ExpectedVersion(current.version, "if-match")
            try:
                change_ticket(ticket_id, patch, expected, alice, deps)
            except PreconditionFailed:
                continue
            return attempt
        raise AssertionError(f"{ticket_id} was never changed alone")

    def singles() -> list[int]:
        start.wait()
        return [single(ticket_id) for ticket_id in ids]

    def in_bulk() -> list[Any]:
        start.wait()
        patch = TicketPatch(priority="urgent", tags_add=frozenset({"bulk"}))
        return change_tickets(ids, patch, admin, dependencies())

    # When an admin's bulk change and Alice's single changes of the same tickets run at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        racing_singles, racing_bulk = pool.submit(singles), pool.submit(in_bulk)
        outcomes = racing_bulk.result()
        racing_singles.result()
    # Then every ticket took both changes, whichever came first, and neither lost the other's
    assert all(isinstance(outcome, Changed) for outcome in outcomes)
    for ticket_id in ids:
        now = _get(http, ticket_id)
        assert (now["status"], now["priority"], now["tags"]) == (
            "in_progress",
            "urgent",
            ["bulk", "single"],
        )
        # And its version moved by one per change: 1, then 2 and 3, each announced once
        assert now["version"] == 3
        updates = [data for name, data in _events(ticket_id) if name == "TicketUpdated"]
        assert sorted(u["version"] for u in updates) == [2, 3]
