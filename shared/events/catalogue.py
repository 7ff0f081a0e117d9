"""The catalogue of events between services: the `data` model of every event on the bus.

This module is the contract other teams subscribe to. `python -m shared.events.catalogue` writes
docs/events.md and docs/events.schema.json from these models; a test fails if they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventData

Priority = str  # "low" | "medium" | "high" | "urgent"; validated by the owning service


class Person(BaseModel):
    model_config = ConfigDict(frozen=True)

    email: str
    name: str | None = None


class TicketCreated(EventData):
    """A ticket was opened (by an agent over HTTP or by mail through the channels service)."""

    source_service = "tickets"
    event_name = "TicketCreated"

    ticket_id: str
    number: str = Field(description="human number such as TKT-0042")
    subject: str
    status: str
    priority: Priority
    department_id: str | None
    requester: Person
    channel_id: str | None = None
    created_at: str


class MailVerdicts(BaseModel):
    model_config = ConfigDict(frozen=True)

    spam: str | None = None
    virus: str | None = None
    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None


class EmailReceived(EventData):
    """A mail reached a support address; its raw MIME is in the mail bucket."""

    source_service = "channels"
    event_name = "EmailReceived"

    ses_message_id: str
    message_id: str | None = Field(description="the mail's own Message-ID header")
    raw_key: str = Field(description="key of the raw MIME in the mail bucket")
    sender: Person
    recipients: list[str]
    subject: str
    received_at: str
    verdicts: MailVerdicts


CATALOGUE: tuple[type[EventData], ...] = (TicketCreated, EmailReceived)


def render_markdown() -> str:
    lines = [
        "# Event catalogue",
        "",
        "Generated from `shared/events/catalogue.py` by `python -m shared.events.catalogue`;",
        "do not edit by hand. Every event is on the helpdesk bus with",
        "`Source` = `helpdesk.<service>`, `DetailType` = the event name and",
        "`Detail` = the envelope",
        "(`id`, `occurred_at`, `schema_version`, `correlation_id`, `data`). Delivery is at least",
        "once: apply each `id` once. JSON Schemas of every `data`: `events.schema.json`.",
        "",
    ]
    for event in CATALOGUE:
        schema = event.model_json_schema()
        lines += [
            f"## {event.event_name}",
            "",
            f"Source `{event.source()}`, schema version "
            f"{event.schema_version}. {(event.__doc__ or '').strip()}",
            "",
            "| field | type | required |",
            "|---|---|---|",
        ]
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            kind = (
                prop.get("type")
                or " or ".join(
                    option.get("type", option.get("$ref", "").rsplit("/", 1)[-1])
                    for option in prop.get("anyOf", [])
                )
                or prop.get("$ref", "").rsplit("/", 1)[-1]
            )
            lines.append(f"| `{name}` | {kind} | {'yes' if name in required else 'no'} |")
        lines.append("")
    return "\n".join(lines)


def render_schemas() -> str:
    schemas = {event.event_name: event.model_json_schema() for event in CATALOGUE}
    return json.dumps(schemas, indent=2, sort_keys=True) + "\n"


def write_docs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.md").write_text(render_markdown())
    (folder / "events.schema.json").write_text(render_schemas())


if __name__ == "__main__":
    write_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
