"""Puts events on the bus. The EventBridge adapter and an in-memory fake share one interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from shared.aws import client
from shared.events.envelope import OutgoingEvent
from shared.settings import get_settings

PUT_EVENTS_BATCH = 10  # EventBridge accepts at most 10 entries per PutEvents call


class Publisher(Protocol):
    def publish(self, events: Sequence[OutgoingEvent]) -> list[OutgoingEvent]:
        """Publish; return the events that could not be put (to be retried by the caller)."""
        ...


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def publish(self, events: Sequence[OutgoingEvent]) -> list[OutgoingEvent]:
        failed: list[OutgoingEvent] = []
        for start in range(0, len(events), PUT_EVENTS_BATCH):
            batch = events[start : start + PUT_EVENTS_BATCH]
            response = self._client.put_events(
                Entries=[event.to_put_events_entry(self._bus_name) for event in batch]
            )
            if response.get("FailedEntryCount"):
                # Result entries line up with request entries; failed ones carry an ErrorCode.
                failed.extend(
                    event
                    for event, result in zip(batch, response["Entries"], strict=True)
                    if result.get("ErrorCode")
                )
        return failed


def bus_publisher() -> EventBridgePublisher:
    """The publisher onto this deployment's bus."""
    return EventBridgePublisher(client("events"), get_settings().bus_name)
