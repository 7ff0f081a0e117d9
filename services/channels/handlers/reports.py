"""The function that reads SES's delivery reports (delivery, bounce, complaint) from its queue.

SES publishes them to the configuration set's SNS topic, which feeds this service's queue; a
report that cannot be applied is retried alone and, after the queue's max receives, kept in its
dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from chalice import Chalice

from services.channels.data.outbound import DynamoOutboundRepository
from services.channels.logic.delivery import record_report
from shared.clock import get_clock

REPORTS_FUNCTION = "receive_delivery_reports"


def receive_delivery_reports(event: dict[str, Any], context: Any) -> dict[str, Any]:
    clock = get_clock()
    outbound_mail = DynamoOutboundRepository(clock)
    return process_partial_response(  # type: ignore[return-value]
        event=event,
        record_handler=lambda record: record_report(record.body, outbound_mail, clock.now()),
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )


def register_reports(app: Chalice) -> Any:
    """Add the function that reads the reports' queue. Returns it: the app module must hold it as
    `receive_delivery_reports`, the handler Lambda looks up."""
    return app.lambda_function(name=REPORTS_FUNCTION)(receive_delivery_reports)
