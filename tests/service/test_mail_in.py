"""Mail SES accepted reaches the channels service once, from real SES receipt events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack.mail import MailReceiver, ses_receipt_event
from local_stack.system import LocalSystem
from services.channels.logic.mail_parser import parse_mail
from shared.settings import get_settings
from tests.conftest import CORPUS, Delivery, HttpClient

pytestmark = pytest.mark.service

SES_EVENTS = sorted((CORPUS / "events").glob("*/ses-lambda*.json")) + sorted(
    (CORPUS / "events").glob("powertools/sesEvent.json")
)


def _channels_items() -> list[dict[str, Any]]:
    table = get_settings().table_name("channels")
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]  # test inspection only


@pytest.mark.corpus
@pytest.mark.skipif(not SES_EVENTS, reason="../shared/corpus/events is not present")
@pytest.mark.parametrize("path", SES_EVENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_ses_receipt_events_are_recorded_once(system: LocalSystem, path: Path) -> None:
    # Given an SES receipt event as AWS documents it
    event = json.loads(path.read_text())
    # When SES invokes the function with it, twice (Lambda's async retry)
    first = system.invoke("channels", "receive_mail", event)
    again = system.invoke("channels", "receive_mail", event)
    # Then the mail is recorded once (with its Message-ID) and announced once, unless a machine
    # wrote it (the AWS sample says `Precedence: bulk`): that is kept and never announced
    assert first == {"received": len(event["Records"]), "duplicates": 0}
    assert again == {"received": 0, "duplicates": len(event["Records"])}
    items = _channels_items()
    held = sum("held" in item for item in items if item["pk"]["S"].startswith("INBOUND#"))
    kinds = sorted(item["pk"]["S"].split("#")[0] for item in items)
    records = len(event["Records"])
    # (held machine mail is listed for admins instead of announced; each mail is indexed by its
    # sender, so erasing the person finds it; the tickets a sender opens are counted by the hour)
    announced = records - held
    expected = (
        ["INBOUND", "MSGID", "SENDER"] * records
        + ["OUTBOX", "OPENED"] * announced
        + ["HELD"] * held
    )
    assert kinds == sorted(expected)


def test_smtp_mail_takes_the_ses_path(system: LocalSystem, delivery: Delivery) -> None:
    # Given the local SMTP receiver wired to the inbound function, as in `make run`
    received: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> Any:
        received.append(event)
        return system.invoke("channels", "receive_mail", event)

    receiver = MailReceiver(get_settings().mail_bucket, invoke)
    raw = (
        b"From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\r\nTo: support@example.com\r\n"
        b"Subject: Refund\r\nMessage-ID: <m1@example.org>\r\n\r\nPlease refund.\r\n"
    )
    # When a mail arrives
    ses_id = receiver.receive(raw, "zoe@example.org", ["support@example.com"])
    # Then the raw MIME is in the bucket where the SES S3 action puts it
    stored = boto3.client("s3").get_object(
        Bucket=get_settings().mail_bucket, Key=f"inbound/{ses_id}"
    )
    assert stored["Body"].read() == raw
    # And the function got an SES-shaped event with verdicts and common headers
    ses = received[0]["Records"][0]["ses"]
    assert ses["mail"]["commonHeaders"]["subject"] == "Refund"
    assert ses["receipt"]["spamVerdict"] == {"status": "PASS"}
    assert any(item["pk"]["S"] == f"INBOUND#{ses_id}" for item in _channels_items())


def test_a_header_the_parser_cannot_read_does_not_lose_the_mail() -> None:
    raw = b"From: broken <<<@@\r\nSubject: =?bogus?x?zz?=\r\n\r\nbody"
    event = ses_receipt_event(raw, "x@y.z", ["support@example.com"], "id-1")
    assert event["Records"][0]["ses"]["mail"]["messageId"] == "id-1"


def test_smtp_mail_is_parsed_into_the_ticket(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    # Given a reply with quoted history and an attachment, received as SES receives it
    raw = (
        b"From: Zoe <zoe@example.org>\r\nTo: support@example.com\r\nSubject: Invoice\r\n"
        b"Message-ID: <q1@example.org>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Here is the receipt.\r\n\r\nOn Mon, 1 Jan 2026, Support wrote:\r\n> Send the receipt\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="receipt.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
    )
    receiver = MailReceiver(
        get_settings().mail_bucket, lambda e: system.invoke("channels", "receive_mail", e)
    )
    receiver.receive(raw, "zoe@example.org", ["support@example.com"])
    delivery.run()
    # Then the ticket shows the new text first, and the attachment is kept in the bucket
    (ticket,) = http.call("GET", "/tickets").body["items"]
    (message,) = http.call("GET", f"/tickets/{ticket['id']}/messages").body["items"]
    assert message["body"].strip() == "Here is the receipt."
    (attachment,) = message["attachments"]
    assert (attachment["name"], attachment["content_type"]) == ("receipt.pdf", "application/pdf")
    stored = boto3.client("s3").get_object(Bucket=get_settings().mail_bucket, Key=attachment["key"])
    assert stored["Body"].read() == b"%PDF-1.4\n"


CORPUS_MAIL = sorted(
    path
    for path in (CORPUS / "mail").rglob("*")
    if path.is_file()
    and path.suffix not in {".tsv", ".md", ".yml", ".json", ".txt"}
    and not path.name.endswith("_reply_text")
)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_MAIL, reason="../shared/corpus/mail is not present")
def test_every_corpus_mail_is_ingested_and_announced(system: LocalSystem) -> None:
    # Given every real-world mail of the corpus, received as SES receives mail
    answers: list[dict[str, int]] = []
    receiver = MailReceiver(
        get_settings().mail_bucket,
        lambda e: answers.append(system.invoke("channels", "receive_mail", e)),
    )
    # When each arrives (no exception may escape: that would lose the mail)
    seen: set[str] = set()
    repeats = 0
    for path in CORPUS_MAIL:
        raw = path.read_bytes()
        receiver.receive(raw, "sender@example.org", ["support@example.com"])
        message_id = parse_mail(raw).message_id
        repeats += message_id in seen
        seen |= {message_id} if message_id else set()
    # Then each one is either recorded and announced, or recognised as a mail already recorded
    # (the corpus has copies with the same Message-ID): nothing vanishes
    assert [a["received"] + a["duplicates"] for a in answers] == [1] * len(CORPUS_MAIL)
    assert sum(a["duplicates"] for a in answers) == repeats
    # And machine mail (bounces, autoreplies) answering no ticket is kept, not announced
    items = _channels_items()
    recorded = len(CORPUS_MAIL) - repeats
    inbound = [item for item in items if item["pk"]["S"].startswith("INBOUND#")]
    held = [item for item in inbound if "held" in item]
    assert len(inbound) == recorded
    assert held, "the corpus has bounces and autoreplies: some mail must be held"
    assert sum(item["pk"]["S"].startswith("OUTBOX#") for item in items) == recorded - len(held)
