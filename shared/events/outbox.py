"""Transactional outbox: an event is stored in the same DynamoDB transaction as the state change
that caused it, and the table's stream carries it to the bus.

If the process dies after the write, the outbox item is already committed and the stream still
delivers it to the relay; if the relay's publish fails, it reports the record as failed and the
stream delivers it again. Consumers apply each event id once, so a repeat is harmless.
Outbox items expire by TTL after a week, long enough to replay by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer
from chalice.app import Blueprint, Chalice

from shared.events.envelope import Envelope, OutgoingEvent
from shared.events.publisher import Publisher, bus_publisher

if TYPE_CHECKING:  # the relay's cold start needs no pynamodb; the tables import it themselves
    from pynamodb.models import Model
    from pynamodb.transactions import TransactWrite

OUTBOX_PREFIX = "OUTBOX#"
OUTBOX_RETENTION = timedelta(days=7)

M = TypeVar("M", bound="Model")
_deserializer = TypeDeserializer()


def outbox_model(table: type[M]) -> type[M]:
    """The outbox entity of one service's table (keys `pk`/`sk` like every entity there)."""
    from pynamodb.attributes import TTLAttribute, UnicodeAttribute

    attributes: dict[str, Any] = {
        "__module__": table.__module__,
        "__doc__": "An event waiting in the outbox of this table.",
        "source": UnicodeAttribute(),
        "detail_type": UnicodeAttribute(),
        "detail": UnicodeAttribute(),
        "expires_at": TTLAttribute(),
    }
    # A table whose entities carry a discriminator registers the outbox as one of them.
    options = {"discriminator": "outbox"} if table._get_discriminator_attribute() else {}
    return type(table)(f"{table.__name__}Outbox", (table,), attributes, **options)  # type: ignore[misc,no-any-return]


def add_to_outbox(
    write: TransactWrite, model: type[Model], events: Iterable[OutgoingEvent], now: datetime
) -> None:
    """Add the events to an open write transaction, as outbox items of the service's `model`."""
    for item in _outbox_items(model, events, now):
        write.save(item)


def _outbox_items(model: type[M], events: Iterable[OutgoingEvent], now: datetime) -> list[M]:
    return [
        model(
            OUTBOX_PREFIX + event.envelope.id,
            "OUTBOX",
            source=event.source,
            detail_type=event.detail_type,
            detail=event.envelope.model_dump_json(),
            expires_at=now + OUTBOX_RETENTION,
        )
        for event in events
    ]


def _outbox_event(record: dict[str, Any]) -> OutgoingEvent | None:
    if record.get("eventName") != "INSERT":
        return None
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if not image.get("pk", {}).get("S", "").startswith(OUTBOX_PREFIX):
        return None
    item = {key: _deserializer.deserialize(value) for key, value in image.items()}
    return OutgoingEvent(
        source=item["source"],
        detail_type=item["detail_type"],
        envelope=Envelope.model_validate(json.loads(item["detail"])),
    )


def relay_stream_batch(event: dict[str, Any], publisher: Publisher) -> dict[str, Any]:
    """Publish the outbox items in a DynamoDB stream batch.

    Returns the stream's partial-failure answer: the first record that failed, so the stream
    delivers it and everything after it again, in order.
    """
    pending: list[tuple[str, OutgoingEvent]] = []
    for record in event.get("Records", []):
        outgoing = _outbox_event(record)
        if outgoing is not None:
            pending.append((record["dynamodb"]["SequenceNumber"], outgoing))
    if not pending:
        return {"batchItemFailures": []}
    failed_ids = {e.envelope.id for e in publisher.publish([outgoing for _, outgoing in pending])}
    for sequence_number, outgoing in pending:
        if outgoing.envelope.id in failed_ids:
            return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
    return {"batchItemFailures": []}


RELAY_FUNCTION = "relay_outbox"


def register_outbox_relay(app: Chalice | Blueprint) -> Any:
    """Add the function that the table's stream invokes to put outbox events on the bus.

    Returns it: its entry module must hold it as `relay_outbox`, the handler Lambda looks up.
    """

    @app.lambda_function(name=RELAY_FUNCTION)
    def relay_outbox(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return relay_stream_batch(event, bus_publisher())

    return relay_outbox
