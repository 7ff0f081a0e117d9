"""Merging two contacts: the rules that combine them, their tickets moving to the survivor here
and in the tickets service, the pointer the merged-away id answers with, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import (
    ADMIN,
    AGENT,
    create,
    crm_record,
    find,
    get,
    publish,
    ticket_created,
    tickets,
)

pytestmark = pytest.mark.service


def _merge(http: HttpClient, merged: str, into: str) -> dict[str, Any]:
    return http.expect(200, "POST", f"/contacts/{merged}/merge", {"into": into}, as_=ADMIN)  # type: ignore[no-any-return]


def test_a_merge_combines_the_two_by_its_rules(http: HttpClient, delivery: Delivery) -> None:
    # Given two records of one person, each knowing different things
    survivor = create(
        http,
        name="Dana Scully",
        emails=["dana@client.example.org"],
        notes="Prefers mail.",
        tags=["vip"],
    )
    merged = create(
        http,
        name="D. Scully",
        emails=["dscully@fbi.example.gov", "DANA@client.example.org.uk"],
        phone="+1 202 555 0143",
        organisation="FBI",
        notes="Met at the conference.",
        tags=["gov"],
    )
    # When an admin merges the second into the first
    result = _merge(http, merged["id"], survivor["id"])
    # Then the survivor keeps its id, name and primary address, and gains what it lacked
    assert result["id"] == survivor["id"]
    assert result["name"] == "Dana Scully"
    assert result["emails"] == [
        "dana@client.example.org",
        "dscully@fbi.example.gov",
        "dana@client.example.org.uk",
    ]
    assert (result["phone"], result["organisation"]) == ("+12025550143", "FBI")
    assert result["tags"] == ["gov", "vip"]
    assert result["notes"].startswith("Prefers mail.\n\n--- merged from contact ")
    assert result["notes"].endswith("Met at the conference.")
    assert result["version"] == survivor["version"] + 1
    assert get(http, survivor["id"]) == result
    # And every address, and the name of either, finds the survivor only
    for address in result["emails"]:
        assert [c["id"] for c in find(http, f"email={address}")] == [survivor["id"]]
    assert [c["id"] for c in find(http, "q=scully")] == [survivor["id"]]
    assert [c["id"] for c in find(http, "phone=%2B12025550143")] == [survivor["id"]]
    assert [c["id"] for c in find(http, "")] == [survivor["id"]]


def test_the_merged_away_id_points_at_the_survivor(http: HttpClient) -> None:
    survivor = create(http, name="Dana Scully")
    merged = create(http, name="Dana S.")
    _merge(http, merged["id"], survivor["id"])
    for path in (f"/contacts/{merged['id']}", f"/contacts/{merged['id']}/tickets"):
        answer = http.call("GET", path, as_=AGENT)
        assert answer.status == 308, answer.body
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.body["type"].endswith("/contact-merged")
        assert answer.body["merged_into"] == survivor["id"]
        assert answer.body["location"] == f"/contacts/{survivor['id']}"
    # And it cannot be changed, nor merged again
    assert http.call("PATCH", f"/contacts/{merged['id']}", {"notes": "x"}).status == 308
    again = http.call("POST", f"/contacts/{merged['id']}/merge", {"into": survivor["id"]})
    assert again.status == 308, again.body


def test_tickets_move_to_the_survivor_here_and_in_the_tickets_service(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given two contacts, each with a ticket of their own, linked by the tickets service
    for email in ("eve@client.example.org", "eve.b@client.example.org"):
        new_ticket = {
            "subject": f"From {email}",
            "body": "Hello",
            "priority": "low",
            "requester": {"email": email, "name": "Eve"},
        }
        http.expect(201, "POST", "/tickets", new_ticket)
    delivery.run()
    [eve] = find(http, "email=eve@client.example.org")
    [other] = find(http, "email=eve.b@client.example.org")
    # When the second is merged into the first and the events are delivered
    _merge(http, other["id"], eve["id"])
    delivery.run()
    # Then the survivor lists both tickets
    subjects = sorted(t["subject"] for t in tickets(http, eve["id"])["items"])
    assert subjects == ["From eve.b@client.example.org", "From eve@client.example.org"]
    # And the tickets service filed both under the survivor, none under the merged-away id
    listed = http.expect(200, "GET", f"/tickets?contact_id={eve['id']}&sort=created")["items"]
    assert len(listed) == 2
    assert http.expect(200, "GET", f"/tickets?contact_id={other['id']}&sort=created")["items"] == []
    # And a new ticket from the merged-away address goes to the survivor
    publish(delivery, ticket_created("eve.b@client.example.org", number=7))
    assert len(tickets(http, eve["id"])["items"]) == 3


@pytest.mark.parametrize("who", ["merged", "survivor"])
def test_a_crm_link_goes_to_the_survivor_with_the_fields_the_crm_owns(
    http: HttpClient, delivery: Delivery, who: str
) -> None:
    # Given a contact from the CRM and one made by hand
    publish(delivery, crm_record("501"))
    [linked] = find(http, "email=dana@client.example.org")
    by_hand = create(http, name="Dana (desk)", emails=["dana@desk.example.org"], notes="Desk notes")
    merged, survivor = (linked, by_hand) if who == "merged" else (by_hand, linked)
    # When they are merged, either way round
    result = _merge(http, merged["id"], survivor["id"])
    # Then the survivor is linked to the CRM record and has the CRM's name, phone, organisation
    assert result["crm"]["id"] == "501"
    assert (result["name"], result["phone"], result["organisation"]) == (
        "Dana Scully",
        "+12025550143",
        "FBI",
    )
    assert set(result["emails"]) == {"dana@client.example.org", "dana@desk.example.org"}
    assert result["notes"] == "Desk notes"
    # And the next CRM update finds the survivor by the CRM id
    publish(delivery, crm_record("501", minutes=5, name="Dana K. Scully"))
    assert get(http, survivor["id"])["name"] == "Dana K. Scully"


def test_two_contacts_of_different_crm_records_are_not_merged_here(
    http: HttpClient, delivery: Delivery
) -> None:
    publish(
        delivery,
        crm_record("501"),
        crm_record("502", emails=["fox@fbi.example.gov"], name="Fox Mulder"),
    )
    [dana], [fox] = find(http, "q=dana"), find(http, "q=fox")
    answer = http.call("POST", f"/contacts/{fox['id']}/merge", {"into": dana["id"]})
    assert answer.status == 409, answer.body
    assert "merge them there" in answer.body["detail"]
    assert get(http, fox["id"]) == fox
    assert get(http, dana["id"]) == dana


@pytest.mark.parametrize(
    ("into", "status", "field"), [("self", 422, "into"), ("missing", 404, None)]
)
def test_a_merge_into_itself_or_nowhere_is_refused(
    http: HttpClient, into: str, status: int, field: str | None
) -> None:
    dana = create(http, name="Dana Scully")
    target = dana["id"] if into == "self" else "no-such-contact"
    answer = http.call("POST", f"/contacts/{dana['id']}/merge", {"into": target})
    assert answer.status == status, answer.body
    assert [e["field"] for e in answer.body.get("errors", [])] == ([field] if field else [])
    assert get(http, dana["id"]) == dana


def test_a_merge_that_would_hold_too_many_addresses_is_refused(http: HttpClient) -> None:
    first = create(http, name="A", emails=[f"a{n}@example.org" for n in range(6)])
    second = create(http, name="B", emails=[f"b{n}@example.org" for n in range(6)])
    answer = http.call("POST", f"/contacts/{second['id']}/merge", {"into": first["id"]})
    assert answer.status == 422, answer.body
    assert get(http, first["id"]) == first
    assert get(http, second["id"]) == second
