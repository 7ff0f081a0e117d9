"""Ticket requesters become contacts, end to end: created on their first ticket and linked both
ways, once even when a batch holds the event twice; the contact's ticket list follows the tickets'
events, and refuses another list's cursor. The matching and ordering rules run on the in-memory
fakes (tests/unit/test_contacts_logic.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    AGENT,
    find,
    publish,
    ticket_created,
    tickets,
)

pytestmark = pytest.mark.service

NEW_TICKET = {
    "subject": "Invoice missing",
    "body": "I did not get my invoice.",
    "priority": "medium",
    "requester": {"email": "Carol@Client.example.org", "name": "Carol Danvers"},
}


def test_a_ticket_from_a_new_address_creates_the_contact_and_links_it_both_ways(
    http: HttpClient, delivery: Delivery
) -> None:
    # When an admin opens a ticket for someone the desk does not know
    ticket = http.expect(201, "POST", "/tickets", NEW_TICKET)
    delivery.run()
    # Then a contact exists for the address, named as on the ticket, made from a ticket
    [contact] = find(http, "email=carol@client.example.org")
    assert contact["name"] == "Carol Danvers"
    assert contact["emails"] == ["carol@client.example.org"]
    assert contact["origin"] == "ticket"
    # And the ticket carries the contact's id, and the contact lists the ticket
    assert http.expect(200, "GET", f"/tickets/{ticket['id']}")["contact_id"] == contact["id"]
    [listed] = tickets(http, contact["id"])["items"]
    opened = datetime.fromisoformat(ticket["created_at"])
    # Events carry the time to the millisecond
    assert datetime.fromisoformat(listed.pop("created_at")) == opened.replace(
        microsecond=opened.microsecond // 1000 * 1000
    )
    assert listed == {
        "id": ticket["id"],
        "number": ticket["number"],
        "subject": "Invoice missing",
        "status": "open",
        "department_id": None,
    }
    # And the tickets service's own filter agrees
    by_contact = http.expect(200, "GET", f"/tickets?contact_id={contact['id']}&sort=created")[
        "items"
    ]
    assert [t["id"] for t in by_contact] == [ticket["id"]]


def test_the_same_ticket_twice_in_one_batch_links_once(
    http: HttpClient, delivery: Delivery
) -> None:
    created = ticket_created("fay@client.example.org")
    publish(delivery, created, created)
    [fay] = find(http, "email=fay@client.example.org")
    assert len(tickets(http, fay["id"])["items"]) == 1


def test_a_cursor_of_another_contacts_tickets_is_refused(
    http: HttpClient, delivery: Delivery
) -> None:
    publish(
        delivery,
        *(ticket_created("hal@client.example.org", number=n) for n in range(1, 4)),
        ticket_created("ida@client.example.org", number=9),
    )
    [hal], [ida] = find(http, "q=hal"), find(http, "q=ida")
    cursor = tickets(http, hal["id"], "limit=1")["next_cursor"]
    answer = http.call("GET", f"/contacts/{ida['id']}/tickets?cursor={cursor}", as_=AGENT)
    assert answer.status == 422, answer.body
    assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]


def test_status_and_subject_follow_the_ticket(http: HttpClient, delivery: Delivery) -> None:
    # Given a ticket linked to its requester
    ticket = http.expect(201, "POST", "/tickets", NEW_TICKET)
    delivery.run()
    [carol] = find(http, "q=carol")
    # When an agent resolves it
    http.expect(200, "PATCH", f"/tickets/{ticket['id']}", {"status": "resolved"})
    delivery.run()
    # Then the contact's list shows it resolved
    assert tickets(http, carol["id"])["items"][0]["status"] == "resolved"
