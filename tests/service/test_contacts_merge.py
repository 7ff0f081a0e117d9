"""Merging two contacts at the API: their tickets moving to the survivor here and in the tickets
service, the pointer (308) the merged-away id answers with, and the refusals. The rules that
combine them run on the in-memory fakes (tests/unit/test_contacts_logic.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    ADMIN,
    AGENT,
    create,
    find,
    get,
    publish,
    ticket_created,
    tickets,
)

pytestmark = pytest.mark.service


def _merge(http: HttpClient, merged: str, into: str) -> dict[str, Any]:
    return http.expect(200, "POST", f"/contacts/{merged}/merge", {"into": into}, as_=ADMIN)  # type: ignore[no-any-return]


def test_the_merged_away_id_points_at_the_survivor(http: HttpClient) -> None:
    survivor = create(http, name="Dana Scully")
    merged = create(http, name="Dana S.")
    _merge(http, merged["id"], survivor["id"])
    for path in (f"/contacts/{merged['id']}", f"/contacts/{merged['id']}/tickets"):
        answer = http.call("GET", path, as_=AGENT)
        assert answer.status == 308, answer.body
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.body["type"].endswith("/contact-merged")
        assert answer.body["merged_into"] == survivor["id"]
        assert answer.body["location"] == f"/contacts/{survivor['id']}"
    # And it cannot be changed, nor merged again
    assert http.call("PATCH", f"/contacts/{merged['id']}", {"notes": "x"}).status == 308
    again = http.call("POST", f"/contacts/{merged['id']}/merge", {"into": survivor["id"]})
    assert again.status == 308, again.body


def test_tickets_move_to_the_survivor_here_and_in_the_tickets_service(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given two contacts, each with a ticket of their own, linked by the tickets service
    for email in ("eve@client.example.org", "eve.b@client.example.org"):
        new_ticket = {
            "subject": f"From {email}",
            "body": "Hello",
            "priority": "low",
            "requester": {"email": email, "name": "Eve"},
        }
        http.expect(201, "POST", "/tickets", new_ticket)
    delivery.run()
    [eve] = find(http, "email=eve@client.example.org")
    [other] = find(http, "email=eve.b@client.example.org")
    # When the second is merged into the first and the events are delivered
    _merge(http, other["id"], eve["id"])
    delivery.run()
    # Then the survivor lists both tickets
    subjects = sorted(t["subject"] for t in tickets(http, eve["id"])["items"])
    assert subjects == ["From eve.b@client.example.org", "From eve@client.example.org"]
    # And the tickets service filed both under the survivor, none under the merged-away id
    listed = http.expect(200, "GET", f"/tickets?contact_id={eve['id']}&sort=created")["items"]
    assert len(listed) == 2
    assert http.expect(200, "GET", f"/tickets?contact_id={other['id']}&sort=created")["items"] == []
    # And a new ticket from the merged-away address goes to the survivor
    publish(delivery, ticket_created("eve.b@client.example.org", number=7))
    assert len(tickets(http, eve["id"])["items"]) == 3


@pytest.mark.parametrize(
    ("into", "status", "field"), [("self", 422, "into"), ("missing", 404, None)]
)
def test_a_merge_into_itself_or_nowhere_is_refused(
    http: HttpClient, into: str, status: int, field: str | None
) -> None:
    dana = create(http, name="Dana Scully")
    target = dana["id"] if into == "self" else "no-such-contact"
    answer = http.call("POST", f"/contacts/{dana['id']}/merge", {"into": target})
    assert answer.status == status, answer.body
    assert [e["field"] for e in answer.body.get("errors", [])] == ([field] if field else [])
    assert get(http, dana["id"]) == dana
