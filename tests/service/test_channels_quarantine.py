"""Quarantine: mail SES calls a virus or spam, or mail to no address of ours when the deployment
says so, waits for an admin instead of opening a ticket; admins list it and release it, once."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from local_stack.mail import MailReceiver, ses_receipt_event
from local_stack.system import LocalSystem
from services.channels.data.tables import QuarantineItem
from shared.aws import reset_process_state
from shared.settings import get_settings
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
@pytest.mark.parametrize(
    ("verdicts", "reason"),
    [({"virus": "FAIL"}, "SES found a virus"), ({"spam": "FAIL"}, "SES judged it spam")],
)
def test_virus_and_spam_wait_in_quarantine_until_an_admin_releases_them(
    http: HttpClient,
    system: LocalSystem,
    delivery: Delivery,
    verdicts: dict[str, str],
    reason: str,
) -> None:
    # When such a mail arrives
    assert _receive(system, "billing@example.com", "Prize!", **verdicts)["received"] == 1
    delivery.run()
    # Then no ticket opens, and admins (only) find it in the quarantine
    assert http.call("GET", "/tickets").body["items"] == []
    assert http.call("GET", "/channels/quarantine", as_=AGENT).status == 403
    (kept,) = http.call("GET", "/channels/quarantine").body["items"]
    assert (kept["reason"], kept["subject"], kept["department_id"]) == (reason, "Prize!", "billing")
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


def test_spam_goes_through_when_the_channel_says_so(
    http: HttpClient, system: LocalSystem, delivery: Delivery, billing: dict[str, Any]
) -> None:
    http.call("PATCH", f"/channels/{billing['id']}", {"quarantine_spam": False})
    _receive(system, "billing@example.com", "Maybe spam", spam="FAIL")
    delivery.run()
    assert len(http.call("GET", "/tickets").body["items"]) == 1
    assert http.call("GET", "/channels/quarantine").body["items"] == []


def test_mail_to_no_address_of_ours_is_quarantined_when_configured(
    http: HttpClient, system: LocalSystem, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_UNKNOWN_ADDRESS_MAIL", "quarantine")
    reset_process_state()
    assert http.call("POST", "/departments", {"name": "Sales"}).status == 201
    _receive(system, "nobody@example.com", "Lost mail")
    delivery.run()
    assert http.call("GET", "/tickets").body["items"] == []
    (kept,) = http.call("GET", "/channels/quarantine").body["items"]
    assert kept["reason"] == "sent to no address of ours"
    # An admin may release it into the department it belongs to
    released = http.call(
        "POST", f"/channels/quarantine/{kept['id']}/release", {"department_id": "sales"}
    )
    assert released.status == 200, released.body
    delivery.run()
    (ticket,) = http.call("GET", "/tickets").body["items"]
    assert ticket["department_id"] == "sales"


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


@pytest.mark.usefixtures("billing")
def test_the_quarantine_pages_newest_first(http: HttpClient, system: LocalSystem) -> None:
    for number in range(5):
        _receive(system, "billing@example.com", f"spam {number}", spam="FAIL")
    first = http.call("GET", "/channels/quarantine?limit=3").body
    second = http.call("GET", f"/channels/quarantine?limit=3&cursor={first['next_cursor']}").body
    ids = [m["id"] for m in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert ids == sorted(ids, reverse=True)


def test_a_mail_the_parser_gives_up_on_is_quarantined_not_lost(
    http: HttpClient, system: LocalSystem, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a parser that fails on this mail
    def broken(*args: object) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr("services.channels.logic.mail_parser._parse", broken)
    receiver = MailReceiver(
        get_settings().mail_bucket, lambda e: system.invoke("channels", "receive_mail", e)
    )
    raw = b"From: zed@client.example.org\r\nTo: billing@example.com\r\nSubject: X\r\n\r\nHi\r\n"
    # When it arrives
    receiver.receive(raw, "zed@client.example.org", ["billing@example.com"])
    delivery.run()
    # Then it opens no ticket but waits for an admin, with the raw mail kept
    assert http.call("GET", "/tickets").body["items"] == []
    (kept,) = http.call("GET", "/channels/quarantine").body["items"]
    assert kept["reason"] == "the mail could not be parsed"
    stored = boto3.client("s3").get_object(Bucket=get_settings().mail_bucket, Key=kept["raw_key"])
    assert stored["Body"].read() == raw
