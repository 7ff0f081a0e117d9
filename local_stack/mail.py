"""Mail on the laptop: an SMTP port that receives as SES does, and the mail the system sent.

Received mail takes SES's path: the raw MIME is stored in the mail bucket under the receipt
rule's prefix, then the inbound function gets an SES-shaped receipt event. Sent mail is read from
the emulator's SES and also written as .eml files to a folder.
"""

from __future__ import annotations

import email
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from infra.templates import MAIL_PREFIX
from shared.aws import client
from shared.clock import get_clock, isoformat
from shared.settings import Settings

LOCAL_FUNCTION_ARN = "arn:aws:lambda:local:000000000000:function:receive_mail"
DEFAULT_VERDICTS = {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}


def _header(message: email.message.Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # a header the modern policy cannot parse: fall back to the raw text
        value = message.get_all(name, failobj=[None])[0]
    return None if value is None else str(value)


def ses_receipt_event(
    raw: bytes, mail_from: str, recipients: list[str], ses_message_id: str
) -> dict[str, Any]:
    """The event an SES receipt rule's Lambda action sends (no body; the S3 action stored it)."""
    message = email.message_from_bytes(raw, policy=policy.default)
    now = isoformat(datetime.now(UTC))
    common: dict[str, Any] = {"returnPath": mail_from}
    for key, header in (("from", "From"), ("to", "To"), ("cc", "Cc")):
        value = _header(message, header)
        if value:
            common[key] = [value]
    for key, header in (("date", "Date"), ("messageId", "Message-ID"), ("subject", "Subject")):
        value = _header(message, header)
        if value is not None:
            common[key] = value
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": now,
                        "source": mail_from,
                        "messageId": ses_message_id,
                        "destination": recipients,
                        "headersTruncated": False,
                        "headers": [
                            {"name": name, "value": str(value)}
                            for name, value in message.raw_items()
                        ],
                        "commonHeaders": common,
                    },
                    "receipt": {
                        "timestamp": now,
                        "processingTimeMillis": 1,
                        "recipients": recipients,
                        **{f"{name}Verdict": {"status": v} for name, v in DEFAULT_VERDICTS.items()},
                        "action": {
                            "type": "Lambda",
                            "functionArn": LOCAL_FUNCTION_ARN,
                            "invocationType": "Event",
                        },
                    },
                },
            }
        ]
    }


class MailReceiver:
    """What SES does with an accepted message: store it, then invoke the inbound function."""

    def __init__(self, bucket: str, deliver: Callable[[dict[str, Any]], Any]) -> None:
        self._bucket = bucket
        self._deliver = deliver

    def receive(self, raw: bytes, mail_from: str, recipients: list[str]) -> str:
        ses_message_id = uuid.uuid4().hex
        client("s3").put_object(Bucket=self._bucket, Key=MAIL_PREFIX + ses_message_id, Body=raw)
        self._deliver(ses_receipt_event(raw, mail_from, recipients, ses_message_id))
        return ses_message_id


class _SmtpHandler:
    def __init__(self, receiver: MailReceiver) -> None:
        self._receiver = receiver

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self._receiver.receive(raw, envelope.mail_from or "", list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def smtp_server(receiver: MailReceiver, port: int) -> Controller:
    # 40 MB: what SES accepts through a receipt rule with an S3 action.
    return Controller(
        _SmtpHandler(receiver), hostname="127.0.0.1", port=port, data_size_limit=40 * 1024 * 1024
    )


class SentMail:
    """The mail the system sent through the emulator's SES, newest last; mirrored to .eml files."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def messages(self) -> list[dict[str, Any]]:
        return [self._describe(index, message) for index, message in enumerate(_sent_by_emulator())]

    def _describe(self, index: int, sent: Any) -> dict[str, Any]:
        raw = getattr(sent, "raw_data", None)
        if raw is None:  # a simple (non-raw) send: rebuild a readable message
            raw = (
                f"From: {sent.source}\nTo: {', '.join(sent.destinations.get('ToAddresses', []))}\n"
            )
            raw += f"Subject: {sent.subject}\n\n{sent.body}"
        data = raw.encode() if isinstance(raw, str) else raw
        path = self._folder / f"{index:05d}-{sent.id}.eml"
        if not path.exists():
            path.write_bytes(data)
        message = email.message_from_bytes(data, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        return {
            "message_id": _header(message, "Message-ID"),
            "from": _header(message, "From"),
            "to": _header(message, "To"),
            "subject": _header(message, "Subject"),
            "in_reply_to": _header(message, "In-Reply-To"),
            "references": _header(message, "References"),
            "text": body.get_content() if body is not None else "",
            "raw": data.decode("utf-8", errors="replace"),
            "file": path.name,
        }


# SES's mailbox simulator: mail to these addresses bounces or draws a complaint, in AWS and here.
SIMULATED_BOUNCE = "bounce@simulator.amazonses.com"
SIMULATED_COMPLAINT = "complaint@simulator.amazonses.com"


class LocalMailReports:
    """What SES's configuration set reports about the mail the system sent, published to the
    reports topic as SES publishes it: delivered, except to the mailbox simulator's bounce and
    complaint addresses (or any address of an `.invalid` domain, which bounces)."""

    def __init__(self, topic_arn: str, clock: Callable[[], datetime]) -> None:
        self._topic_arn = topic_arn
        self._clock = clock
        self._reported = len(_sent_by_emulator())  # mail sent before this start was reported

    @classmethod
    def of(cls, settings: Settings) -> LocalMailReports:
        account = client("sts").get_caller_identity()["Account"]
        topic = f"arn:aws:sns:{settings.region}:{account}:{settings.mail_notifications_topic}"
        return cls(topic, lambda: get_clock().now())

    def publish_once(self) -> int:
        sent = _sent_by_emulator()
        new, self._reported = sent[self._reported :], len(sent)
        for message in new:
            if not isinstance(message.destinations, list):  # not raw: the services send raw only
                continue
            for report in self.reports(message.id, message.source, message.destinations):
                client("sns").publish(TopicArn=self._topic_arn, Message=json.dumps(report))
        return len(new)

    def reports(
        self, ses_message_id: str, source: str, destinations: list[str]
    ) -> list[dict[str, Any]]:
        now = isoformat(self._clock())
        addresses = sorted({address.lower() for _, address in getaddresses(destinations)})
        mail = {
            "timestamp": now,
            "messageId": ses_message_id,
            "source": source,
            "destination": addresses,
        }
        bounced = [a for a in addresses if a == SIMULATED_BOUNCE or a.endswith(".invalid")]
        complained = [a for a in addresses if a == SIMULATED_COMPLAINT]
        delivered = [a for a in addresses if a not in bounced]
        reports: list[dict[str, Any]] = []
        if delivered:
            reports.append(
                {
                    "eventType": "Delivery",
                    "mail": mail,
                    "delivery": {
                        "timestamp": now,
                        "recipients": delivered,
                        "processingTimeMillis": 1,
                        "smtpResponse": "250 2.6.0 Message received",
                        "reportingMTA": "local",
                    },
                }
            )
        if bounced:
            reports.append(
                {
                    "eventType": "Bounce",
                    "mail": mail,
                    "bounce": {
                        "bounceType": "Permanent",
                        "bounceSubType": "General",
                        "timestamp": now,
                        "feedbackId": str(uuid.uuid4()),
                        "reportingMTA": "dns; local",
                        "bouncedRecipients": [
                            {
                                "emailAddress": a,
                                "action": "failed",
                                "status": "5.1.1",
                                "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                            }
                            for a in bounced
                        ],
                    },
                }
            )
        if complained:
            reports.append(
                {
                    "eventType": "Complaint",
                    "mail": mail,
                    "complaint": {
                        "timestamp": now,
                        "feedbackId": str(uuid.uuid4()),
                        "complaintFeedbackType": "abuse",
                        "complainedRecipients": [{"emailAddress": a} for a in complained],
                    },
                }
            )
        return reports


def _sent_by_emulator() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent: list[Any] = []
    for region_backend in ses_backends[DEFAULT_ACCOUNT_ID].values():
        sent.extend(getattr(region_backend, "sent_messages", []))
    return sent
