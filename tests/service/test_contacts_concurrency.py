"""Races for one address: creates at once give one contact and clear conflicts; tickets from one
new address at once give one contact with every ticket linked to it.

The emulator applies one DynamoDB request at a time, as DynamoDB isolates each one
(local_stack/emulator_patches.py), so the race left is the one these tests are about: between a
use case's read and its write, where only the transaction's conditions decide."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.contacts.handlers.wiring import dependencies
from services.contacts.logic.manage_contacts import ContactFields, create_contact
from services.contacts.logic.requesters import link_requester
from shared.errors import Conflict
from shared.identity import Caller
from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import find, ticket_created, tickets

pytestmark = pytest.mark.service

THREADS = 8
AGENT = Caller(email="alice@example.com", role="agent")


def test_concurrent_creates_of_one_address_give_one_contact_and_409s(http: HttpClient) -> None:
    # Given eight agents who create the same person at the same moment, in different cases
    start = threading.Barrier(THREADS)

    def attempt(number: int) -> str:
        address = "Lee@Client.example.org" if number % 2 else "lee@client.example.org"
        fields = ContactFields(name=f"Lee {number}", emails=[address])
        start.wait()
        try:
            return create_contact(fields, AGENT, dependencies()).id
        except Conflict as conflict:
            return "conflict" if "lee@client.example.org" in conflict.detail else conflict.detail

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(attempt, range(THREADS)))
    # Then exactly one was created and every other was told the address is taken
    created = [o for o in outcomes if o != "conflict"]
    assert len(created) == 1
    assert outcomes.count("conflict") == THREADS - 1
    # And the address finds the one created, which is the only contact there is
    [found] = find(http, "email=lee@client.example.org")
    assert found["id"] == created[0]
    assert [c["id"] for c in find(http, "q=lee")] == created
    assert len(find(http, "")) == 1


def test_tickets_from_one_new_address_at_once_give_one_contact_with_all_tickets(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given eight tickets from one new address, announced at once
    events = [ticket_created("max@client.example.org", "Max", number=n) for n in range(THREADS)]
    start = threading.Barrier(THREADS)

    def link(number: int) -> str | None:
        start.wait()
        return link_requester(events[number], dependencies(), f"event-{number}")

    # When each is applied in its own thread
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        linked = list(pool.map(link, range(THREADS)))
    # Then every ticket was linked, all to one contact (the losers to the winner)
    assert None not in linked
    assert len(set(linked)) == 1
    [max_] = find(http, "email=max@client.example.org")
    assert max_["id"] == linked[0]
    listed = tickets(http, max_["id"], "limit=100")["items"]
    assert sorted(t["id"] for t in listed) == sorted(e.ticket_id for e in events)
    # And one ContactCreated went out, and one ContactLinked per ticket
    delivery.run()
    assert len(find(http, "")) == 1
