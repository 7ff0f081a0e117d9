"""A reply's mail that comes back for good flags the address on its contact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from local_stack.mail import SIMULATED_BOUNCE
from shared.events.catalogue import EmailBounced, RecipientOutcome
from shared.events.envelope import OutgoingEvent
from shared.events.publisher import bus_publisher
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service


def _contact(http: HttpClient, address: str) -> Any:
    answer = http.call("GET", f"/contacts?email={address}")
    assert answer.status == 200, answer.body
    (contact,) = answer.body["items"]
    return contact


def _bounce(delivery: Delivery, address: str, **fields: Any) -> None:
    event = EmailBounced(
        ticket_id="t1",
        ticket_message_id="m1",
        ticket_message_at="2026-11-02T09:00:00.000Z",
        message_id="reply-1@example.com",
        recipients=[RecipientOutcome(email=address, detail="smtp; 550 5.1.1 user unknown")],
        at=datetime.now(UTC).isoformat(),
        **{"kind": "bounce", "permanent": True, **fields},
    )
    assert bus_publisher().publish([OutgoingEvent.of(event, datetime.now(UTC))]) == []
    delivery.run()


def test_a_hard_bounce_of_a_reply_flags_the_requesters_address(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a ticket from an address that does not exist, in a department with an address
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert http.call("POST", "/channels", channel).status == 201
    ticket = {
        "subject": "Invoice",
        "body": "Twice.",
        "department_id": "billing",
        "requester": {"email": SIMULATED_BOUNCE},
    }
    opened = http.call("POST", "/tickets", ticket).body
    delivery.run()
    assert _contact(http, SIMULATED_BOUNCE)["bounced"] == {}
    # When an agent's reply bounces
    http.call("POST", f"/tickets/{opened['id']}/messages", {"body": "Refunded."})
    delivery.run()
    # Then the contact shows the address bounced, with the server's answer
    bounced = _contact(http, SIMULATED_BOUNCE)["bounced"][SIMULATED_BOUNCE]
    assert "550" in bounced["detail"]


@pytest.mark.parametrize(
    "fields",
    [{"permanent": False}, {"kind": "failed", "permanent": False}, {"kind": "rejected"}],
    ids=["soft-bounce", "send-failed", "ses-rejected"],
)
def test_only_a_hard_bounce_flags_an_address(
    http: HttpClient, delivery: Delivery, fields: dict[str, Any]
) -> None:
    created = http.call("POST", "/contacts", {"name": "Eve", "emails": ["eve@client.example.org"]})
    assert created.status == 201, created.body
    _bounce(delivery, "eve@client.example.org", **fields)
    assert _contact(http, "eve@client.example.org")["bounced"] == {}


def test_an_address_taken_off_the_contact_takes_its_flag_with_it(
    http: HttpClient, delivery: Delivery
) -> None:
    emails = ["eve@client.example.org", "eve@home.example.org"]
    created = http.call("POST", "/contacts", {"name": "Eve", "emails": emails}).body
    _bounce(delivery, "eve@client.example.org")
    _bounce(delivery, "eve@client.example.org")  # reported again: still one flag
    flagged = _contact(http, "eve@home.example.org")
    assert list(flagged["bounced"]) == ["eve@client.example.org"]
    changed = http.call("PATCH", f"/contacts/{created['id']}", {"emails": ["eve@home.example.org"]})
    assert changed.status == 200, changed.body
    assert changed.body["bounced"] == {}
