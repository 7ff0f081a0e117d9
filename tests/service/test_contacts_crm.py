"""Contacts from the CRM: records create or update contacts (by CRM id, then by address), only
forward in time; the CRM's fields are read-only here; a record deleted or merged there unlinks or
merges the contact here, and never deletes it."""

from __future__ import annotations

import pytest

from shared.events.catalogue import CrmContactDeleted, CrmContactMerged
from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    AGENT,
    T0,
    create,
    crm_record,
    find,
    get,
    iso,
    publish,
    ticket_created,
    tickets,
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


def test_a_crm_record_links_a_contact_with_its_address_and_updates_it(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given Dana, known from a ticket, with a ticket
    publish(delivery, ticket_created("DANA@client.example.org", "dana"))
    known = _the_one(http)
    # When the CRM announces a record with her address
    publish(delivery, crm_record("501"))
    # Then it is the same contact, now linked and with the CRM's fields, and keeps her ticket
    linked = get(http, known["id"])  # type: ignore[arg-type]
    assert linked["crm"]["id"] == "501"
    assert linked["name"] == "Dana Scully"
    assert len(find(http, "")) == 1
    assert len(tickets(http, linked["id"])["items"]) == 1


def test_later_records_are_matched_by_crm_id_even_with_new_addresses(
    http: HttpClient, delivery: Delivery
) -> None:
    publish(delivery, crm_record("501"))
    first = _the_one(http)
    publish(delivery, crm_record("501", minutes=10, emails=["d.scully@newmail.example.org"]))
    after = _the_one(http)
    assert after["id"] == first["id"]
    assert after["emails"] == ["d.scully@newmail.example.org"]
    # The address the CRM dropped is free, the new one finds her
    assert find(http, "email=dana@client.example.org") == []
    assert find(http, "email=d.scully@newmail.example.org")[0]["id"] == first["id"]


def test_an_older_or_repeated_record_changes_nothing(http: HttpClient, delivery: Delivery) -> None:
    publish(delivery, crm_record("501", minutes=10, name="Dana K. Scully"))
    current = _the_one(http)
    publish(delivery, crm_record("501", minutes=5, name="Dana Old"))
    publish(delivery, crm_record("501", minutes=10, name="Dana K. Scully"))
    assert _the_one(http) == current


def test_an_address_of_another_contact_stays_with_it(http: HttpClient, delivery: Delivery) -> None:
    # Given Dana from the CRM, and Fox made by hand
    publish(delivery, crm_record("501"))
    fox = create(http, name="Fox Mulder", emails=["shared@fbi.example.gov"])
    # When the CRM gives Dana's record Fox's address too
    shared = ["dana@client.example.org", "shared@fbi.example.gov"]
    publish(delivery, crm_record("501", minutes=1, emails=shared))
    # Then Dana's contact has her own address only, and Fox keeps his
    [dana] = find(http, "q=dana")
    assert dana["emails"] == ["dana@client.example.org"]
    assert find(http, "email=shared@fbi.example.gov")[0]["id"] == fox["id"]
    assert get(http, fox["id"]) == fox


def test_a_record_matches_the_contact_of_any_of_its_addresses(
    http: HttpClient, delivery: Delivery
) -> None:
    fox = create(http, name="Fox", emails=["fox@fbi.example.gov"], notes="Trusts no one.")
    publish(delivery, crm_record("502", emails=["mulder@home.example.org", "fox@fbi.example.gov"]))
    linked = get(http, fox["id"])
    assert linked["crm"]["id"] == "502"
    assert linked["emails"] == ["mulder@home.example.org", "fox@fbi.example.gov"]
    assert linked["notes"] == "Trusts no one."
    assert len(find(http, "")) == 1


def test_an_invalid_crm_phone_is_left_out_not_refused(http: HttpClient, delivery: Delivery) -> None:
    publish(delivery, crm_record("501", phone="12"))
    contact = _the_one(http)
    assert contact["phone"] is None
    assert contact["name"] == "Dana Scully"


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"name": "Dana K."}, ["name"]),
        ({"phone": "+44 20 7183 8750"}, ["phone"]),
        ({"organisation": "CIA", "emails": ["x@example.org"]}, ["emails", "organisation"]),
        ({"organisation": None}, ["organisation"]),
    ],
)
def test_a_change_by_hand_to_a_field_the_crm_owns_is_a_409_naming_it(
    http: HttpClient, delivery: Delivery, change: dict[str, object], fields: list[str]
) -> None:
    publish(delivery, crm_record("501"))
    contact = _the_one(http)
    answer = http.call("PATCH", f"/contacts/{contact['id']}", change, as_=AGENT)
    assert answer.status == 409, answer.body
    assert answer.body["type"].endswith("/crm-owned")
    assert "hubspot" in answer.body["detail"]
    assert sorted(e["field"] for e in answer.body["errors"]) == fields
    assert _the_one(http) == contact


def test_helpdesk_fields_and_unchanged_crm_values_may_be_sent(
    http: HttpClient, delivery: Delivery
) -> None:
    publish(delivery, crm_record("501"))
    contact = _the_one(http)
    body = {
        "notes": "Call after 5pm.",
        "tags": ["vip"],
        "name": "Dana Scully",
        "phone": "+12025550143",
    }
    changed = http.expect(200, "PATCH", f"/contacts/{contact['id']}", body, as_=AGENT)
    assert (changed["notes"], changed["tags"]) == ("Call after 5pm.", ["vip"])
    # And the CRM's next update keeps them
    publish(delivery, crm_record("501", minutes=1, organisation="FBI (X-Files)"))
    after = _the_one(http)
    assert (after["notes"], after["tags"], after["organisation"]) == (
        "Call after 5pm.",
        ["vip"],
        "FBI (X-Files)",
    )


def test_a_record_deleted_in_the_crm_unlinks_and_marks_the_contact_and_keeps_it(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a CRM contact with a ticket
    publish(delivery, crm_record("501"), ticket_created("dana@client.example.org"))
    contact = _the_one(http)
    # When the record is deleted in the CRM
    deleted_at = iso(T0)
    publish(delivery, CrmContactDeleted(provider="hubspot", crm_id="501", deleted_at=deleted_at))
    # Then the contact is still there with its data and ticket, unlinked and marked
    after = _the_one(http)
    assert after["id"] == contact["id"]
    assert after["crm"] is None
    assert after["crm_unlinked"]["id"] == "501"
    assert after["read_only"] == []
    assert (after["name"], after["emails"]) == (contact["name"], contact["emails"])
    assert len(tickets(http, after["id"])["items"]) == 1
    # And its fields are the desk's to change now
    renamed = http.expect(200, "PATCH", f"/contacts/{after['id']}", {"name": "Dana"}, as_=AGENT)
    assert renamed["name"] == "Dana"


def test_records_merged_in_the_crm_merge_their_contacts(
    http: HttpClient, delivery: Delivery
) -> None:
    publish(
        delivery,
        crm_record("501"),
        crm_record("502", emails=["dscully@fbi.example.gov"], name="D. Scully"),
    )
    [survivor], [merged] = find(http, "q=dana"), find(http, "q=d.")
    publish(
        delivery,
        CrmContactMerged(
            provider="hubspot", crm_id="502", surviving_crm_id="501", merged_at=iso(T0)
        ),
    )
    result = get(http, survivor["id"])
    assert result["crm"]["id"] == "501"
    assert set(result["emails"]) == {"dana@client.example.org", "dscully@fbi.example.gov"}
    assert http.call("GET", f"/contacts/{merged['id']}", as_=AGENT).status == 308


def test_a_crm_merge_into_a_record_not_here_moves_the_link(
    http: HttpClient, delivery: Delivery
) -> None:
    publish(delivery, crm_record("502"))
    contact = _the_one(http)
    publish(
        delivery,
        CrmContactMerged(
            provider="hubspot", crm_id="502", surviving_crm_id="777", merged_at=iso(T0)
        ),
    )
    assert _the_one(http)["crm"]["id"] == "777"
    publish(delivery, crm_record("777", minutes=3, name="Dana Katherine Scully"))
    after = _the_one(http)
    assert (after["id"], after["name"]) == (contact["id"], "Dana Katherine Scully")
