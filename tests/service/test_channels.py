"""Channels: inbound addresses of departments, managed by admins, and how mail finds them."""

from __future__ import annotations

from typing import Any

import pytest

from local_stack.mail import ses_receipt_event
from local_stack.system import LocalSystem
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service
AGENT = ("alice@example.com", "agent")


def _channel(http: HttpClient, address: str, department: str) -> dict[str, Any]:
    answer = http.call("POST", "/channels", {"address": address, "department_id": department})
    assert answer.status == 201, answer.body
    return answer.body


def test_admins_manage_channels(http: HttpClient) -> None:
    # Given an admin adds an address for Billing
    channel = _channel(http, "Billing@Example.com", "billing")
    assert (channel["address"], channel["acknowledge"]) == ("billing@example.com", False)
    # Then it is listed and found
    assert [c["id"] for c in http.call("GET", "/channels").body["items"]] == [channel["id"]]
    assert http.call("GET", f"/channels/{channel['id']}").body == channel
    # When it is changed
    changed = http.call(
        "PATCH", f"/channels/{channel['id']}", {"acknowledge": True, "address": "money@example.com"}
    )
    assert changed.status == 200, changed.body
    assert (changed.body["acknowledge"], changed.body["address"]) == (True, "money@example.com")
    # Then the old address is free again and the new one is taken
    assert (
        http.call(
            "POST", "/channels", {"address": "billing@example.com", "department_id": "x"}
        ).status
        == 201
    )
    taken = http.call("POST", "/channels", {"address": "MONEY@example.com", "department_id": "y"})
    assert taken.status == 409
    # And moving another channel onto a taken address is refused the same way, changing nothing
    other = http.call("GET", "/channels").body["items"]
    (billing,) = [c for c in other if c["address"] == "billing@example.com"]
    moved = http.call("PATCH", f"/channels/{billing['id']}", {"address": "money@example.com"})
    assert moved.status == 409, moved.body
    assert http.call("GET", f"/channels/{billing['id']}").body["address"] == "billing@example.com"
    # When it is deleted, it is gone
    assert http.call("DELETE", f"/channels/{channel['id']}").status == 204
    assert http.call("GET", f"/channels/{channel['id']}").status == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/channels", None),
        ("POST", "/channels", {"address": "a@example.com", "department_id": "billing"}),
        ("GET", "/channels/some-id", None),
        ("PATCH", "/channels/some-id", {"acknowledge": True}),
        ("DELETE", "/channels/some-id", None),
    ],
)
def test_agents_may_not_manage_channels(
    http: HttpClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    answer = http.call(method, path, body, as_=AGENT)
    assert answer.status == 403
    assert answer.body["type"].endswith("/forbidden")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"address": "not an address", "department_id": "billing"}, "address"),
        ({"address": "support+vip@example.com", "department_id": "billing"}, "address"),
        ({"address": "a@example.com", "department_id": "Bad Id"}, "department_id"),
        ({"address": "a@example.com"}, "department_id"),
        ({"address": "a@example.com", "department_id": "b", "colour": "red"}, "colour"),
    ],
)
def test_bad_channels_are_refused_naming_the_field(
    http: HttpClient, body: dict[str, Any], field: str
) -> None:
    answer = http.call("POST", "/channels", body)
    assert answer.status == 422
    assert [e["field"] for e in answer.body["errors"]] == [field]
    assert http.call("GET", "/channels").body["items"] == []


def _mail(
    system: LocalSystem, to: list[str], message_id: str, ses_id: str, rcpt: list[str] | None = None
) -> Any:
    raw = (
        f"From: Carol <carol@client.example.org>\r\nTo: {', '.join(to)}\r\n"
        f"Subject: Help\r\nMessage-ID: <{message_id}>\r\n\r\nPlease help.\r\n"
    ).encode()
    event = ses_receipt_event(raw, "carol@client.example.org", rcpt or to, ses_id)
    return system.invoke("channels", "receive_mail", event)


def _tickets(http: HttpClient) -> list[tuple[str | None, str]]:
    items = http.call("GET", "/tickets?sort=created").body["items"]
    return sorted((t["department_id"], t["channel_id"] or "") for t in items)


def test_mail_opens_a_ticket_in_the_department_of_its_address(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    # Given Billing's address, reached with a +tag and in another case
    for name in ("Billing", "Sales"):
        assert http.call("POST", "/departments", {"name": name}).status == 201
    billing = _channel(http, "billing@example.com", "billing")
    # When a client writes to it
    assert _mail(system, ["Billing+VIP@Example.com"], "m1@client", "ses-1") == {
        "received": 1,
        "duplicates": 0,
    }
    delivery.run()
    # Then a ticket opens in Billing, on that channel
    assert _tickets(http) == [("billing", billing["id"])]


def test_mail_to_a_department_that_takes_no_tickets_is_filed_without_one_not_lost(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    # Given an address of a department since archived, and one of a department never created
    assert http.call("POST", "/departments", {"name": "Legacy"}).status == 201
    legacy = _channel(http, "legacy@example.com", "legacy")
    assert http.call("PATCH", "/departments/legacy", {"archived": True}).status == 200
    typo = _channel(http, "typo@example.com", "bililng")
    # When clients write to both
    assert _mail(system, ["legacy@example.com"], "m3@client", "ses-4")["received"] == 1
    assert _mail(system, ["typo@example.com"], "m4@client", "ses-5")["received"] == 1
    delivery.run()
    # Then both mails are tickets, filed without a department (for triage), on their channels
    assert _tickets(http) == sorted([(None, legacy["id"]), (None, typo["id"])])


def test_one_mail_to_two_departments_opens_one_ticket_in_each_and_no_more(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    for name in ("Billing", "Sales"):
        assert http.call("POST", "/departments", {"name": name}).status == 201
    billing = _channel(http, "billing@example.com", "billing")
    sales = _channel(http, "sales@example.com", "sales")
    second_billing = _channel(http, "invoices@example.com", "billing")
    # When one mail goes to both departments, to Billing twice (two of its addresses)
    to = ["billing@example.com", "sales@example.com", "invoices@example.com"]
    assert _mail(system, to, "m2@client", "ses-2")["received"] == 2
    # And SES delivers it again, and a second SES message carries the same Message-ID
    assert _mail(system, to, "m2@client", "ses-2")["received"] == 0
    assert _mail(system, to, "m2@client", "ses-3")["received"] == 0
    delivery.run()
    # Then there is exactly one ticket per department
    assert _tickets(http) == sorted([("billing", billing["id"]), ("sales", sales["id"])])
    assert second_billing["id"] not in {channel for _, channel in _tickets(http)}


def test_mail_to_no_known_address_is_kept_for_admins(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    assert _mail(system, ["nobody@example.com"], "m3@client", "ses-4")["received"] == 1
    delivery.run()
    assert _tickets(http) == [(None, "")]
