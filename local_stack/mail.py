"""Mail on the laptop: an SMTP port that receives as SES does, and the mail the system sent.

Received mail takes SES's path: the raw MIME is stored in the mail bucket under the receipt
rule's prefix, then the inbound function gets an SES-shaped receipt event. Like SES, the receiver
takes any mail, whatever its headers: it only reads them for the event's common headers, and a
header it cannot read is passed on as written. Sent mail is read from the emulator's SES and also
written as .eml files to a folder.

SES's verdicts are PASS unless a mail carries `X-Helpdesk-Local-Verdicts: spf=FAIL dkim=GRAY ...`
(any of spf, dkim, dmarc, spam, virus; PASS, FAIL, GRAY or PROCESSING_FAILED): a test chooses how
SES judged one mail. The header is taken out before the mail is stored; it means nothing in AWS.
"""

from __future__ import annotations

import email
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
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
VERDICTS_HEADER = b"x-helpdesk-local-verdicts"
VERDICT_STATUSES = {"PASS", "FAIL", "GRAY", "PROCESSING_FAILED"}
HEADER_END = re.compile(rb"(\r?\n)\r?\n")  # the line break of the last header, then a blank line


class BadVerdicts(ValueError):
    """The local verdicts header names a verdict or a status SES does not have."""


def _header(message: email.message.Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # a header the modern policy cannot parse: fall back to the raw text
        value = message.get_all(name, failobj=[None])[0]
    return None if value is None else str(value)


def _decoded(message: email.message.Message, name: str) -> str | None:
    """A header of received mail as SES's common headers give it: encoded words decoded, or the
    text as written where they cannot be."""
    value = message.get(name)
    if value is None:
        return None
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # mail is taken whatever its headers say; the service parses it again
        return str(value)


def ses_receipt_event(
    raw: bytes,
    mail_from: str,
    recipients: list[str],
    ses_message_id: str,
    verdicts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The event an SES receipt rule's Lambda action sends (no body; the S3 action stored it);
    `verdicts`: SES's judgement where it is not PASS."""
    # The classic policy reads headers as text, without parsing them into objects, so no header
    # (an empty group, a broken address) stops the mail.
    message = email.message_from_bytes(raw, policy=policy.compat32)
    now = isoformat(get_clock().now())
    common: dict[str, Any] = {"returnPath": mail_from}
    for key, header in (("from", "From"), ("to", "To"), ("cc", "Cc")):
        value = _decoded(message, header)
        if value:
            common[key] = [value]
    for key, header in (("date", "Date"), ("messageId", "Message-ID"), ("subject", "Subject")):
        value = _decoded(message, header)
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
                        **{
                            f"{name}Verdict": {"status": status}
                            for name, status in {**DEFAULT_VERDICTS, **(verdicts or {})}.items()
                        },
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
        """Store and hand on the mail; BadVerdicts if its local verdicts header is wrong."""
        raw, verdicts = local_verdicts(raw)
        ses_message_id = uuid.uuid4().hex
        client("s3").put_object(Bucket=self._bucket, Key=MAIL_PREFIX + ses_message_id, Body=raw)
        self._deliver(ses_receipt_event(raw, mail_from, recipients, ses_message_id, verdicts))
        return ses_message_id


def local_verdicts(raw: bytes) -> tuple[bytes, dict[str, str]]:
    """The mail without its local verdicts header, and the verdicts that header set."""
    end = HEADER_END.search(raw)
    head, body = (raw[: end.end(1)], raw[end.end(1) :]) if end else (raw, b"")
    fields: list[list[bytes]] = []  # each header field: its first line and its folded lines
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    verdicts: dict[str, str] = {}
    kept = []
    for lines in fields:
        name, _, value = b"".join(lines).partition(b":")
        if name.strip().lower() != VERDICTS_HEADER:
            kept.append(b"".join(lines))
            continue
        for setting in value.decode("ascii", "replace").split():
            verdict, _, status = setting.partition("=")
            if verdict.lower() not in DEFAULT_VERDICTS or status.upper() not in VERDICT_STATUSES:
                raise BadVerdicts(f"no such SES verdict: {setting!r}")
            verdicts[verdict.lower()] = status.upper()
    if len(kept) == len(fields):
        return raw, {}
    return b"".join(kept) + body, verdicts


class _SmtpHandler:
    def __init__(self, receiver: MailReceiver) -> None:
        self._receiver = receiver

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            self._receiver.receive(raw, envelope.mail_from or "", list(envelope.rcpt_tos))
        except BadVerdicts as error:
            return f"501 5.5.4 {error}"
        return "250 Message accepted for delivery"


class _LongLinesSmtp(SMTP):
    # RFC 5321 allows lines of 1,000 octets, but mailers write longer ones (HTML on one line) and
    # receiving servers take them rather than lose the mail; so does this one.
    line_length_limit = 10 * 1024 * 1024


class _Receiver(Controller):
    def factory(self) -> SMTP:
        return _LongLinesSmtp(self.handler, **self.SMTP_kwargs)


def smtp_server(receiver: MailReceiver, port: int) -> Controller:
    # 40 MB: what SES accepts through a receipt rule with an S3 action.
    return _Receiver(
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
