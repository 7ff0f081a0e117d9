"""Contacts from the CRM end to end: a record announced on the bus becomes a linked contact whose
CRM fields the API marks read-only and refuses to change (409). The matching, ordering, unlinking
and merging rules run on the in-memory fakes (tests/unit/test_contacts_logic.py)."""

from __future__ import annotations

import pytest

from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    AGENT,
    crm_record,
    find,
    publish,
)

pytestmark = pytest.mark.service


def _the_one(http: HttpClient) -> dict[str, object]:
    [contact] = find(http, "")
    return contact


def test_a_new_crm_record_creates_a_linked_contact(http: HttpClient, delivery: Delivery) -> None:
    publish(delivery, crm_record("501"))
    contact = _the_one(http)
    assert contact["crm"] == {
        "provider": "hubspot",
        "id": "501",
        "url": "https://app.hubspot.com/contacts/1/record/0-1/501",
    }
    assert (contact["name"], contact["phone"], contact["organisation"]) == (
        "Dana Scully",
        "+12025550143",
        "FBI",
    )
    assert contact["emails"] == ["dana@client.example.org"]
    assert contact["origin"] == "crm"
    assert contact["read_only"] == ["name", "emails", "phone", "organisation"]


def test_a_change_by_hand_to_a_field_the_crm_owns_is_a_409_naming_it(
    http: HttpClient, delivery: Delivery
) -> None:
    publish(delivery, crm_record("501"))
    contact = _the_one(http)
    change = {"organisation": "CIA", "emails": ["x@example.org"]}
    answer = http.call("PATCH", f"/contacts/{contact['id']}", change, as_=AGENT)
    assert answer.status == 409, answer.body
    assert answer.body["type"].endswith("/crm-owned")
    assert "hubspot" in answer.body["detail"]
    assert sorted(e["field"] for e in answer.body["errors"]) == ["emails", "organisation"]
    assert _the_one(http) == contact
