"""Quarantine: mail SES calls a virus or spam, or mail to no address of ours when the deployment
says so, waits for an admin instead of opening a ticket; admins list it and release it, once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local_stack.mail import ses_receipt_event
from local_stack.system import LocalSystem
from services.channels.data.tables import QuarantineItem
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service
AGENT = ("alice@example.com", "agent")


def _receive(system: LocalSystem, to: str, subject: str, **verdicts: str) -> Any:
    raw = (
        f"From: Zed <zed@client.example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4()}@client.example.org>\r\n\r\nHello.\r\n"
    ).encode()
    event = ses_receipt_event(raw, "zed@client.example.org", [to], uuid.uuid4().hex)
    receipt = event["Records"][0]["ses"]["receipt"]
    for name, status in verdicts.items():
        receipt[f"{name}Verdict"] = {"status": status}
    return system.invoke("channels", "receive_mail", event)


@pytest.fixture
def billing(http: HttpClient) -> dict[str, Any]:
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    answer = http.call(
        "POST", "/channels", {"address": "billing@example.com", "department_id": "billing"}
    )
    assert answer.status == 201
    return answer.body  # type: ignore[no-any-return]


@pytest.mark.usefixtures("billing")
def test_a_virus_waits_in_quarantine_until_an_admin_releases_it(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    # When a mail with a virus arrives
    assert _receive(system, "billing@example.com", "Prize!", virus="FAIL")["received"] == 1
    delivery.run()
    # Then no ticket opens, and admins (only) find it in the quarantine
    assert http.call("GET", "/tickets").body["items"] == []
    assert http.call("GET", "/channels/quarantine", as_=AGENT).status == 403
    (kept,) = http.call("GET", "/channels/quarantine").body["items"]
    assert (kept["reason"], kept["subject"]) == ("SES found a virus", "Prize!")
    assert kept["department_id"] == "billing"
    assert kept["raw_key"].startswith("inbound/")
    # When an admin releases it, it opens its ticket, once
    released = http.call("POST", f"/channels/quarantine/{kept['id']}/release", {})
    assert released.status == 200, released.body
    assert released.body["released_by"] == "admin@example.com"
    assert http.call("POST", f"/channels/quarantine/{kept['id']}/release", {}).status == 409
    assert (
        http.call("POST", f"/channels/quarantine/{kept['id']}/release", {}, as_=AGENT).status == 403
    )
    delivery.run()
    (ticket,) = http.call("GET", "/tickets").body["items"]
    assert (ticket["subject"], ticket["department_id"]) == ("Prize!", "billing")


@pytest.mark.usefixtures("billing")
def test_a_mail_is_quarantined_whole_or_not_at_all(
    http: HttpClient, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a mail with a virus, and a function that stops while it writes the quarantine's entry
    raw = b"From: zed@client.example.org\r\nTo: billing@example.com\r\nSubject: X\r\n\r\nHi\r\n"
    event = ses_receipt_event(raw, "zed@client.example.org", ["billing@example.com"], "ses-1")
    event["Records"][0]["ses"]["receipt"]["virusVerdict"] = {"status": "FAIL"}

    def stopped(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the function stopped here")

    with monkeypatch.context() as stopping:
        stopping.setattr(QuarantineItem, "serialize", stopped)
        with pytest.raises(RuntimeError):
            system.invoke("channels", "receive_mail", event)
    # Then nothing of the mail was written: SES's retry quarantines it, and admins find it
    assert system.invoke("channels", "receive_mail", event) == {"received": 1, "duplicates": 0}
    (kept,) = http.call("GET", "/channels/quarantine").body["items"]
    assert kept["reason"] == "SES found a virus"


def test_releasing_what_is_not_there_is_a_404(http: HttpClient) -> None:
    assert http.call("POST", "/channels/quarantine/nothing/release", {}).status == 404
