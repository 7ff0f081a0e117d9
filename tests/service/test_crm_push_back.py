"""Push back to the CRM (a setting): contacts made by hand are created in the CRM and linked;
tickets opened and resolved become notes on the requester's CRM record. Each once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.events.catalogue import ContactCreated, TicketStatusChanged
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient
from tests.fakes.hubspot import FakeHubSpot
from tests.service.test_contacts_support import AGENT, T0, create, get, publish, ticket_created
from tests.service.test_crm_support import Engine
from tests.service.test_crm_support import hubspot as hubspot  # the fixture

pytestmark = pytest.mark.service


@pytest.fixture
def pushing(hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> FakeHubSpot:
    monkeypatch.setenv("HELPDESK_CRM_PUSH_BACK", "true")
    get_settings.cache_clear()
    return hubspot


def test_a_contact_made_by_hand_is_created_in_the_crm_once_and_linked(
    pushing: FakeHubSpot, http: HttpClient, delivery: Delivery
) -> None:
    contact = create(http, name="Nora Batty", emails=["nora@client.example.org"])
    delivery.run()

    [record] = [c for c in pushing.contacts.values() if c.email == "nora@client.example.org"]
    assert (record.firstname, record.lastname) == ("Nora", "Batty")
    assert get(http, contact["id"])["crm"]["id"] == record.id

    # A redelivered announcement finds the record instead of making another
    publish(
        delivery,
        ContactCreated(
            contact_id=contact["id"],
            name="Nora Batty",
            emails=["nora@client.example.org"],
            phone=None,
            organisation=None,
            crm=None,
            actor=AGENT[0],
            version=1,
            at="2026-03-02T09:00:00.000Z",
        ),
    )
    assert [c.email for c in pushing.contacts.values()] == ["nora@client.example.org"]


def test_tickets_opened_and_resolved_are_noted_once_on_the_crm_record(
    pushing: FakeHubSpot, delivery: Delivery
) -> None:
    # Given a CRM record, synced and linked to its helpdesk contact
    record = pushing.add("dana@client.example.org", T0 - timedelta(days=1))
    Engine(pushing).engine.run()
    delivery.run()

    # When a ticket of hers is opened (announced twice) and resolved
    opened = ticket_created("dana@client.example.org", "Dana", ticket_id="t-1", number=7)
    publish(delivery, opened, opened)
    resolved = TicketStatusChanged(
        ticket_id="t-1",
        number="TKT-0007",
        old="open",
        new="resolved",
        priority="medium",
        department_id=None,
        reason="agent",
        changed_at="2026-03-02T10:00:00.000Z",
    )
    publish(delivery, resolved, resolved)

    # Then her record has two notes, each associated with it
    bodies = [n["properties"]["hs_note_body"] for n in pushing.notes]
    assert bodies == [
        "Ticket TKT-0007 opened: Cannot log in",
        "Ticket TKT-0007 resolved: Cannot log in",
    ]
    assert {n["associations"][0]["to"]["id"] for n in pushing.notes} == {record.id}
    assert pushing.notes[0]["associations"][0]["types"] == [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}
    ]


def test_nothing_is_pushed_when_the_setting_is_off(
    hubspot: FakeHubSpot, http: HttpClient, delivery: Delivery
) -> None:
    create(http, name="Nora Batty", emails=["nora@client.example.org"])
    delivery.run()
    assert hubspot.contacts == {}
