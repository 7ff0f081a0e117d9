"""The laptop's stand-in for SES: it takes any mail SES would take, over SMTP, and lets a test
choose SES's verdicts for one mail."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local_stack.mail import MailReceiver, smtp_server
from local_stack.stack import free_port
from local_stack.system import LocalSystem
from shared.settings import get_settings
from tests.conftest import CORPUS

pytestmark = pytest.mark.service
VERDICTS = ("spf", "dkim", "dmarc", "spam", "virus")

CORPUS_MAIL = sorted(
    path
    for path in (CORPUS / "mail").rglob("*")
    if path.is_file()
    and path.suffix not in {".tsv", ".md", ".yml", ".json", ".txt"}
    and not path.name.endswith("_reply_text")
)


class Smtp:
    """The local SMTP port, and the SES receipt events it produced."""

    def __init__(self, port: int, events: list[dict[str, Any]]) -> None:
        self.port = port
        self.events = events

    def send(self, raw: bytes, recipients: tuple[str, ...] = ("support@example.com",)) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as smtp:
            refused = smtp.sendmail("sender@example.org", list(recipients), raw)
        assert refused == {}

    def stored(self, ses: dict[str, Any]) -> bytes:
        key = f"inbound/{ses['mail']['messageId']}"
        body = boto3.client("s3").get_object(Bucket=get_settings().mail_bucket, Key=key)["Body"]
        return body.read()  # type: ignore[no-any-return]


@pytest.fixture
def smtp(system: LocalSystem) -> Iterator[Smtp]:
    events: list[dict[str, Any]] = []
    port = free_port()
    server = smtp_server(MailReceiver(get_settings().mail_bucket, events.append), port)
    server.start()
    yield Smtp(port, events)
    server.stop()


@pytest.mark.parametrize(
    "headers",
    [
        b"To: unlisted-recipients:; (no To-header on input)\r\n",
        b"To: undisclosed-recipients:;\r\nCc: friends: ann@example.org, bob@example.org;\r\n",
        b"From: broken <<<@@\r\nDate: the day after tomorrow\r\nMessage-ID: <<>>\r\n",
        b'Subject: =?bogus?x?zz?= \xff\xfe raw bytes\r\nTo: "unclosed <a@example.org>\r\n',
    ],
    ids=["empty group", "groups", "broken addresses", "broken subject"],
)
def test_mail_with_headers_no_parser_likes_is_accepted(smtp: Smtp, headers: bytes) -> None:
    # When mail arrives whose headers are empty groups or cannot be parsed at all
    raw = b"From: ann@example.org\r\n" + headers + b"\r\nHello.\r\n"
    smtp.send(raw)
    # Then it is taken as SES takes it: stored whole, and handed on with SES's event
    (event,) = smtp.events
    ses = event["Records"][0]["ses"]
    assert ses["receipt"]["recipients"] == ["support@example.com"]
    assert smtp.stored(ses).replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_MAIL, reason="../shared/corpus/mail is not present")
def test_every_corpus_mail_is_accepted_over_smtp(smtp: Smtp) -> None:
    # When every real-world mail of the corpus is sent to the SMTP port
    for path in CORPUS_MAIL:
        smtp.send(path.read_bytes())
    # Then each one was accepted and handed on as SES would
    assert len(smtp.events) == len(CORPUS_MAIL)


def test_a_test_can_choose_ses_verdicts_for_one_mail(smtp: Smtp) -> None:
    # When a mail carries the local verdicts header
    raw = (
        b"From: ann@example.org\r\nTo: support@example.com\r\n"
        b"X-Helpdesk-Local-Verdicts: spf=FAIL dkim=FAIL\r\n  dmarc=GRAY spam=FAIL\r\n"
        b"Subject: Hi\r\n\r\nHello.\r\n"
    )
    smtp.send(raw)
    # Then SES's event carries those verdicts (the others pass), and the header is gone
    (event,) = smtp.events
    ses = event["Records"][0]["ses"]
    verdicts = {name: ses["receipt"][f"{name}Verdict"]["status"] for name in VERDICTS}
    assert verdicts == {
        "spf": "FAIL",
        "dkim": "FAIL",
        "dmarc": "GRAY",
        "spam": "FAIL",
        "virus": "PASS",
    }
    assert b"X-Helpdesk-Local-Verdicts" not in smtp.stored(ses)
    assert b"dmarc" not in smtp.stored(ses)
    assert all(h["name"] != "X-Helpdesk-Local-Verdicts" for h in ses["mail"]["headers"])
    # And the next mail, without it, passes everything again
    smtp.send(b"From: ann@example.org\r\nTo: support@example.com\r\n\r\nHello.\r\n")
    receipt = smtp.events[1]["Records"][0]["ses"]["receipt"]
    assert {receipt[f"{name}Verdict"]["status"] for name in VERDICTS} == {"PASS"}
