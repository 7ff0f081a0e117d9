"""Who sees which tickets of a contact: the tickets service's rule, applied by the contacts
service from the departments it announces, end to end. Any agent may read a contact; only the
tickets they may open are listed with it. Triage and late moves are held on the in-memory fakes
(tests/unit/test_contacts_logic.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    ADMIN,
    find,
    tickets,
)

pytestmark = pytest.mark.service

ALICE, BOB = ("alice@example.com", "agent"), ("bob@example.com", "agent")
CAROL = {"email": "carol@client.example.org", "name": "Carol Danvers"}


@pytest.fixture
def teams(http: HttpClient, delivery: Delivery) -> None:
    """Billing with Alice in it, Sales with Bob."""
    for name, member in (("Billing", ALICE[0]), ("Sales", BOB[0])):
        http.expect(201, "POST", "/departments", {"name": name})
        http.expect(200, "POST", f"/departments/{name.lower()}/members", {"email": member})
    delivery.run()


def _open(http: HttpClient, subject: str, department: str | None) -> dict[str, Any]:
    ticket = {"subject": subject, "body": "Help.", "requester": CAROL}
    if department is not None:
        ticket["department_id"] = department
    return http.expect(201, "POST", "/tickets", ticket)  # type: ignore[no-any-return]


def _listed(http: HttpClient, contact_id: str, who: tuple[str, str]) -> list[str]:
    return [t["subject"] for t in tickets(http, contact_id, as_=who)["items"]]


@pytest.mark.usefixtures("teams")
def test_agents_see_only_the_tickets_of_their_departments(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given Carol with a Billing ticket, a Sales ticket and one not filed anywhere yet
    _open(http, "Invoice twice", "billing")
    sales = _open(http, "Upgrade my plan", "sales")
    _open(http, "Hello?", None)
    delivery.run()
    [carol] = find(http, "email=carol@client.example.org")
    # Then each agent reads Carol, but sees only their department's ticket; an admin sees all
    assert http.call("GET", f"/contacts/{carol['id']}", as_=BOB).status == 200
    assert _listed(http, carol["id"], ALICE) == ["Invoice twice"]
    assert _listed(http, carol["id"], BOB) == ["Upgrade my plan"]
    assert sorted(_listed(http, carol["id"], ADMIN)) == [
        "Hello?",
        "Invoice twice",
        "Upgrade my plan",
    ]
    # When the Sales ticket moves to Billing
    http.expect(200, "PATCH", f"/tickets/{sales['id']}", {"department_id": "billing"})
    delivery.run()
    # Then it is Alice's to see, and no longer Bob's
    assert sorted(_listed(http, carol["id"], ALICE)) == ["Invoice twice", "Upgrade my plan"]
    assert _listed(http, carol["id"], BOB) == []
    # When Alice leaves Billing, she sees none of them
    http.expect(200, "DELETE", f"/departments/billing/members/{ALICE[0]}")
    delivery.run()
    assert _listed(http, carol["id"], ALICE) == []
