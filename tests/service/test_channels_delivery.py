"""What becomes of the mail of an agent's reply, as the agent sees it on the message: sent, then
delivered, bounced or complained about (SES's reports), or failed when SES will not take it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from local_stack.mail import SIMULATED_BOUNCE, SIMULATED_COMPLAINT
from local_stack.system import LocalSystem
from services.channels.handlers.reports import REPORTS_FUNCTION, delivery_report
from shared.aws import client
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, sent_mail

pytestmark = pytest.mark.service


@pytest.fixture
def billing(http: HttpClient) -> None:
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert http.call("POST", "/channels", channel).status == 201


def _answered(
    http: HttpClient,
    delivery: Delivery,
    requester: str,
    attachments: list[dict[str, Any]] | None = None,
    **ticket: Any,
) -> Any:
    """Open a ticket for `requester`, answer it publicly, let everything settle; the reply."""
    opened = http.call(
        "POST",
        "/tickets",
        {
            "subject": "Invoice twice",
            "body": "Charged twice.",
            "department_id": "billing",
            "requester": {"email": requester},
            **ticket,
        },
    )
    assert opened.status == 201, opened.body
    answer = {"body": "Refunded.", "attachments": attachments or []}
    posted = http.call("POST", f"/tickets/{opened.body['id']}/messages", answer)
    assert posted.status == 201, posted.body
    delivery.run()
    messages = http.call("GET", f"/tickets/{opened.body['id']}/messages").body["items"]
    return next(m for m in messages if m["id"] == posted.body["message"]["id"])


@pytest.mark.usefixtures("billing")
def test_a_delivered_reply_says_so_per_recipient(http: HttpClient, delivery: Delivery) -> None:
    reply = _answered(http, delivery, "carol@client.example.org", cc=["dave@client.example.org"])
    assert {r: d["state"] for r, d in reply["delivery"].items()} == {
        "carol@client.example.org": "delivered",
        "dave@client.example.org": "delivered",
    }
    assert reply["delivery"]["carol@client.example.org"]["detail"].startswith("250")


@pytest.mark.usefixtures("billing")
def test_a_hard_bounce_and_a_complaint_show_on_the_reply(
    http: HttpClient, delivery: Delivery
) -> None:
    reply = _answered(http, delivery, SIMULATED_BOUNCE, cc=[SIMULATED_COMPLAINT])
    bounced = reply["delivery"][SIMULATED_BOUNCE]
    assert bounced["state"] == "bounced"
    assert "550" in bounced["detail"]
    assert reply["delivery"][SIMULATED_COMPLAINT]["state"] == "complained"


@pytest.mark.usefixtures("billing")
def test_a_late_or_repeated_report_never_hides_a_bounce(
    http: HttpClient, delivery: Delivery
) -> None:
    reply = _answered(http, delivery, SIMULATED_BOUNCE)
    # When SES's delivery report for the same mail comes after the bounce, and the bounce again
    (mail,) = sent_mail()
    ses_id = _ses_message_id()
    for report in delivery.mail_reports.reports(ses_id, "billing@example.com", [mail["To"]]):
        report["eventType"] = "Delivery"
        report["delivery"] = {"timestamp": report["mail"]["timestamp"], "recipients": [mail["To"]]}
        _publish_report(report)
    delivery.run()
    for report in delivery.mail_reports.reports(ses_id, "billing@example.com", [mail["To"]]):
        _publish_report(report)
    delivery.run()
    # Then the message still says bounced, as first reported
    messages = http.call("GET", f"/tickets/{reply['ticket_id']}/messages").body["items"]
    (again,) = [m for m in messages if m["id"] == reply["id"]]
    assert again["delivery"] == reply["delivery"]


# In AWS, IAM refuses it before SES does: the functions may send only from the support domain.
@pytest.mark.refused_by_iam("channels", "ses:SendRawEmail")
def test_a_reply_ses_refuses_is_marked_failed_and_not_sent_again(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a department whose address is on a domain SES has not verified
    assert http.call("POST", "/departments", {"name": "Sales"}).status == 201
    channel = {"address": "sales@unverified.example.net", "department_id": "sales"}
    assert http.call("POST", "/channels", channel).status == 201
    reply = _answered(http, delivery, "carol@client.example.org", department_id="sales")
    # Then SES's refusal is on the message, and nothing went out
    failed = reply["delivery"]["carol@client.example.org"]
    assert failed["state"] == "failed"
    assert "MessageRejected" in failed["detail"]
    assert sent_mail() == []
    assert _outbound_attempts() == [1]


def test_a_report_that_cannot_be_read_is_retried_not_lost(system: LocalSystem) -> None:
    event = {
        "Records": [
            _sqs_record("bad", "not json"),
            _sqs_record("unknown", json.dumps(_report_about("no-such-ses-id"))),
        ]
    }
    answer = system.invoke("channels", REPORTS_FUNCTION, event)
    # The unreadable one is handed back (and ends in the DLQ); the one about no mail of ours is done
    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad"}]}


def test_reports_are_read_from_sns_envelopes_and_both_ses_formats() -> None:
    # SES's identity notifications say notificationType; configuration sets say eventType
    identity = _report_about("0100abc", key="notificationType")
    wrapped = json.dumps({**SNS_ENVELOPE, "Message": json.dumps(identity)})
    report = delivery_report(wrapped)
    assert report is not None
    assert (report.kind, report.ses_message_id, report.permanent) == ("bounce", "0100abc", True)
    assert [r.email for r in report.recipients] == ["gone@client.example.org"]
    assert report.at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert delivery_report(json.dumps({**identity, "notificationType": "Send"})) is None


# --- attachments ------------------------------------------------------------------------------


def _uploaded(http: HttpClient, name: str, data: bytes, content_type: str) -> dict[str, Any]:
    """Ask where to upload, then store the file there as the browser's form POST would."""
    form = http.call(
        "POST", "/channels/uploads", {"name": name, "content_type": content_type, "size": len(data)}
    )
    assert form.status == 201, form.body
    assert form.body["fields"]["Content-Type"] == content_type
    assert form.body["fields"]["key"] == form.body["key"]
    client("s3").put_object(
        Bucket=get_settings().mail_bucket, Key=form.body["key"], Body=data, ContentType=content_type
    )
    return {"name": name, "content_type": content_type, "size": len(data), "key": form.body["key"]}


@pytest.mark.usefixtures("billing")
def test_a_reply_carries_the_files_the_agent_attached(http: HttpClient, delivery: Delivery) -> None:
    pdf = b"%PDF-1.4 refund receipt"
    receipt = _uploaded(http, "receipt 11/2026.pdf", pdf, "application/pdf")
    reply = _answered(http, delivery, "carol@client.example.org", [receipt])
    assert [a["key"] for a in reply["attachments"]] == [receipt["key"]]
    (mail,) = sent_mail()
    (attached,) = list(mail.iter_attachments())
    assert attached.get_filename() == "receipt 11/2026.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == pdf
    assert "Refunded." in mail.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.parametrize(
    "key",
    [
        "inbound/0100018c",  # a client's raw mail
        "attachments/0100018c/1-passport.jpg",  # a file from someone's mail
        "uploads/../inbound/0100018c",
    ],
)
@pytest.mark.usefixtures("billing")
def test_a_message_may_name_only_files_uploaded_for_replies(http: HttpClient, key: str) -> None:
    opened = http.call(
        "POST",
        "/tickets",
        {
            "subject": "Hi",
            "body": "Hi",
            "department_id": "billing",
            "requester": {"email": "c@x.org"},
        },
    ).body
    attachment = {"name": "x", "content_type": "image/jpeg", "size": 1, "key": key}
    answer = http.call(
        "POST", f"/tickets/{opened['id']}/messages", {"body": "See", "attachments": [attachment]}
    )
    assert answer.status == 422
    assert [e["field"] for e in answer.body["errors"]] == ["attachments.0.key"]


def test_uploads_are_for_signed_in_agents_and_sized(http: HttpClient) -> None:
    file = {"name": "a.pdf", "content_type": "application/pdf", "size": 1}
    assert http.call("POST", "/channels/uploads", file, as_=None).status == 401
    agent = ("alice@example.com", "agent")
    assert http.call("POST", "/channels/uploads", file, as_=agent).status == 201
    for field, bad in (("size", 0), ("size", 10 * 1024 * 1024 + 1), ("content_type", "pdf")):
        answer = http.call("POST", "/channels/uploads", {**file, field: bad})
        assert answer.status == 422
        assert [e["field"] for e in answer.body["errors"]] == [field]


# --- helpers ----------------------------------------------------------------------------------


# What SNS puts around a message it delivers to a queue.
SNS_ENVELOPE = {
    "Type": "Notification",
    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
    "TopicArn": "arn:aws:sns:us-east-1:123456789012:mail-reports",
    "Timestamp": "2026-11-02T09:00:01.000Z",
    "SignatureVersion": "1",
    "Signature": "EXAMPLE",
    "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
    "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
}


def _report_about(ses_message_id: str, key: str = "eventType") -> dict[str, Any]:
    return {
        key: "Bounce",
        "mail": {"timestamp": "2026-11-02T08:59:00.000Z", "messageId": ses_message_id},
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "timestamp": "2026-11-02T09:00:00.000Z",
            "bouncedRecipients": [{"emailAddress": "gone@client.example.org"}],
        },
    }


def _sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": body,
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:local:000000000000:reports",
        "awsRegion": "local",
    }


def _publish_report(report: dict[str, Any]) -> None:
    account = client("sts").get_caller_identity()["Account"]
    settings = get_settings()
    topic = f"arn:aws:sns:{settings.region}:{account}:{settings.mail_notifications_topic}"
    client("sns").publish(TopicArn=topic, Message=json.dumps(report))


def _channels_items(prefix: str) -> list[dict[str, Any]]:
    table = get_settings().table_name("channels")
    items: list[dict[str, Any]] = []
    for page in client("dynamodb").get_paginator("scan").paginate(TableName=table):
        items += [i for i in page["Items"] if i["pk"]["S"].startswith(prefix)]
    return items


def _ses_message_id() -> str:
    (ref,) = _channels_items("SES#")
    return ref["pk"]["S"][len("SES#") :]


def _outbound_attempts() -> list[int]:
    return [int(item["attempts"]["N"]) for item in _channels_items("OUTBOUND#")]
