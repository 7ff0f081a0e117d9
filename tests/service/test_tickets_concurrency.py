"""Concurrency: tickets opened at once get unique numbers without gaps, concurrent changes lose
no update, and a stale version (If-Match or body) changes nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.change_ticket import ExpectedVersion, TicketPatch, change_ticket
from services.tickets.logic.find_ticket import find_ticket
from services.tickets.logic.open_ticket import OpenTicket, open_ticket
from services.tickets.logic.ticket import Author, Ticket
from shared.errors import PreconditionFailed
from shared.events.catalogue import Person
from shared.identity import Caller
from tests.conftest import Answer, HttpClient

pytestmark = pytest.mark.service

ADMIN = Caller(email="admin@example.com", role="admin")
THREADS = 20
NEW_TICKET = {
    "subject": "Invoice missing",
    "body": "I did not get my invoice.",
    "priority": "medium",
    "requester": {"email": "client@example.org", "name": "Client"},
}


def _open(number: int) -> Ticket:
    return open_ticket(
        OpenTicket(
            subject=f"Parallel {number}",
            body="Opened alongside many others.",
            requester=Person(email=f"client{number}@example.org"),
            author=Author(type="agent", email=ADMIN.email),
        ),
        ADMIN,
        dependencies(),
    )


def _all_pages(http: HttpClient, query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(10):
        page = http.call("GET", f"/tickets?{query}&limit=100{cursor}")
        assert page.status == 200, page.body
        items += page.body["items"]
        if page.body["next_cursor"] is None:
            return items
        cursor = f"&cursor={page.body['next_cursor']}"
    raise AssertionError("next_cursor never ran out")


def test_500_tickets_opened_by_20_threads_at_once_are_numbered_1_to_500(
    http: HttpClient,
) -> None:
    # Given 20 threads that start together, each opening 25 tickets
    start = threading.Barrier(THREADS)

    def worker(first: int) -> list[Ticket]:
        start.wait()
        return [_open(n) for n in range(first, first + 25)]

    # When they run at once
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        batches = list(pool.map(worker, range(0, 500, 25)))
    opened = [ticket for batch in batches for ticket in batch]
    # Then every ticket got its own number, TKT-0001 to TKT-0500 with no gap
    assert len(opened) == 500
    assert sorted(t.number for t in opened) == [f"TKT-{n:04d}" for n in range(1, 501)]
    assert len({t.id for t in opened}) == 500
    # And all 500 are stored: listed once each, counted, and found by number
    listed = _all_pages(http, "department_id=none&status=open")
    assert sorted(t["id"] for t in listed) == sorted(t.id for t in opened)
    counts = http.call("GET", "/departments/none/counts")
    assert counts.status == 200, counts.body
    assert counts.body["open"] == 500
    by_number = {t.number: t.id for t in opened}
    for number in ("TKT-0001", "TKT-0250", "TKT-0500"):
        found = http.call("GET", f"/tickets/{number}")
        assert found.status == 200, found.body
        assert found.body["id"] == by_number[number]


def test_20_concurrent_read_then_write_updates_lose_no_update(http: HttpClient) -> None:
    # Given one ticket, and 20 threads that each add their own tag by read, then If-Match write
    created = http.call("POST", "/tickets", NEW_TICKET)
    assert created.status == 201, created.body
    ticket_id = created.body["id"]
    tags = [f"tag-{n:02d}" for n in range(THREADS)]
    everyone_read = threading.Barrier(THREADS)

    def add(tag: str) -> int:
        """Add `tag`, retrying on a stale version; how many attempts it took."""
        deps = dependencies()
        for attempt in range(1, 200):
            current = find_ticket(ticket_id, ADMIN, deps)
            if attempt == 1:
                everyone_read.wait()  # all 20 hold version 1 before anyone writes
            patch = TicketPatch(tags=[*current.tags, tag])
            try:
                change_ticket(
                    ticket_id, patch, ExpectedVersion(current.version, "if-match"), ADMIN, deps
                )
            except PreconditionFailed:
                continue
            return attempt
        raise AssertionError(f"{tag} never got written")

    # When they all write at once
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        attempts = list(pool.map(add, tags))
    # Then only one of the first round won, the others were told their version was stale
    assert attempts.count(1) == 1
    assert sum(attempts) >= 2 * THREADS - 1
    # And every tag is on the ticket: 20 successful writes, version 1 + 20
    after = http.call("GET", f"/tickets/{ticket_id}")
    assert sorted(after.body["tags"]) == tags
    assert after.body["version"] == 1 + THREADS
    assert after.headers["ETag"] == f'"{1 + THREADS}"'
    # And the history has one entry per successful write, each adding exactly one tag
    history = http.call("GET", f"/tickets/{ticket_id}/history?limit=200")
    assert history.status == 200, history.body
    tag_changes = [e for e in history.body["items"] if e["field"] == "tags"]
    assert len(tag_changes) == THREADS
    added = []
    for entry in tag_changes:
        old, new = set(entry["old"] or []), set(entry["new"])
        assert old < new, entry
        assert len(new - old) == 1, entry
        added += list(new - old)
    assert sorted(added) == tags


def _state(http: HttpClient, ticket_id: str) -> tuple[Answer, Answer, Answer]:
    return (
        http.call("GET", f"/tickets/{ticket_id}"),
        http.call("GET", f"/tickets/{ticket_id}/history"),
        http.call("GET", "/departments/none/counts"),
    )


def _changed_once(http: HttpClient) -> str:
    """A ticket at version 2: someone changed it after it was read at version 1."""
    created = http.call("POST", "/tickets", NEW_TICKET)
    assert created.status == 201, created.body
    assert created.headers["ETag"] == '"1"'
    ticket_id: str = created.body["id"]
    changed = http.call(
        "PATCH", f"/tickets/{ticket_id}", {"priority": "high"}, headers={"If-Match": '"1"'}
    )
    assert changed.status == 200, changed.body
    assert changed.headers["ETag"] == '"2"'
    return ticket_id


@pytest.mark.parametrize("stale", ['"1"', 'W/"1"', "1"])
def test_a_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    http: HttpClient, stale: str
) -> None:
    # Given a ticket changed since the caller read version 1
    ticket_id = _changed_once(http)
    before = _state(http, ticket_id)
    # When the caller patches with the ETag they read
    answer = http.call(
        "PATCH", f"/tickets/{ticket_id}", {"status": "resolved"}, headers={"If-Match": stale}
    )
    # Then it is refused as a failed precondition
    assert answer.status == 412, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith("/precondition-failed")
    # And nothing changed: the ticket, its history and the queue counts are as they were
    after = _state(http, ticket_id)
    assert [a.body for a in after] == [b.body for b in before]
    assert after[0].body["status"] == "open"
    assert after[0].headers["ETag"] == '"2"'
    # And with the current ETag the same change goes through
    current = http.call(
        "PATCH", f"/tickets/{ticket_id}", {"status": "resolved"}, headers={"If-Match": '"2"'}
    )
    assert current.status == 200, current.body
    assert current.body["status"] == "resolved"


def test_a_patch_with_a_stale_body_version_is_409_and_changes_nothing(http: HttpClient) -> None:
    # Given a ticket changed since the caller read version 1
    ticket_id = _changed_once(http)
    before = _state(http, ticket_id)
    # When the caller sends the version they read in the body
    answer = http.call("PATCH", f"/tickets/{ticket_id}", {"status": "resolved", "version": 1})
    # Then it is a conflict, and nothing changed
    assert answer.status == 409, answer.body
    assert answer.body["type"].endswith("/conflict")
    after = _state(http, ticket_id)
    assert [a.body for a in after] == [b.body for b in before]
    # And with the current version it goes through
    current = http.call("PATCH", f"/tickets/{ticket_id}", {"status": "resolved", "version": 2})
    assert current.status == 200, current.body
    assert current.body["version"] == 3


@pytest.mark.parametrize("header", ["abc", '"one"', '""', "-2", 'W/"x"'])
def test_a_malformed_if_match_is_422_and_changes_nothing(http: HttpClient, header: str) -> None:
    # Given a ticket at version 2
    ticket_id = _changed_once(http)
    before = _state(http, ticket_id)
    # When a patch carries an If-Match that is not an ETag this API gives out
    answer = http.call(
        "PATCH", f"/tickets/{ticket_id}", {"status": "resolved"}, headers={"If-Match": header}
    )
    # Then it is refused naming the header, and nothing changed
    assert answer.status == 422, answer.body
    assert answer.body["type"].endswith("/validation")
    assert [e["field"] for e in answer.body["errors"]] == ["header.If-Match"]
    after = _state(http, ticket_id)
    assert [a.body for a in after] == [b.body for b in before]
