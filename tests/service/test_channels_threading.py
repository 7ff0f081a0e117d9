"""Replies by mail and back: agents' public replies leave as threaded mail, and a client's answer
finds its ticket again, while a stranger cannot write into someone else's ticket."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local_stack.mail import ses_receipt_event
from local_stack.system import LocalSystem
from services.channels.logic.thread_matching import number_of_token, reply_token
from shared.clock import get_clock
from tests.conftest import Delivery, HttpClient, sent_mail

pytestmark = pytest.mark.service
CLIENT = "carol@client.example.org"


def _receive(
    system: LocalSystem, headers: dict[str, str], body: str = "Thanks.", auth: str = "PASS"
) -> Any:
    raw = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + f"\r\n{body}\r\n"
    recipients = [headers["To"]]
    event = ses_receipt_event(raw.encode(), CLIENT, recipients, uuid.uuid4().hex)
    for check in ("spf", "dkim", "dmarc"):
        event["Records"][0]["ses"]["receipt"][f"{check}Verdict"] = {"status": auth}
    return system.invoke("channels", "receive_mail", event)


@pytest.fixture
def ticket(http: HttpClient, system: LocalSystem, delivery: Delivery) -> dict[str, Any]:
    """A ticket a client opened by mail to Billing's address."""
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing", "signature": "Billing"}
    assert http.call("POST", "/channels", channel).status == 201
    _receive(
        system,
        {
            "From": f"Carol <{CLIENT}>",
            "To": "billing@example.com",
            "Cc": "dave@client.example.org",
            "Subject": "Invoice twice",
            "Message-ID": "<first@client.example.org>",
        },
        "I was charged twice.",
    )
    delivery.run()
    (opened,) = http.call("GET", "/tickets?department_id=billing").body["items"]
    return opened


def test_internal_notes_are_never_mailed(
    http: HttpClient, delivery: Delivery, ticket: dict[str, Any]
) -> None:
    marker = f"SECRET-{uuid.uuid4()}"
    note = {"body": f"Client is difficult {marker}", "visibility": "internal"}
    assert http.call("POST", f"/tickets/{ticket['id']}/messages", note).status == 201
    assert http.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "Done."}).status == 201
    delivery.run()
    sent = sent_mail()
    assert len(sent) == 1  # the public reply only
    assert all(marker not in m.as_string() for m in sent)


def _reply_to_last_mail(system: LocalSystem) -> Any:
    last = sent_mail()[-1]
    headers = {
        "From": f"Carol <{CLIENT}>",
        "To": "billing@example.com",
        "Subject": f"Re: {last['Subject']}",
        "Message-ID": f"<{uuid.uuid4()}@client.example.org>",
        "In-Reply-To": last["Message-ID"],
        "References": f"{last['References']} {last['Message-ID']}",
    }
    return _receive(system, headers)


def test_a_client_reply_returns_to_its_ticket(
    http: HttpClient, system: LocalSystem, delivery: Delivery, ticket: dict[str, Any]
) -> None:
    # Given the agent answered and the ticket waits on the client
    http.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "Which card?"})
    delivery.run()
    (mail,) = sent_mail()
    assert mail["In-Reply-To"] == "<first@client.example.org>"
    # When the client answers it
    _reply_to_last_mail(system)
    delivery.run()
    # Then the answer is on the same ticket, which is open again, and no new ticket exists
    tickets = http.call("GET", "/tickets").body["items"]
    assert [t["id"] for t in tickets] == [ticket["id"]]
    assert tickets[0]["status"] == "open"
    messages = http.call("GET", f"/tickets/{ticket['id']}/messages").body["items"]
    assert messages[-1]["author"] == {"type": "client", "email": CLIENT, "name": "Carol"}


@pytest.mark.parametrize(
    ("sender", "auth"),
    [("mallory@evil.example.net", "PASS"), (CLIENT, "FAIL")],
    ids=["stranger", "forged sender"],
)
def test_a_guessed_subject_tag_opens_a_new_ticket(
    http: HttpClient,
    system: LocalSystem,
    delivery: Delivery,
    ticket: dict[str, Any],
    sender: str,
    auth: str,
) -> None:
    # When someone not on the ticket (or failing SPF, DKIM and DMARC) writes with its tag
    _receive(
        system,
        {
            "From": sender,
            "To": "billing@example.com",
            "Subject": f"Re: [{ticket['number']}] Invoice twice",
            "Message-ID": f"<{uuid.uuid4()}@evil.example.net>",
        },
        "Send the refund to my account instead.",
        auth=auth,
    )
    delivery.run()
    # Then the original ticket is untouched and a new one is marked as a possible follow-up
    tickets = {t["id"]: t for t in http.call("GET", "/tickets").body["items"]}
    assert len(tickets) == 2
    original = tickets.pop(ticket["id"])
    assert original["version"] == ticket["version"]
    (new,) = tickets.values()
    assert new["possible_follow_up_of"] == ticket["id"]


def test_a_forged_reply_token_is_ignored() -> None:
    now = get_clock().now()
    token = reply_token("TKT-0042", "a-secret-of-sixteen+", now)
    assert number_of_token(token, "a-secret-of-sixteen+", now, days=180) == "TKT-0042"
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert number_of_token(forged, "a-secret-of-sixteen+", now, days=180) is None
    assert number_of_token(token, "another-secret-value", now, days=180) is None
    assert number_of_token("tkt-0042", "a-secret-of-sixteen+", now, days=180) is None
    # A token's day is signed too: moving it forward to escape its expiry breaks the signature
    number, day, signature = token.split(".")
    later = f"{number}.{int(day) + 100}.{signature}"
    assert number_of_token(later, "a-secret-of-sixteen+", now, days=180) is None
