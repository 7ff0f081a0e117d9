"""The function SES invokes after its S3 action stored a received mail.

The receipt event is read with powertools' SES models, extended where they fall short of what SES
sends: they have no DKIM verdict, and they require common headers and verdicts that SES leaves out
when a mail has no such header or a check did not run.
"""

from __future__ import annotations

from email.utils import getaddresses
from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    SesMail,
    SesMailCommonHeaders,
    SesMessage,
    SesModel,
    SesReceipt,
    SesReceiptVerdict,
    SesRecordModel,
)
from chalice import Blueprint, Chalice
from pydantic import Field

from services.channels.handlers.wiring import dependencies
from services.channels.logic.receive_mail import IncomingMail, ReceivedMail, receive_mail
from services.channels.logic.thread_matching import message_ids
from shared.events.catalogue import MailVerdicts, Person
from shared.text import without_controls


class SesCommonHeaders(SesMailCommonHeaders):
    header_from: list[str] = Field(default_factory=list, alias="from")
    to: list[str] = Field(default_factory=list)
    returnPath: str | None = None
    messageId: str | None = None
    date: str | None = None
    subject: str | None = None


class SesReceivedMail(SesMail):
    commonHeaders: SesCommonHeaders


class SesVerdicts(SesReceipt):
    spamVerdict: SesReceiptVerdict | None = None
    virusVerdict: SesReceiptVerdict | None = None
    spfVerdict: SesReceiptVerdict | None = None
    dkimVerdict: SesReceiptVerdict | None = None
    dmarcVerdict: SesReceiptVerdict | None = None


class SesReceiptMessage(SesMessage):
    mail: SesReceivedMail
    receipt: SesVerdicts


class SesReceiptRecord(SesRecordModel):
    ses: SesReceiptMessage


class SesReceiptEvent(SesModel):
    Records: list[SesReceiptRecord]


def received_mail(record: SesReceiptRecord) -> ReceivedMail:
    """What the service needs of one record of the receipt event."""
    mail, receipt = record.ses.mail, record.ses.receipt

    def status(verdict: SesReceiptVerdict | None) -> str | None:
        return verdict.status if verdict else None

    return ReceivedMail(
        ses_message_id=mail.messageId,
        received_at=mail.timestamp,
        envelope_sender=mail.source,
        recipients=receipt.recipients,
        verdicts=MailVerdicts(
            spam=status(receipt.spamVerdict),
            virus=status(receipt.virusVerdict),
            spf=status(receipt.spfVerdict),
            dkim=status(receipt.dkimVerdict),
            dmarc=status(receipt.dmarcVerdict),
        ),
        summary=_summary(mail),
    )


def _summary(mail: SesReceivedMail) -> IncomingMail:
    """What SES read of the mail's headers."""
    common = mail.commonHeaders
    headers = {header.name.lower(): header.value for header in mail.headers if header.name}

    def addresses(values: list[str] | None) -> list[str]:
        return [a.lower() for _, a in getaddresses(values or []) if a]

    def first(name: str) -> str | None:
        return next((h.value for h in mail.headers if h.name.lower() == name), None)

    senders = [(n, a) for n, a in getaddresses(common.header_from) if "@" in a]
    sender = (
        Person(email=senders[0][1].lower(), name=without_controls(senders[0][0]) or None)
        if senders
        else Person(email=mail.source.lower())
    )
    return IncomingMail(
        sender=sender,
        subject=without_controls(common.subject or ""),
        # Message-IDs travel without their angle brackets, as the threading tables key them.
        message_id=next(iter(message_ids(common.messageId)), None),
        in_reply_to=message_ids(first("in-reply-to"))[:1],
        references=message_ids(first("references")),
        to=addresses(common.to),
        cc=addresses(common.cc),
        headers=headers,
    )


def receive_mail_function(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deps = dependencies()
    records = SesReceiptEvent.model_validate(event).Records
    new = [receive_mail(received_mail(record), deps) for record in records]
    # SES's Lambda action ignores the answer for asynchronous invocation; it is for logs and tests.
    return {"received": sum(new), "duplicates": sum(1 for n in new if n == 0)}


def register_mail(app: Chalice | Blueprint) -> Any:
    """Add the function SES invokes. Returns it: its entry module must hold it as
    `receive_mail_function`, the handler Lambda looks up."""
    return app.lambda_function(name="receive_mail")(receive_mail_function)
