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
    # Then a taken address is refused as a conflict
    taken = http.call("POST", "/channels", {"address": "MONEY@example.com", "department_id": "y"})
    assert taken.status == 409
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


def _mail(system: LocalSystem, to: list[str], message_id: str, ses_id: str) -> Any:
    raw = (
        f"From: Carol <carol@client.example.org>\r\nTo: {', '.join(to)}\r\n"
        f"Subject: Help\r\nMessage-ID: <{message_id}>\r\n\r\nPlease help.\r\n"
    ).encode()
    event = ses_receipt_event(raw, "carol@client.example.org", to, ses_id)
    return system.invoke("channels", "receive_mail", event)


def _tickets(http: HttpClient) -> list[tuple[str | None, str]]:
    items = http.call("GET", "/tickets?sort=created").body["items"]
    return sorted((t["department_id"], t["channel_id"] or "") for t in items)


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
