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
from chalice import Blueprint

from services.channels.data.outbound import DynamoOutboundRepository
from services.channels.logic.delivery import record_report
from shared.clock import get_clock

REPORTS_FUNCTION = "receive_delivery_reports"

reports = Blueprint(__name__)


@reports.lambda_function(name=REPORTS_FUNCTION)
def receive_delivery_reports(event: dict[str, Any], context: Any) -> dict[str, Any]:
    clock = get_clock()
    outbound_mail = DynamoOutboundRepository(clock)
    return process_partial_response(  # type: ignore[return-value]
        event=event,
        record_handler=lambda record: record_report(record.body, outbound_mail, clock.now()),
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
