"""The dry run: an admin pastes a raw mail and sees what would happen, and nothing happens."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service


def _state() -> tuple[int, int]:
    """Items in the channels table and objects in the mail bucket: what a dry run may not add."""
    pages = boto3.client("dynamodb").get_paginator("scan")  # test inspection only
    items = sum(
        len(p["Items"]) for p in pages.paginate(TableName=get_settings().table_name("channels"))
    )
    objects = boto3.client("s3").list_objects_v2(Bucket=get_settings().mail_bucket)
    return items, objects.get("KeyCount", 0)


@pytest.fixture
def billing(http: HttpClient) -> dict[str, Any]:
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing", "acknowledge": True}
    answer = http.call("POST", "/channels", channel)
    assert answer.status == 201
    return answer.body  # type: ignore[no-any-return]


def _simulate(http: HttpClient, eml: str, **extra: Any) -> Any:
    answer = http.call("POST", "/channels/simulate", {"eml": eml, **extra})
    assert answer.status == 200, answer.body
    return answer.body


def test_a_new_mail_would_open_an_acknowledged_ticket_and_nothing_is_written(
    http: HttpClient, delivery: Delivery, billing: dict[str, Any]
) -> None:
    delivery.run()  # the department's announcement is kept by the channels service too
    before = _state()
    eml = (
        "From: Ann <ann@client.example.org>\r\nTo: billing+vip@example.com\r\n"
        "Subject: Refund\r\nMessage-ID: <a1@client.example.org>\r\n\r\nPlease.\r\n"
    )
    result = _simulate(http, eml)
    assert (result["sender"], result["subject"], result["automated"]) == (
        "ann@client.example.org",
        "Refund",
        None,
    )
    (outcome,) = result["outcomes"]
    assert outcome["action"] == "announce"
    assert (outcome["department_id"], outcome["channel_id"]) == ("billing", billing["id"])
    assert outcome["acknowledge"] is True
    assert "no reference to a ticket" in result["thread"]
    # And nothing happened
    delivery.run()
    assert _state() == before
    assert http.call("GET", "/tickets").body["items"] == []


@pytest.mark.usefixtures("billing")
@pytest.mark.parametrize(
    ("headers", "extra", "action", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, {}, "hold", "Auto-Submitted: auto-replied"),
        ({}, {"verdicts": {"virus": "FAIL"}}, "quarantine", "SES found a virus"),
        ({}, {"verdicts": {"spam": "FAIL"}}, "quarantine", "SES judged it spam"),
    ],
)
def test_machine_mail_and_bad_verdicts_are_explained(
    http: HttpClient, headers: dict[str, str], extra: dict[str, Any], action: str, reason: str
) -> None:
    eml = "From: x@client.example.org\r\nTo: billing@example.com\r\nSubject: Hi\r\n"
    eml += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\nHi\r\n"
    (outcome,) = _simulate(http, eml, **extra)["outcomes"]
    assert (outcome["action"], outcome["reason"]) == (action, reason)


def test_only_admins_simulate(http: HttpClient) -> None:
    answer = http.call(
        "POST", "/channels/simulate", {"eml": "Subject: x\r\n\r\n"}, as_=("a@example.com", "agent")
    )
    assert answer.status == 403
