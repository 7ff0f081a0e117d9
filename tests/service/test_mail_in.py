"""Mail SES accepted reaches the channels service once, from real SES receipt events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack.mail import MailReceiver, ses_receipt_event
from local_stack.system import LocalSystem
from shared.settings import get_settings
from tests.conftest import CORPUS, Delivery

pytestmark = pytest.mark.service

SES_EVENTS = sorted((CORPUS / "events").glob("*/ses-lambda*.json")) + sorted(
    (CORPUS / "events").glob("powertools/sesEvent.json")
)


def _channels_items() -> list[dict[str, Any]]:
    table = get_settings().table_name("channels")
    return boto3.client("dynamodb").scan(TableName=table)["Items"]  # test inspection only


@pytest.mark.corpus
@pytest.mark.skipif(not SES_EVENTS, reason="../shared/corpus/events is not present")
@pytest.mark.parametrize("path", SES_EVENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_ses_receipt_events_are_recorded_once(system: LocalSystem, path: Path) -> None:
    # Given an SES receipt event as AWS documents it
    event = json.loads(path.read_text())
    # When SES invokes the function with it, twice (Lambda's async retry)
    first = system.invoke("channels", "receive_mail", event)
    again = system.invoke("channels", "receive_mail", event)
    # Then the mail is recorded once (with its Message-ID) and announced once
    assert first == {"received": len(event["Records"]), "duplicates": 0}
    assert again == {"received": 0, "duplicates": len(event["Records"])}
    kinds = sorted(item["pk"]["S"].split("#")[0] for item in _channels_items())
    assert kinds == sorted(["INBOUND", "MSGID", "OUTBOX"] * len(event["Records"]))


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
