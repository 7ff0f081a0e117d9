"""The function that reads SES's delivery reports (delivery, bounce, complaint) from its queue.

SES publishes them to the configuration set's SNS topic, which feeds this service's queue; a
report that cannot be read or applied is retried alone and, after the queue's max receives, kept
in its dead-letter queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel
from chalice import Blueprint, Chalice
from pydantic import Json, TypeAdapter, model_validator

from services.channels.handlers.wiring import dependencies
from services.channels.logic.delivery_reports import DeliveryReport, record_report
from shared.events.catalogue import RecipientOutcome
from shared.model import Model

REPORTS_FUNCTION = "receive_delivery_reports"


class SesRecipient(Model):
    emailAddress: str
    diagnosticCode: str | None = None


class SesDelivery(Model):
    timestamp: datetime | None = None
    recipients: list[str] = []
    smtpResponse: str | None = None


class SesBounce(Model):
    timestamp: datetime | None = None
    bounceType: str | None = None
    bounceSubType: str | None = None
    bouncedRecipients: list[SesRecipient] = []


class SesComplaint(Model):
    timestamp: datetime | None = None
    complaintFeedbackType: str | None = None
    complainedRecipients: list[SesRecipient] = []


class SesSentMail(Model):
    messageId: str
    timestamp: datetime


class SesReport(Model):
    """SES's report about a mail it sent: from a configuration set (`eventType`) or an identity's
    topic (`notificationType`). Powertools has no model of it."""

    eventType: str | None = None
    notificationType: str | None = None
    mail: SesSentMail
    delivery: SesDelivery | None = None
    bounce: SesBounce | None = None
    complaint: SesComplaint | None = None

    @property
    def kind(self) -> str:
        return (self.eventType or self.notificationType or "").lower()

    @model_validator(mode="after")
    def _has_its_details(self) -> Self:
        if self.kind in ("delivery", "bounce", "complaint") and getattr(self, self.kind) is None:
            raise ValueError(f"a {self.kind} report without its {self.kind}")
        return self


class SesReportThroughSns(SnsNotificationModel):
    Message: Json[SesReport]  # type: ignore[assignment]


# Through SNS, or as it is if the subscription ever delivers raw messages.
REPORT_BODY: TypeAdapter[SesReportThroughSns | SesReport] = TypeAdapter(
    SesReportThroughSns | SesReport
)


def delivery_report(body: str) -> DeliveryReport | None:
    """The report a queued message carries; None for kinds the ticket has no use for (Send,
    Open, Click...)."""
    parsed = REPORT_BODY.validate_json(body)
    report = parsed.Message if isinstance(parsed, SesReportThroughSns) else parsed
    ses_message_id, sent_at = report.mail.messageId, report.mail.timestamp
    if report.delivery is not None and report.kind == "delivery":
        delivery = report.delivery
        return DeliveryReport(
            "delivery",
            ses_message_id,
            [RecipientOutcome(email=r, detail=delivery.smtpResponse) for r in delivery.recipients],
            delivery.timestamp or sent_at,
        )
    if report.bounce is not None and report.kind == "bounce":
        bounce = report.bounce
        return DeliveryReport(
            "bounce",
            ses_message_id,
            [
                RecipientOutcome(email=r.emailAddress, detail=r.diagnosticCode)
                for r in bounce.bouncedRecipients
            ],
            bounce.timestamp or sent_at,
            permanent=bounce.bounceType == "Permanent",
            reason=" / ".join(filter(None, [bounce.bounceType, bounce.bounceSubType])),
        )
    if report.complaint is not None and report.kind == "complaint":
        complaint = report.complaint
        return DeliveryReport(
            "complaint",
            ses_message_id,
            [RecipientOutcome(email=r.emailAddress) for r in complaint.complainedRecipients],
            complaint.timestamp or sent_at,
            feedback_type=complaint.complaintFeedbackType,
        )
    return None


def receive_delivery_reports(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deps = dependencies()

    def handle(record: SQSRecord) -> None:  # powertools passes `record` by name
        report = delivery_report(record.body)
        if report is not None:
            record_report(report, deps)

    return process_partial_response(  # type: ignore[return-value]
        event=event,
        record_handler=handle,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )


def register_reports(app: Chalice | Blueprint) -> Any:
    """Add the function that reads the reports' queue. Returns it: its entry module must hold it as
    `receive_delivery_reports`, the handler Lambda looks up."""
    return app.lambda_function(name=REPORTS_FUNCTION)(receive_delivery_reports)
