"""A mail we cannot build or send never waits silently in a dead-letter queue: headers that would
break are written clean, and anything that still fails is on the message as a failed delivery,
with the reason, and announced."""

from __future__ import annotations

import uuid

import pytest

from local_stack.mail import MailReceiver
from local_stack.system import LocalSystem
from shared.events.catalogue import EmailReceived, MailVerdicts, Person
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, sent_mail
from tests.service.test_contacts_support import publish

pytestmark = pytest.mark.service

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


# --- helpers ----------------------------------------------------------------------------------


def _delivery_of(http: HttpClient, ticket_id: str, message_id: str) -> str:
    messages = http.expect(200, "GET", f"/tickets/{ticket_id}/messages")["items"]
    (message,) = [m for m in messages if m["id"] == message_id]
    (state,) = {d["state"] for d in message["delivery"].values()}
    return str(state)
