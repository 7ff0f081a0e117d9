"""Erasing a contact (admins), across the services: their personal data goes, the record of their
tickets stays, and the tickets and channels services anonymise the requester of those tickets.
What erasure does within the contacts service is held on the in-memory fakes
(tests/unit/test_contacts_logic.py)."""

from __future__ import annotations

import uuid

import pytest

from services.channels.data.threads import DynamoThreadRepository
from shared.clock import SystemClock
from shared.events.catalogue import EmailReceived, MailVerdicts, Person
from tests.conftest import Delivery, HttpClient, sent_mail
from tests.service.test_contacts_support import (
    ADMIN,
    AGENT,
    T0,
    find,
    iso,
    publish,
)

pytestmark = pytest.mark.service

NEW_TICKET = {
    "subject": "Please delete my data",
    "body": "Under GDPR.",
    "priority": "medium",
    "requester": {"email": "gina@client.example.org", "name": "Gina Linetti"},
}


def _gina_with_a_ticket(http: HttpClient, delivery: Delivery) -> tuple[dict[str, object], str]:
    ticket = http.expect(201, "POST", "/tickets", NEW_TICKET)
    delivery.run()
    [gina] = find(http, "email=gina@client.example.org")
    http.expect(
        200, "PATCH", f"/contacts/{gina['id']}", {"phone": "+44 20 7183 8750", "notes": "x"}
    )
    return gina, ticket["id"]


def test_erasure_removes_the_personal_data_and_anonymises_the_tickets(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given Gina, with a ticket and a phone number
    gina, ticket_id = _gina_with_a_ticket(http, delivery)
    # When an admin erases her and the events are delivered
    answer = http.call("DELETE", f"/contacts/{gina['id']}", as_=ADMIN)
    assert answer.status == 204, answer.body
    delivery.run()
    # Then her id answers 410, and nothing finds her by address, name or phone
    gone = http.call("GET", f"/contacts/{gina['id']}", as_=AGENT)
    assert gone.status == 410, gone.body
    assert gone.body["type"].endswith("/contact-erased")
    assert "Gina" not in str(gone.body)
    assert find(http, "email=gina@client.example.org") == []
    assert find(http, "q=gina") == []
    assert find(http, "phone=%2B442071838750") == []
    assert find(http, "") == []
    # And the ticket is still there, its requester anonymised, still filed under her id
    ticket = http.expect(200, "GET", f"/tickets/{ticket_id}")
    assert ticket["requester"] == {"email": "erased@erased.invalid", "name": None}
    assert ticket["contact_id"] == gina["id"]
    assert ticket["subject"] == NEW_TICKET["subject"]
    # And the history records the change without the address it replaced
    history = http.expect(200, "GET", f"/tickets/{ticket_id}/history")["items"]
    assert "gina@client.example.org" not in str([e for e in history if e["field"] == "requester"])


def test_erasure_takes_her_address_and_name_off_the_messages_of_her_tickets(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given Gina's ticket in Billing, copied to her colleague Kim, where Gina wrote by mail
    # and an agent's answer was mailed to both of them
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert http.call("POST", "/channels", channel).status == 201
    opened = {**NEW_TICKET, "department_id": "billing", "cc": ["kim@client.example.org"]}
    ticket = http.expect(201, "POST", "/tickets", opened)
    mail = EmailReceived(
        ses_message_id=uuid.uuid4().hex,
        message_id="<7f3a91@client.example.org>",
        raw_key="inbound/7f3a91",
        sender=Person(email="Gina@Client.example.org", name="Gina Linetti"),
        recipients=["billing@example.com"],
        subject="Re: Please delete my data",
        text="Any news?",
        ticket_id=ticket["id"],
        received_at=iso(T0),
        verdicts=MailVerdicts(),
    )
    publish(delivery, mail)
    http.expect(201, "POST", f"/tickets/{ticket['id']}/messages", {"body": "Done soon."})
    delivery.run()
    path = f"/tickets/{ticket['id']}/messages"
    before = http.expect(200, "GET", path)["items"]
    assert "Gina Linetti" in str(before)
    assert "gina@client.example.org" in str(before)
    [gina] = find(http, "email=gina@client.example.org")
    # When she is erased
    http.expect(204, "DELETE", f"/contacts/{gina['id']}")
    delivery.run()
    # Then her name and address are gone from every message; Kim's stay
    messages = http.expect(200, "GET", path)["items"]
    assert len(messages) == len(before)
    assert "gina" not in str(messages).lower(), messages
    [client_message] = [m for m in messages if m["author"]["type"] == "client"]
    assert client_message["author"] == {
        "type": "client",
        "email": "erased@erased.invalid",
        "name": None,
    }
    assert client_message["body"] == "Any news?"  # the record of what was asked stays
    [reply] = [m for m in messages if m["delivery"]]
    assert set(reply["delivery"]) == {"erased@erased.invalid", "kim@client.example.org"}
    assert reply["delivery"]["erased@erased.invalid"]["state"] == "delivered"
    # And from the ticket, which is still copied to Kim
    anonymised = http.expect(200, "GET", f"/tickets/{ticket['id']}")
    assert anonymised["cc"] == ["kim@client.example.org"]
    assert "gina" not in str(anonymised).lower()
    # And from what the channels service keeps of the ticket to thread mail into it
    thread = DynamoThreadRepository(SystemClock()).thread(ticket["id"])
    assert thread is not None
    assert thread.requester == "erased@erased.invalid"
    # When an agent answers again, the answer is mailed to Kim alone
    mailed_before = len(sent_mail())
    http.expect(201, "POST", f"/tickets/{ticket['id']}/messages", {"body": "All removed."})
    delivery.run()
    (answer,) = sent_mail()[mailed_before:]
    assert (answer["To"], answer["Cc"]) == (None, "kim@client.example.org")


def test_an_agent_may_not_erase_and_nothing_changes(http: HttpClient, delivery: Delivery) -> None:
    gina, ticket_id = _gina_with_a_ticket(http, delivery)
    before = http.expect(200, "GET", f"/contacts/{gina['id']}")
    answer = http.call("DELETE", f"/contacts/{gina['id']}", as_=AGENT)
    assert answer.status == 403, answer.body
    delivery.run()
    assert http.expect(200, "GET", f"/contacts/{gina['id']}") == before
    requester = http.expect(200, "GET", f"/tickets/{ticket_id}")["requester"]
    assert requester["email"] == "gina@client.example.org"


def test_erasing_twice_is_410_and_the_event_applies_once(
    http: HttpClient, delivery: Delivery
) -> None:
    gina, ticket_id = _gina_with_a_ticket(http, delivery)
    http.expect(204, "DELETE", f"/contacts/{gina['id']}")
    again = http.call("DELETE", f"/contacts/{gina['id']}")
    assert again.status == 410, again.body
    delivery.run()
    history = http.expect(200, "GET", f"/tickets/{ticket_id}/history")["items"]
    assert len([e for e in history if e["field"] == "requester"]) == 1


def test_an_answer_to_an_erased_requester_alone_is_mailed_to_nobody(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given Gina's Billing ticket, copied to nobody, and Gina erased
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert http.call("POST", "/channels", channel).status == 201
    ticket = http.expect(201, "POST", "/tickets", {**NEW_TICKET, "department_id": "billing"})
    delivery.run()
    [gina] = find(http, "email=gina@client.example.org")
    http.expect(204, "DELETE", f"/contacts/{gina['id']}")
    delivery.run()
    # When an agent answers
    posted = http.expect(201, "POST", f"/tickets/{ticket['id']}/messages", {"body": "Done."})
    delivery.run()
    # Then no mail goes out (the anonymous address can never receive one), and none is pending
    assert sent_mail() == []
    messages = http.expect(200, "GET", f"/tickets/{ticket['id']}/messages")["items"]
    [answer] = [m for m in messages if m["id"] == posted["message"]["id"]]
    assert answer["delivery"] == {}
