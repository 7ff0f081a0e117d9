"""A mail we cannot build or send never waits silently in a dead-letter queue: headers that would
break are written clean, and anything that still fails is on the message as a failed delivery,
with the reason, and announced."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from local_stack.mail import MailReceiver
from local_stack.system import LocalSystem
from services.channels.data.outbound import DynamoOutboundRepository
from services.channels.data.threads import DynamoThreadRepository
from services.channels.handlers.wiring import dependencies
from services.channels.logic.channel import Channel
from services.channels.logic.dependencies import Dependencies, HourlyLimits, ReplyTokens
from services.channels.logic.follow_tickets import follow_message, remember_ticket
from shared.aws import client
from shared.clock import Clock, FixedClock
from shared.events.catalogue import (
    Attachment,
    EmailReceived,
    MailVerdicts,
    MessagePosted,
    Person,
    TicketCreated,
)
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, sent_mail
from tests.service.test_contacts_support import publish

pytestmark = pytest.mark.service

CLOCK = FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
BROKEN_SUBJECTS = {
    "line separator": "Invoice\u2028Bcc: eve@evil.example",
    "CR LF": "Invoice\r\nBcc: eve@evil.example",
}


@pytest.fixture
def billing(http: HttpClient) -> None:
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing", "acknowledge": True}
    assert http.call("POST", "/channels", channel).status == 201


def _mail_opening_a_ticket(subject: str) -> EmailReceived:
    return EmailReceived(
        ses_message_id=uuid.uuid4().hex,
        message_id=f"{uuid.uuid4().hex}@client.example.org",
        raw_key="inbound/x",
        sender=Person(email="carol@client.example.org"),
        recipients=["billing@example.com"],
        subject=subject,
        text="Charged twice.",
        department_id="billing",
        received_at="2026-11-02T09:00:00.000Z",
        verdicts=MailVerdicts(),
    )


@pytest.mark.parametrize("subject", BROKEN_SUBJECTS.values(), ids=BROKEN_SUBJECTS.keys())
@pytest.mark.usefixtures("billing")
def test_a_reply_on_a_ticket_whose_subject_breaks_lines_goes_out_with_a_clean_subject(
    http: HttpClient, delivery: Delivery, subject: str
) -> None:
    # Given a ticket a mail opened, whose subject holds a line break
    publish(delivery, _mail_opening_a_ticket(subject))
    (ticket,) = http.expect(200, "GET", "/tickets")["items"]
    # When an agent answers
    posted = http.expect(201, "POST", f"/tickets/{ticket['id']}/messages", {"body": "Refunded."})
    delivery.run()
    # Then the answer went out with the subject on one line, and no header it smuggled in
    (mail,) = sent_mail()
    assert mail["Subject"] == f"[{ticket['number']}] Invoice Bcc: eve@evil.example"
    assert mail["Bcc"] is None
    assert mail["To"] == "carol@client.example.org"
    assert _delivery_of(http, ticket["id"], posted["message"]["id"]) == "delivered"


@pytest.mark.usefixtures("billing")
def test_an_acknowledgement_of_mail_whose_subject_encodes_a_line_break_goes_out_clean(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    # Given a mail whose encoded subject hides CR LF and a header, to an acknowledging address
    raw = (
        b"From: carol@client.example.org\r\nTo: billing@example.com\r\n"
        b"Subject: =?utf-8?q?Invoice=0D=0ABcc:_eve@evil.example?=\r\n"
        b"Message-ID: <inv-1@client.example.org>\r\n\r\nCharged twice.\r\n"
    )
    inbox = MailReceiver(
        get_settings().mail_bucket, lambda e: system.invoke("channels", "receive_mail", e)
    )
    # When it arrives and the ticket is answered
    inbox.receive(raw, "carol@client.example.org", ["billing@example.com"])
    delivery.run()
    (ticket,) = http.expect(200, "GET", "/tickets")["items"]
    posted = http.expect(201, "POST", f"/tickets/{ticket['id']}/messages", {"body": "Refunded."})
    delivery.run()
    # Then the acknowledgement and the answer both went out, each subject on one line
    acknowledgement, answer = sent_mail()
    for mail in (acknowledgement, answer):
        assert "\r" not in mail["Subject"]
        assert "\n" not in mail["Subject"]
        assert mail["Bcc"] is None
    assert acknowledgement["Auto-Submitted"] == "auto-replied"
    assert _delivery_of(http, ticket["id"], posted["message"]["id"]) == "delivered"


def test_an_attachment_name_with_a_line_break_is_sent_with_a_clean_name(
    system: LocalSystem,
) -> None:
    # Given a reply naming an uploaded file whose name holds CR LF
    key = f"uploads/{uuid.uuid4()}/receipt.pdf"
    client("s3").put_object(Bucket=get_settings().mail_bucket, Key=key, Body=b"%PDF-1.4")
    name = "receipt\r\nBcc: eve@evil.example.pdf"
    posted = _posted(
        attachments=[Attachment(name=name, content_type="application/pdf", size=8, key=key)]
    )
    # When it is mailed (nothing raised to the queue)
    _follow(posted)
    # Then the file went out under its name on one line
    (mail,) = sent_mail()
    (attached,) = list(mail.iter_attachments())
    assert attached.get_filename() == "receipt Bcc: eve@evil.example.pdf"
    assert attached.get_content() == b"%PDF-1.4"
    assert mail["Bcc"] is None
    assert [e["data"]["message_id"] for e in _outbox("EmailSent")] == [_outbound()["message_id"]]


def test_a_reply_that_cannot_be_written_is_failed_for_good_and_announced(
    system: LocalSystem,
) -> None:
    # Given a reply copied to an address no mail header can carry
    posted = _posted(cc=["kim\u2028@client.example.org"])
    # When it is handled, and handled again (the event delivered twice)
    _follow(posted)
    _follow(posted)
    # Then nothing went out (it was tried once), and the failure is announced with its reason
    assert sent_mail() == []
    outbound = _outbound()
    assert (outbound["state"], outbound["attempts"]) == ("failed", 2)
    (failed,) = _outbox("EmailBounced")
    assert (failed["data"]["kind"], failed["data"]["permanent"]) == ("failed", True)
    assert failed["data"]["reason"].startswith("the mail could not be written")
    assert failed["data"]["ticket_message_id"] == posted.message_id
    assert {r["email"] for r in failed["data"]["recipients"]} == {
        "carol@client.example.org",
        "kim\u2028@client.example.org",
    }


@pytest.mark.usefixtures("billing")
def test_a_failed_mail_shows_on_the_message_with_its_reason(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a ticket opened by mail, copied to an address no mail header can carry
    mail = _mail_opening_a_ticket("Invoice").model_copy(update={"cc": ["kim\u2028@x.example.org"]})
    publish(delivery, mail)
    (ticket,) = http.expect(200, "GET", "/tickets")["items"]
    # When an agent answers
    posted = http.expect(201, "POST", f"/tickets/{ticket['id']}/messages", {"body": "Refunded."})
    delivery.run()
    # Then the message shows the mail failed, for every recipient, and why
    messages = http.expect(200, "GET", f"/tickets/{ticket['id']}/messages")["items"]
    (reply,) = [m for m in messages if m["id"] == posted["message"]["id"]]
    assert {d["state"] for d in reply["delivery"].values()} == {"failed"}
    assert reply["delivery"]["carol@client.example.org"]["detail"].startswith(
        "the mail could not be written"
    )
    assert sent_mail() == []


def test_an_acknowledgement_that_cannot_be_written_is_kept_as_failed(system: LocalSystem) -> None:
    # Given a new ticket to acknowledge, for a requester no mail header can carry
    created = TicketCreated(
        ticket_id="t2",
        number="TKT-0002",
        subject="Invoice",
        status="open",
        priority="medium",
        department_id="billing",
        requester=Person(email="carol\u2028@client.example.org"),
        mail_message_id="m2@client.example.org",
        created_at="2026-11-02T09:00:00.000Z",
    )
    # When it is remembered (nothing raised to the queue)
    deps = dependencies_at(CLOCK, channels=_OneChannel(), acknowledgements=_AlwaysAcknowledge())
    remember_ticket(created, deps)
    # Then nothing went out, and the failure is kept and announced
    assert sent_mail() == []
    assert _outbound()["state"] == "failed"
    (failed,) = _outbox("EmailBounced")
    assert failed["data"]["ticket_message_id"] is None
    assert failed["data"]["kind"] == "failed"


# --- helpers ----------------------------------------------------------------------------------


def dependencies_at(clock: Clock, **ports: Any) -> Dependencies:
    """The service's dependencies on `clock`, with these `ports` instead, signing no reply-to
    addresses."""
    wired = dependencies()
    return replace(
        wired,
        threads=DynamoThreadRepository(clock),
        outbound_mail=DynamoOutboundRepository(clock),
        clock=clock,
        policy=replace(wired.policy, reply_tokens=ReplyTokens(None, 1)),
        **ports,
    )


CHANNEL = Channel(
    id="c1", address="billing@example.com", department_id="billing", created_at=CLOCK.now()
)


class _OneChannel:
    def get(self, channel_id: str) -> Channel | None:
        return CHANNEL

    def of_department(self, department_id: str) -> Channel | None:
        return CHANNEL


class _AlwaysAcknowledge:
    def claim_acknowledgement(self, message_id: str, department_id: str | None) -> str | None:
        return CHANNEL.id

    def take_acknowledgement(self, sender: str, channel_id: str, limits: HourlyLimits) -> bool:
        return True


def _posted(**fields: Any) -> MessagePosted:
    return MessagePosted(
        **{
            "ticket_id": "t1",
            "number": "TKT-0001",
            "subject": "Invoice",
            "message_id": "m1",
            "visibility": "public",
            "author": {"type": "agent", "email": "alice@example.com", "name": "Alice"},
            "department_id": "billing",
            "requester": Person(email="carol@client.example.org"),
            "body": "Refunded.",
            "created_at": "2026-11-02T09:00:00.000Z",
            **fields,
        }
    )


def _follow(posted: MessagePosted) -> None:
    follow_message(posted, dependencies_at(CLOCK, channels=_OneChannel()))


def _delivery_of(http: HttpClient, ticket_id: str, message_id: str) -> str:
    messages = http.expect(200, "GET", f"/tickets/{ticket_id}/messages")["items"]
    (message,) = [m for m in messages if m["id"] == message_id]
    (state,) = {d["state"] for d in message["delivery"].values()}
    return str(state)


def _channels_items(prefix: str) -> list[dict[str, Any]]:
    table = get_settings().table_name("channels")
    pages = client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [i for page in pages for i in page["Items"] if i["pk"]["S"].startswith(prefix)]


def _outbound() -> dict[str, Any]:
    (item,) = _channels_items("OUTBOUND#")
    return {
        "state": item["state"]["S"],
        "attempts": int(item["attempts"]["N"]),
        "message_id": item["message_id"]["S"],
    }


def _outbox(name: str) -> list[dict[str, Any]]:
    return [
        json.loads(item["detail"]["S"])
        for item in _channels_items("OUTBOX#")
        if item["detail_type"]["S"] == name
    ]
