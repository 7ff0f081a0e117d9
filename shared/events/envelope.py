"""The envelope every event travels in, and the base of every event's data model.

On the bus: `Source` = `helpdesk.<service>`, `DetailType` = the event name, `Detail` = the
envelope (`id`, `occurred_at`, `schema_version`, `correlation_id`, `data`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from shared.clock import isoformat
from shared.model import Model


class EventData(Model):
    """The `data` of one kind of event. Subclasses name their source service and event name."""

    # Built on first use, so a function builds only the events it sends or handles.
    model_config = ConfigDict(frozen=True, extra="ignore")

    source_service: ClassVar[str]
    event_name: ClassVar[str]
    schema_version: ClassVar[int] = 1

    @classmethod
    def source(cls) -> str:
        return f"helpdesk.{cls.source_service}"


class Envelope(Model):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="unique per event; consumers apply each id once")
    occurred_at: str = Field(description="UTC ISO 8601")
    schema_version: int = 1
    correlation_id: str | None = Field(None, description="the request or event that caused it")
    data: dict[str, Any]


class OutgoingEvent(Model):
    """An event ready for the bus: where it goes and what it carries."""

    model_config = ConfigDict(frozen=True)

    source: str
    detail_type: str
    envelope: Envelope

    @classmethod
    def of(
        cls, data: EventData, occurred_at: datetime, correlation_id: str | None = None
    ) -> OutgoingEvent:
        return cls(
            source=data.source(),
            detail_type=data.event_name,
            envelope=Envelope(
                id=str(uuid.uuid4()),
                occurred_at=isoformat(occurred_at),
                schema_version=data.schema_version,
                correlation_id=correlation_id,
                data=data.model_dump(mode="json"),
            ),
        )

    def to_put_events_entry(self, bus_name: str) -> dict[str, Any]:
        return {
            "EventBusName": bus_name,
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": self.envelope.model_dump_json(),
        }
