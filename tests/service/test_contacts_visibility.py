"""Who sees which tickets of a contact: the tickets service's rule, applied by the contacts
service from the departments it announces. Any agent may read a contact; only the tickets they
may open are listed with it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.aws import reset_process_state
from shared.events.catalogue import FieldChange, TicketStatusChanged, TicketUpdated
from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    ADMIN,
    T0,
    find,
    iso,
    publish,
    ticket_created,
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


def test_the_triage_department_sees_tickets_without_one(
    http: HttpClient, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_TRIAGE_DEPARTMENT", "triage")
    reset_process_state()
    http.expect(201, "POST", "/departments", {"name": "Triage"})
    http.expect(200, "POST", "/departments/triage/members", {"email": BOB[0]})
    _open(http, "Hello?", None)
    delivery.run()
    [carol] = find(http, "email=carol@client.example.org")
    assert _listed(http, carol["id"], BOB) == ["Hello?"]
    assert _listed(http, carol["id"], ALICE) == []


@pytest.mark.usefixtures("teams")
def test_a_move_is_kept_whatever_other_change_arrives_before_it(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a Sales ticket moved to Billing at 09:30 and resolved at 10:00
    created = ticket_created("jon@client.example.org").model_copy(update={"department_id": "sales"})
    moved = TicketUpdated(
        ticket_id=created.ticket_id,
        number=created.number,
        changes=[FieldChange(field="department_id", old="sales", new="billing")],
        actor="admin@example.com",
        version=2,
        updated_at=iso(T0 + timedelta(minutes=30)),
    )
    resolved = TicketStatusChanged(
        ticket_id=created.ticket_id,
        number=created.number,
        old="open",
        new="resolved",
        priority="medium",
        department_id="billing",
        reason="agent",
        changed_at=iso(T0 + timedelta(hours=1)),
    )
    # When the resolution arrives first, and the move after it
    publish(delivery, created, resolved)
    publish(delivery, moved)
    # Then the ticket is Billing's: Alice sees it, Bob does not
    [jon] = find(http, "email=jon@client.example.org")
    assert len(_listed(http, jon["id"], ALICE)) == 1
    assert _listed(http, jon["id"], BOB) == []
    [summary] = tickets(http, jon["id"])["items"]
    assert (summary["department_id"], summary["status"]) == ("billing", "resolved")
