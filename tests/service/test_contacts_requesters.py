"""Ticket requesters become contacts: created on their first ticket, found on the next, linked
both ways, once however often an event comes; and the contact's ticket list follows the
tickets' events."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.events.catalogue import FieldChange, TicketStatusChanged, TicketUpdated
from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    AGENT,
    T0,
    create,
    find,
    iso,
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


def test_a_ticket_from_a_known_address_links_to_the_existing_contact(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given Carol, created by hand with a second address
    carol = create(
        http, name="Carol D.", emails=["carol@home.example.org", "carol@client.example.org"]
    )
    # When a ticket comes from her second address
    ticket = http.expect(201, "POST", "/tickets", NEW_TICKET)
    delivery.run()
    # Then no contact was added, and the ticket is hers
    assert len(find(http, "")) == 1
    assert http.expect(200, "GET", f"/tickets/{ticket['id']}")["contact_id"] == carol["id"]
    assert [t["id"] for t in tickets(http, carol["id"])["items"]] == [ticket["id"]]
    # And her name stays as the agent wrote it
    assert find(http, "email=carol@client.example.org")[0]["name"] == "Carol D."


def test_the_same_ticket_announced_twice_links_once(http: HttpClient, delivery: Delivery) -> None:
    # Given TicketCreated of a new requester, announced twice under two event ids
    created = ticket_created("eve@client.example.org", "Eve")
    publish(delivery, created)
    publish(delivery, created)
    # Then there is one contact with the ticket once
    [eve] = find(http, "q=eve")
    assert [t["id"] for t in tickets(http, eve["id"])["items"]] == [created.ticket_id]
    assert eve["version"] == 1


def test_the_same_ticket_twice_in_one_batch_links_once(
    http: HttpClient, delivery: Delivery
) -> None:
    created = ticket_created("fay@client.example.org")
    publish(delivery, created, created)
    [fay] = find(http, "email=fay@client.example.org")
    assert len(tickets(http, fay["id"])["items"]) == 1


def test_a_requester_without_a_name_becomes_a_contact_found_by_address(
    http: HttpClient, delivery: Delivery
) -> None:
    publish(delivery, ticket_created("noname@client.example.org"))
    [contact] = find(http, "q=noname")
    assert contact["name"] is None
    assert contact["primary_email"] == "noname@client.example.org"


def test_the_ticket_list_is_newest_first_and_pages(http: HttpClient, delivery: Delivery) -> None:
    # Given five tickets of one requester, opened an hour apart
    events = [
        ticket_created("gus@client.example.org", number=n, created_at=T0 + timedelta(hours=n))
        for n in range(1, 6)
    ]
    publish(delivery, *events)
    [gus] = find(http, "q=gus")
    # When the list is read two at a time
    numbers: list[str] = []
    query = "limit=2"
    for _ in range(5):
        page = tickets(http, gus["id"], query)
        numbers += [t["number"] for t in page["items"]]
        if page["next_cursor"] is None:
            break
        query = f"limit=2&cursor={page['next_cursor']}"
    # Then every ticket came once, newest first
    assert numbers == ["TKT-0005", "TKT-0004", "TKT-0003", "TKT-0002", "TKT-0001"]


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


def test_an_older_ticket_event_arriving_late_changes_nothing(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a ticket, then its status changed at 10:00 to resolved
    created = ticket_created("jon@client.example.org")
    resolved = TicketStatusChanged(
        ticket_id=created.ticket_id,
        number=created.number,
        old="in_progress",
        new="resolved",
        priority="medium",
        department_id=None,
        reason="agent",
        changed_at=iso(T0 + timedelta(hours=1)),
    )
    publish(delivery, created, resolved)
    # When the change of 09:30 to in_progress arrives only now
    late = TicketUpdated(
        ticket_id=created.ticket_id,
        number=created.number,
        changes=[
            FieldChange(field="status", old="open", new="in_progress"),
            FieldChange(field="subject", old="Cannot log in", new="Locked out"),
        ],
        actor="alice@example.com",
        version=2,
        updated_at=iso(T0 + timedelta(minutes=30)),
    )
    publish(delivery, late)
    # Then the newer status stands
    [jon] = find(http, "q=jon")
    [summary] = tickets(http, jon["id"])["items"]
    assert (summary["status"], summary["subject"]) == ("resolved", "Cannot log in")


def test_a_ticket_change_arriving_before_the_ticket_is_kept(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a status change announced before the ticket's creation reached the service
    created = ticket_created("kim@client.example.org")
    early = TicketStatusChanged(
        ticket_id=created.ticket_id,
        number=created.number,
        old="open",
        new="waiting_on_client",
        priority="medium",
        department_id=None,
        reason="agent_reply",
        changed_at=iso(T0 + timedelta(minutes=5)),
    )
    publish(delivery, early)
    publish(delivery, created)
    # Then the ticket is listed with the later status
    [kim] = find(http, "q=kim")
    [summary] = tickets(http, kim["id"])["items"]
    assert (summary["number"], summary["status"]) == ("TKT-0001", "waiting_on_client")
