"""What the contacts suites share: making contacts over HTTP and putting events on the bus as
their own services would. Holds no tests itself."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events.catalogue import (
    CrmContactUpserted,
    Person,
    TicketCreated,
)
from shared.events.envelope import EventData, OutgoingEvent
from shared.events.publisher import bus_publisher
from tests.conftest import Delivery, HttpClient

AGENT = ("alice@example.com", "agent")
ADMIN = ("admin@example.com", "admin")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def create(http: HttpClient, **fields: Any) -> dict[str, Any]:
    """A contact created by an agent; `fields` as the API takes them."""
    return http.expect(201, "POST", "/contacts", fields, as_=AGENT)  # type: ignore[no-any-return]


def get(http: HttpClient, contact_id: str) -> dict[str, Any]:
    return http.expect(200, "GET", f"/contacts/{contact_id}", as_=AGENT)  # type: ignore[no-any-return]


def find(http: HttpClient, query: str) -> list[dict[str, Any]]:
    """The contacts `GET /contacts?<query>` answers (first page)."""
    return http.expect(200, "GET", f"/contacts?{query}", as_=AGENT)["items"]  # type: ignore[no-any-return]


def tickets(
    http: HttpClient, contact_id: str, query: str = "", as_: tuple[str, str] = ADMIN
) -> dict[str, Any]:
    """The contact's tickets page; an admin sees them all (agents: by their departments)."""
    path = f"/contacts/{contact_id}/tickets?{query}"
    return http.expect(200, "GET", path, as_=as_)  # type: ignore[no-any-return]


def publish(delivery: Delivery, *data: EventData) -> None:
    """Put events on the bus (each under its own event id) and deliver everything."""
    events = [OutgoingEvent.of(d, datetime.now(UTC)) for d in data]
    assert bus_publisher().publish(events) == []
    delivery.run()


def ticket_created(
    email: str,
    name: str | None = None,
    *,
    ticket_id: str | None = None,
    number: int = 1,
    created_at: datetime = T0,
    subject: str = "Cannot log in",
) -> TicketCreated:
    """TicketCreated as the tickets service announces it."""
    return TicketCreated(
        ticket_id=ticket_id or str(uuid.uuid4()),
        number=f"TKT-{number:04d}",
        subject=subject,
        status="open",
        priority="medium",
        department_id=None,
        requester=Person(email=email, name=name),
        created_at=iso(created_at),
    )


def crm_record(crm_id: str = "501", *, minutes: int = 0, **fields: Any) -> CrmContactUpserted:
    """A CRM record as the CRM sync service announces it, changed `minutes` after T0."""
    values: dict[str, Any] = {
        "provider": "hubspot",
        "crm_id": crm_id,
        "url": f"https://app.hubspot.com/contacts/1/record/0-1/{crm_id}",
        "emails": ["dana@client.example.org"],
        "name": "Dana Scully",
        "phone": "+1 202 555 0143",
        "organisation": "FBI",
        "updated_at": iso(T0 + timedelta(minutes=minutes)),
    }
    return CrmContactUpserted(**{**values, **fields})
