"""A ticket's life through the whole local system: departments, an agent's work over HTTP, a
client's mail through the bus, and who sees what."""

from __future__ import annotations

import json
import smtplib
import uuid
from datetime import UTC, datetime

import boto3
import pytest

from tests.flow.conftest import RunningStack, eventually

pytestmark = pytest.mark.flow
ALICE, BOB = ("alice@example.com", "agent"), ("bob@example.com", "agent")


def _client_mail(stack: RunningStack, ticket_id: str, text: str) -> None:
    """Put EmailReceived on the bus as the channels service does for a reply it threaded."""
    events = boto3.client("events", endpoint_url=f"http://127.0.0.1:{stack.aws}")
    now = datetime.now(UTC).isoformat()
    detail = {
        "id": str(uuid.uuid4()),
        "occurred_at": now,
        "schema_version": 1,
        "data": {
            "ses_message_id": uuid.uuid4().hex,
            "message_id": f"<{uuid.uuid4()}@client.example.org>",
            "raw_key": "inbound/x",
            "sender": {"email": "carol@client.example.org", "name": "Carol"},
            "recipients": ["billing@example.com"],
            "subject": "Re: Invoice",
            "text": text,
            "ticket_id": ticket_id,
            "received_at": now,
            "verdicts": {},
        },
    }
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": "helpdesk-local-bus",
                "Source": "helpdesk.channels",
                "DetailType": "EmailReceived",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0


def test_a_ticket_from_open_to_answered_to_reopened(stack: RunningStack) -> None:
    admin, alice, bob = stack.token(), stack.token(*ALICE), stack.token(*BOB)
    # Given Billing with Alice in it, and Bob elsewhere
    assert stack.call("POST", "/departments", {"name": "Billing"}, admin)[0] == 201
    assert stack.call("POST", "/departments", {"name": "Sales"}, admin)[0] == 201
    assert stack.call("POST", "/departments/billing/members", {"email": ALICE[0]}, admin)[0] == 200
    assert stack.call("POST", "/departments/sales/members", {"email": BOB[0]}, admin)[0] == 200
    # When Alice opens a ticket for a client
    status, ticket = stack.call(
        "POST",
        "/tickets",
        {
            "subject": "Invoice twice",
            "body": "Charged twice in May.",
            "department_id": "billing",
            "requester": {"email": "carol@client.example.org", "name": "Carol"},
            "priority": "high",
        },
        alice,
    )
    assert status == 201, ticket
    path = f"/tickets/{ticket['number']}"
    # Then Bob can neither see it nor find it in his lists
    assert stack.call("GET", path, token=bob)[0] == 404
    assert stack.call("GET", "/tickets", token=bob)[1]["items"] == []
    # When Alice replies and adds a note
    status, posted = stack.call("POST", f"{path}/messages", {"body": "Refund on its way."}, alice)
    assert (status, posted["ticket"]["status"]) == (201, "waiting_on_client")
    note = {"body": "Checked with finance", "visibility": "internal"}
    assert stack.call("POST", f"{path}/messages", note, alice)[0] == 201
    # And the client answers by mail
    _client_mail(stack, ticket["id"], "Thanks, but when?")
    reopened = eventually(
        lambda: stack.call("GET", path, token=alice),
        done=lambda answer: answer[1]["status"] == "open",
    )
    # Then the ticket is open again, by the system, and the conversation reads in order
    assert reopened[1]["status"] == "open"
    _, conversation = stack.call("GET", f"{path}/messages", token=alice)
    assert [(m["author"]["type"], m["visibility"]) for m in conversation["items"]] == [
        ("agent", "public"),
        ("agent", "public"),
        ("agent", "internal"),
        ("client", "public"),
    ]
    _, history = stack.call("GET", f"{path}/history", token=alice)
    assert [
        (e["field"], e["new"], e["actor"]) for e in history["items"] if e["field"] == "status"
    ] == [
        ("status", "waiting_on_client", "system"),
        ("status", "open", "system"),
    ]
    # When Alice assigns it to herself with a stale version, then the current one
    version = reopened[1]["version"]
    stale = stack.call("PATCH", path, {"assignee": ALICE[0], "version": version - 1}, alice)
    assert stale[0] == 409
    status, assigned = stack.call("PATCH", path, {"assignee": ALICE[0], "version": version}, alice)
    assert status == 200, assigned
    assert assigned["assignee"] == ALICE[0]
    # Then her queue, her list and the tab counts show it
    _, mine = stack.call("GET", "/tickets?assignee=me", token=alice)
    assert [t["number"] for t in mine["items"]] == [ticket["number"]]
    _, counts = stack.call("GET", "/departments/billing/counts", token=alice)
    assert counts["open"] == 1
    assert stack.call("GET", "/departments/billing/counts", token=bob)[0] == 404


def test_mail_to_the_smtp_port_opens_a_ticket(stack: RunningStack) -> None:
    admin = stack.token()
    raw = (
        "From: Dan <dan@client.example.org>\r\nTo: support@example.com\r\n"
        "Subject: Cannot log in\r\nMessage-ID: <login-1@client.example.org>\r\n\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("dan@client.example.org", ["support@example.com"], raw.encode())

    def opened() -> list[dict[str, object]]:
        _, page = stack.call("GET", "/tickets?department_id=none", token=admin)
        return [t for t in page["items"] if t["subject"] == "Cannot log in"]

    tickets = eventually(opened)
    assert tickets, "no ticket for the mail"
    assert tickets[0]["requester"] == {"email": "dan@client.example.org", "name": "Dan"}


def test_mail_to_a_department_address_opens_a_ticket_there(stack: RunningStack) -> None:
    admin = stack.token()
    # Given Support with its own address
    assert stack.call("POST", "/departments", {"name": "Support"}, admin)[0] == 201
    status, channel = stack.call(
        "POST", "/channels", {"address": "help@example.com", "department_id": "support"}, admin
    )
    assert status == 201, channel
    # When a client writes to it by SMTP, with a +tag
    raw = (
        "From: Eve <eve@client.example.org>\r\nTo: help+urgent@example.com\r\n"
        "Subject: Printer jammed\r\nMessage-ID: <jam-1@client.example.org>\r\n\r\nJammed.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("eve@client.example.org", ["help+urgent@example.com"], raw.encode())
    # Then a ticket opens in Support, on that channel
    _, page = eventually(
        lambda: stack.call("GET", "/tickets?department_id=support", token=admin),
        done=lambda answer: bool(answer[1]["items"]),
    )
    assert [(t["subject"], t["channel_id"]) for t in page["items"]] == [
        ("Printer jammed", channel["id"])
    ]


def test_a_reply_by_mail_and_the_answer_by_mail_stay_in_one_thread(stack: RunningStack) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Returns"}, admin)[0] == 201
    channel = {"address": "returns@example.com", "department_id": "returns"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    # Given a client's mail opened a ticket
    first = (
        "From: Fay <fay@client.example.org>\r\nTo: returns@example.com\r\n"
        "Subject: Broken lamp\r\nMessage-ID: <lamp-1@client.example.org>\r\n\r\nIt broke.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("fay@client.example.org", ["returns@example.com"], first.encode())
    _, page = eventually(
        lambda: stack.call("GET", "/tickets?department_id=returns", token=admin),
        done=lambda answer: bool(answer[1]["items"]),
    )
    (ticket,) = page["items"]
    # When an agent answers over HTTP
    answer = stack.call(
        "POST", f"/tickets/{ticket['id']}/messages", {"body": "Send it back."}, admin
    )
    assert answer[0] == 201
    # Then the mail is in the local outbox, threaded to the client's mail
    _, outbox = eventually(
        lambda: stack.call("GET", "/local/outbox"),
        done=lambda answer: any(m["to"] == "fay@client.example.org" for m in answer[1]),
    )
    (sent,) = [m for m in outbox if m["to"] == "fay@client.example.org"]
    assert sent["subject"] == f"[{ticket['number']}] Broken lamp"
    assert sent["in_reply_to"] == "<lamp-1@client.example.org>"
    assert "Send it back." in sent["text"]
    # When the client answers that mail
    reply = (
        f"From: Fay <fay@client.example.org>\r\nTo: returns@example.com\r\n"
        f"Subject: Re: {sent['subject']}\r\nMessage-ID: <lamp-2@client.example.org>\r\n"
        f"In-Reply-To: {sent['message_id']}\r\nReferences: {sent['references']} "
        f"{sent['message_id']}\r\n\r\nWhere to?\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("fay@client.example.org", ["returns@example.com"], reply.encode())
    # Then it lands on the same ticket, which is open again
    _, reopened = eventually(
        lambda: stack.call("GET", f"/tickets/{ticket['id']}", token=admin),
        done=lambda answer: answer[1]["status"] == "open" and answer[1]["version"] > 2,
    )
    assert reopened["status"] == "open"
    _, messages = stack.call("GET", f"/tickets/{ticket['id']}/messages", token=admin)
    assert [m["body"].strip() for m in messages["items"]][-1] == "Where to?"
    _, everything = stack.call("GET", "/tickets?department_id=returns", token=admin)
    assert len(everything["items"]) == 1


def _smtp(stack: RunningStack, sender: str, to: str, headers: dict[str, str], body: str) -> None:
    raw = "".join(f"{k}: {v}\r\n" for k, v in {"From": sender, "To": to, **headers}.items())
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail(sender, [to], (raw + "\r\n" + body + "\r\n").encode())


def test_duplicates_autoreplies_and_strangers_by_mail(stack: RunningStack) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Claims"}, admin)[0] == 201
    channel = {"address": "claims@example.com", "department_id": "claims"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    # Given a client's mail delivered twice (two SMTP deliveries, one Message-ID)
    first = {"Subject": "Water damage", "Message-ID": "<claim-1@client.example.org>"}
    for _ in range(2):
        _smtp(stack, "gus@client.example.org", "claims@example.com", first, "The roof leaks.")

    def claims() -> list[dict[str, object]]:
        return stack.call("GET", "/tickets?department_id=claims", token=admin)[1]["items"]

    (ticket,) = eventually(claims)
    # When an agent answers, and the client's out-of-office replies to that answer
    assert (
        stack.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "Photos?"}, admin)[0]
        == 201
    )
    _, outbox = eventually(
        lambda: stack.call("GET", "/local/outbox"),
        done=lambda answer: any(m["to"] == "gus@client.example.org" for m in answer[1]),
    )
    (answer,) = [m for m in outbox if m["to"] == "gus@client.example.org"]
    sent_before = len(outbox)
    auto = {
        "Subject": f"Automatic reply: {answer['subject']}",
        "Message-ID": "<ooo-1@client.example.org>",
        "In-Reply-To": answer["message_id"],
        "Auto-Submitted": "auto-replied",
    }
    _smtp(stack, "gus@client.example.org", "claims@example.com", auto, "I am away.")
    # And a stranger writes with the ticket's tag in the subject
    stranger = {
        "Subject": f"Re: [{ticket['number']}] Water damage",
        "Message-ID": "<mallory-1@evil.example.net>",
    }
    _smtp(stack, "mallory@evil.example.net", "claims@example.com", stranger, "Pay me instead.")
    # Then the autoreply is on the ticket without re-opening it, and nobody answered it
    _, messages = eventually(
        lambda: stack.call("GET", f"/tickets/{ticket['id']}/messages", token=admin),
        done=lambda answer: len(answer[1]["items"]) == 3,
    )
    assert messages["items"][-1]["body"].strip() == "I am away."
    assert stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1]["status"] == (
        "waiting_on_client"
    )
    # And the stranger got a new ticket of their own, marked as a possible follow-up
    tickets = eventually(claims, done=lambda items: len(items) >= 2)
    # (the duplicate delivery opened nothing: one ticket from the client, one from the stranger)
    assert sorted(t["requester"]["email"] for t in tickets) == [
        "gus@client.example.org",
        "mallory@evil.example.net",
    ]
    (new,) = [t for t in tickets if t["id"] != ticket["id"]]
    assert new["possible_follow_up_of"] == ticket["id"]
    assert len(stack.call("GET", "/local/outbox")[1]) == sent_before


def test_a_reply_to_an_address_that_bounces_shows_it_on_the_message(stack: RunningStack) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Parcels"}, admin)[0] == 201
    channel = {"address": "parcels@example.com", "department_id": "parcels"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    # Given a ticket whose requester's mailbox does not exist (SES's simulator bounces it)
    opened = {
        "subject": "Broken parcel",
        "body": "Arrived broken.",
        "department_id": "parcels",
        "requester": {"email": "bounce@simulator.amazonses.com"},
        "cc": ["kim@client.example.org"],
    }
    status, ticket = stack.call("POST", "/tickets", opened, admin)
    assert status == 201, ticket
    # When an agent answers
    status, posted = stack.call(
        "POST", f"/tickets/{ticket['id']}/messages", {"body": "Send a photo?"}, admin
    )
    assert status == 201, posted

    # Then SES's reports reach the message: bounced for the requester, delivered for the CC
    def delivery() -> dict[str, str]:
        _, page = stack.call("GET", f"/tickets/{ticket['id']}/messages", token=admin)
        (reply,) = [m for m in page["items"] if m["id"] == posted["message"]["id"]]
        return {r: d["state"] for r, d in reply["delivery"].items()}

    reported = eventually(
        delivery, done=lambda states: len(states) == 2 and "sent" not in states.values()
    )
    assert reported == {
        "bounce@simulator.amazonses.com": "bounced",
        "kim@client.example.org": "delivered",
    }
