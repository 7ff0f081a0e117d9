"""Consuming events from a service's SQS queue: dispatch by event name, apply each id once.

EventBridge rules put matching events on the consumer's queue (with a DLQ); the consumer function
reads batches with partial-failure reporting, so one bad event is retried alone and, after the
queue's max receives, parked in the DLQ instead of blocking the rest. Idempotency comes from
powertools: the envelope id is the key, so a redelivered event is applied once.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from chalice.app import Blueprint, Chalice

from shared.aws import client
from shared.events.envelope import Envelope, EventData
from shared.storage import writes_for

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo

logger = logging.getLogger(__name__)
D = TypeVar("D", bound=EventData)
Handler = Callable[[Any, Envelope], None]
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600
CONSUMER_FUNCTION = "consume_events"


@dataclass(frozen=True)
class ReceivedEvent:
    """An EventBridge event as it arrives in SQS. moto omits `account`, so nothing requires it."""

    source: str
    detail_type: str
    envelope: Envelope

    @classmethod
    def from_sqs_body(cls, body: str) -> ReceivedEvent:
        document = json.loads(body)
        return cls(document["source"], document["detail-type"], Envelope(**document["detail"]))


class EventConsumer:
    def __init__(self, idempotency_table: Callable[[], str]) -> None:
        self._handlers: dict[tuple[str, str], tuple[type[EventData], Handler]] = {}
        self._idempotency_table = idempotency_table
        self._config = IdempotencyConfig(
            event_key_jmespath="envelope_id", expires_after_seconds=IDEMPOTENCY_TTL_SECONDS
        )

    def on(self, data_type: type[D]) -> Callable[[Callable[[D, Envelope], None]], Handler]:
        """Register the handler of one event kind: `handler(data, envelope)`."""

        def register(handler: Callable[[D, Envelope], None]) -> Handler:
            self._handlers[(data_type.source(), data_type.event_name)] = (data_type, handler)
            return handler

        return register

    def register(self, app: Chalice | Blueprint) -> Any:
        """Add the function that reads this service's event queue.

        Returns it: its entry module must hold it as `consume_events`, the handler Lambda looks up.
        """

        @app.lambda_function(name=CONSUMER_FUNCTION)
        def consume_events(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return self.handle_sqs_batch(event, context)

        return consume_events

    def subscriptions(self) -> list[tuple[str, str]]:
        """(source, detail type) of every event handled; infra renders the rule from this."""
        return sorted(self._handlers)

    def handle_sqs_batch(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._config.register_lambda_context(context)
        apply_once = self._apply_once()
        # The partial batch response of powertools' BatchProcessor, without its batch module: with
        # pydantic loaded, that builds every parser model, costing a cold start about a bare boto3.
        records = [SQSRecord(record) for record in event.get("Records", [])]
        failed: list[str] = []
        errors: list[ExceptionInfo] = []
        for record in records:
            try:
                self._handle_record(record, apply_once)
            except Exception:
                logger.warning("event failed", exc_info=True, extra={"sqs_id": record.message_id})
                failed.append(record.message_id)
                errors.append(sys.exc_info())
        if records and len(failed) == len(records):
            # As powertools does: the whole batch again, not reported as a partial failure. Its
            # package imports the batch module, so only a failed batch pays for it.
            from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

            raise BatchProcessingError(f"All {len(records)} records failed processing.", errors)
        return {"batchItemFailures": [{"itemIdentifier": message} for message in failed]}

    def _handle_record(self, record: SQSRecord, apply_once: Callable[..., None]) -> None:
        received = ReceivedEvent.from_sqs_body(record.body)
        if (received.source, received.detail_type) not in self._handlers:
            logger.warning("no handler for event", extra={"detail_type": received.detail_type})
            return
        logger.info(
            "applying event",
            extra={"event_id": received.envelope.id, "detail_type": received.detail_type},
        )
        apply_once(delivery={"envelope_id": received.envelope.id}, received=received)

    def _apply_once(self) -> Callable[..., None]:
        store = DynamoDBPersistenceLayer(
            table_name=self._idempotency_table(), boto3_client=client("dynamodb")
        )

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="delivery", persistence_store=store, config=self._config
        )
        def apply(delivery: dict[str, Any], received: ReceivedEvent) -> None:
            data_type, handler = self._handlers[(received.source, received.detail_type)]
            with writes_for(f"event:{received.envelope.id}"):
                handler(data_type.model_validate(received.envelope.data), received.envelope)

        return apply  # type: ignore[no-any-return]
