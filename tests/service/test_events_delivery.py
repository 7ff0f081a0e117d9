"""Events are not lost and not applied twice: outbox under failure, idempotent consumers,
partial batch failures."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from local_stack.delivery import LambdaContext
from local_stack.system import LocalSystem
from services.sla.handlers.events import consumer
from shared.events.catalogue import Person, TicketCreated
from shared.events.envelope import OutgoingEvent
from shared.events.publisher import EventBridgePublisher
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service

NEW_TICKET = {"subject": "Lost VPN", "body": "Cannot connect.", "requester": {"email": "c@x.org"}}


def _sla_queue_depth() -> int:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=get_settings().queue_name("sla"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_an_event_survives_a_failed_publish_after_the_write(
    http: HttpClient, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the bus refuses every event (the process "dies" between write and publish)
    real_publish = EventBridgePublisher.publish

    def refuse(self: EventBridgePublisher, events: Any) -> Any:
        raise ConnectionError("bus unreachable")

    monkeypatch.setattr(EventBridgePublisher, "publish", refuse)
    # When a ticket is opened
    ticket = http.call("POST", "/tickets", NEW_TICKET)
    assert ticket.status == 201
    # Then the write stands while the relay fails, and nothing reached the subscriber
    delivery.run()
    assert _sla_queue_depth() == 0
    assert http.call("GET", f"/sla/tickets/{ticket.body['id']}").status == 404
    # When the bus is back, the stream delivers the outbox record again
    monkeypatch.setattr(EventBridgePublisher, "publish", real_publish)
    delivery.run()
    # Then the event arrived after all
    assert http.call("GET", f"/sla/tickets/{ticket.body['id']}").status == 200


def test_a_partly_refused_publish_is_retried_from_the_first_failed_record(
    http: HttpClient, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given PutEvents accepts the first entry of a batch and fails the rest (as it may)
    real_put = EventBridgePublisher.publish

    def half(self: EventBridgePublisher, events: Any) -> Any:
        real_put(self, events[:1])
        return list(events[1:])

    monkeypatch.setattr(EventBridgePublisher, "publish", half)
    first = http.call("POST", "/tickets", NEW_TICKET).body
    second = http.call("POST", "/tickets", NEW_TICKET).body
    delivery.run(rounds=1)
    monkeypatch.setattr(EventBridgePublisher, "publish", real_put)
    delivery.run()
    # Then both tickets reached the SLA service, each once
    for ticket in (first, second):
        assert http.call("GET", f"/sla/tickets/{ticket['id']}").status == 200


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(index),
                "receiptHandle": str(index),
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q",
                "awsRegion": "eu-west-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def _bus_message(event: OutgoingEvent) -> str:
    """The SQS body EventBridge delivers; moto leaves out `account`, so do we."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": event.detail_type,
            "source": event.source,
            "time": event.envelope.occurred_at,
            "region": "eu-west-1",
            "resources": [],
            "detail": event.envelope.model_dump(mode="json"),
        }
    )


def _created(ticket_id: str) -> OutgoingEvent:
    now = datetime.now(UTC)
    return OutgoingEvent.of(
        TicketCreated(
            ticket_id=ticket_id,
            number="TKT-0007",
            subject="s",
            status="open",
            priority="high",
            department_id=None,
            requester=Person(email="a@b.c"),
            created_at=now.isoformat(),
        ),
        now,
    )


def test_a_redelivered_event_is_applied_once(
    system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a handler that counts what it applies
    applied: list[str] = []
    monkeypatch.setattr(
        "services.sla.handlers.events.record_facts",
        lambda ticket_id, *a: applied.append(ticket_id),
    )
    event = _bus_message(_created("t-1"))
    consume = system.function("sla", "consume_events")
    # When the same event arrives twice, in one batch and again later
    consume(_sqs_event(event), LambdaContext("sla-consume_events"))
    answer = consume(_sqs_event(event), LambdaContext("sla-consume_events"))
    # Then it was applied once and neither delivery failed
    assert applied == ["t-1"]
    assert answer == {"batchItemFailures": []}


def test_one_bad_event_fails_alone_in_its_batch(system: LocalSystem) -> None:
    # Given a batch with a good event between two broken ones
    good = _bus_message(_created("t-2"))
    broken_json = "{not json"
    wrong_shape = _bus_message(_created("t-3")).replace('"priority": "high"', '"priority": "??"')
    consume = system.function("sla", "consume_events")
    # When it is consumed
    answer = consume(_sqs_event(broken_json, good, wrong_shape), LambdaContext("sla"))
    # Then only the broken ones are reported back for retry (and, in time, the DLQ)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "0"}, {"itemIdentifier": "2"}]}
    assert ("helpdesk.tickets", "TicketCreated") in consumer.subscriptions()
