"""A reply's mail that comes back for good flags the address on its contact, end to end. Which
reports flag what is held on the in-memory fakes (tests/unit/test_contacts_logic.py)."""

from __future__ import annotations

from typing import Any

import pytest

from local_stack.mail import SIMULATED_BOUNCE
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service


def _contact(http: HttpClient, address: str) -> Any:
    answer = http.call("GET", f"/contacts?email={address}")
    assert answer.status == 200, answer.body
    (contact,) = answer.body["items"]
    return contact


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
