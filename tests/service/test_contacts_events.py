"""The contacts service's events on a bus that is down when a merge happens: the outbox delivers
them once it is back. What each change announces is held on the in-memory fakes
(tests/unit/test_contacts_logic.py)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.events.publisher import EventBridgePublisher
from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    find,
    publish,
    ticket_created,
    tickets,
)

pytestmark = pytest.mark.service


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
