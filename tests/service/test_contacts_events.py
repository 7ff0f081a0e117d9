"""What the contacts service announces: each change once, with the contact as it stands;
nothing for a refused change; no personal data in an erasure; and a merge whose events survive
a bus that is down when it happens."""

from __future__ import annotations

from typing import Any

import pytest

from shared.events.publisher import EventBridgePublisher
from tests.conftest import Delivery, HttpClient
from tests.service import test_tickets_events
from tests.service.test_contacts_support import (
    AGENT,
    create,
    find,
    publish,
    ticket_created,
    tickets,
)
from tests.service.test_tickets_events import BusTap

pytestmark = pytest.mark.service

CONTACTS = "helpdesk.contacts"
tap = test_tickets_events.tap  # the fixture that reads every event on the bus


def _announced(tap: BusTap, detail_type: str) -> list[dict[str, Any]]:
    tap.drain()
    return [
        event["detail"]["data"]
        for event in tap.events
        if event["source"] == CONTACTS and event["detail-type"] == detail_type
    ]


def test_a_contact_created_by_hand_is_announced_once_as_it_stands(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    dana = create(
        http, name="Dana Scully", emails=["Dana@client.example.org"], phone="+12025550143"
    )
    delivery.run()
    [created] = _announced(tap, "ContactCreated")
    assert created["contact_id"] == dana["id"]
    assert created["emails"] == ["dana@client.example.org"]
    assert (created["phone"], created["actor"], created["version"]) == (
        "+12025550143",
        AGENT[0],
        1,
    )


def test_a_refused_change_announces_nothing(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    create(http, name="Dana Scully", emails=["dana@client.example.org"])
    fox = create(http, name="Fox Mulder")
    delivery.run()
    tap.clear()
    assert http.call("POST", "/contacts", {"emails": ["DANA@client.example.org"]}).status == 409
    patch = {"emails": ["dana@client.example.org"]}
    assert http.call("PATCH", f"/contacts/{fox['id']}", patch).status == 409
    delivery.run()
    assert [e for e in tap.drain() if e["source"] == CONTACTS] == []


def test_a_new_requester_is_announced_created_and_linked_once(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    created = ticket_created("eve@client.example.org", "Eve")
    publish(delivery, created)
    publish(delivery, created)  # the same ticket announced again
    [contact] = _announced(tap, "ContactCreated")
    assert (contact["actor"], contact["name"]) == ("system", "Eve")
    assert _announced(tap, "ContactLinked") == [
        {"ticket_id": created.ticket_id, "contact_id": contact["contact_id"]}
    ]


def test_an_erasure_is_announced_without_personal_data(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    gina = create(http, name="Gina Linetti", emails=["gina@client.example.org"])
    http.expect(204, "DELETE", f"/contacts/{gina['id']}")
    delivery.run()
    [erased] = _announced(tap, "ContactErased")
    assert erased["contact_id"] == gina["id"]
    assert "gina" not in str(erased).lower()


def test_a_merge_made_while_the_bus_is_down_still_moves_the_tickets(
    http: HttpClient, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two contacts with a ticket each
    publish(
        delivery,
        ticket_created("kim@client.example.org", number=1),
        ticket_created("kim.w@client.example.org", number=2),
    )
    [kim], [other] = find(http, "email=kim@client.example.org"), find(http, "q=kim.w")
    # And a bus that refuses every event (the process "dies" between the write and the publish)
    real_publish = EventBridgePublisher.publish

    def refuse(self: EventBridgePublisher, events: Any) -> Any:
        raise ConnectionError("bus unreachable")

    monkeypatch.setattr(EventBridgePublisher, "publish", refuse)
    # When they are merged
    http.expect(200, "POST", f"/contacts/{other['id']}/merge", {"into": kim["id"]})
    delivery.run()
    # Then the merge stands, but the tickets have not moved yet
    assert http.call("GET", f"/contacts/{other['id']}").status == 308
    assert len(tickets(http, kim["id"])["items"]) == 1
    # When the bus is back, the stream delivers the outbox record again
    monkeypatch.setattr(EventBridgePublisher, "publish", real_publish)
    delivery.run()
    # Then both tickets are the survivor's
    assert sorted(t["number"] for t in tickets(http, kim["id"])["items"]) == [
        "TKT-0001",
        "TKT-0002",
    ]
