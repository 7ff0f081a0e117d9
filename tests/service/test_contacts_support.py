"""What the contacts suites share: making contacts over HTTP and putting events on the bus as
their own services would (the events built as `tests.contacts_desk` builds them for the logic
tests). Holds no tests itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.events.envelope import EventData, OutgoingEvent
from shared.events.publisher import bus_publisher
from tests.conftest import Delivery, HttpClient
from tests.contacts_desk import T0, crm_record, iso, ticket_created

__all__ = ["T0", "crm_record", "iso", "ticket_created"]  # for the suites that import them here

AGENT = ("alice@example.com", "agent")
ADMIN = ("admin@example.com", "admin")


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
