"""A ticket's life through the HTTP API: numbers from the settings, the resource's shape, and the
conversation as agents read it. The rules of statuses, messages, history and mail are held in
`tests/unit/test_tickets_logic.py`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from shared.aws import reset_process_state
from shared.events.catalogue import EmailReceived, MailVerdicts, Person
from shared.events.envelope import OutgoingEvent
from shared.events.publisher import bus_publisher
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service

AGENT = ("alice@example.com", "agent")
CLIENT = "bob@example.com"
NEW_TICKET = {
    "subject": "Invoice twice",
    "body": "I was charged twice for March.",
    "priority": "high",
    "department_id": "billing",
    "requester": {"email": CLIENT, "name": "Bob"},
}
# The ticket resource as DESIGN.md names it, plus the lifecycle fields.
TICKET_FIELDS = {
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "department_id",
    "assignee",
    "requester",
    "contact_id",
    "tags",
    "cc",
    "channel_id",
    "sla",
    "version",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "merged_into",
    "follow_up_of",
}


# --- helpers --------------------------------------------------------------------------------------


def _billing_with_agent(http: HttpClient) -> None:
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    assert http.call("POST", "/departments/billing/members", {"email": AGENT[0]}).status == 200


def _open(http: HttpClient, **changes: Any) -> dict[str, Any]:
    return http.expect(201, "POST", "/tickets", {**NEW_TICKET, **changes}, as_=AGENT)  # type: ignore[no-any-return]


def _get(http: HttpClient, key: str) -> dict[str, Any]:
    return http.expect(200, "GET", f"/tickets/{key}", as_=AGENT)  # type: ignore[no-any-return]


def _post(
    http: HttpClient, ticket_id: str, body: str, visibility: str = "public", **extra: Any
) -> dict[str, Any]:
    message = {"body": body, "visibility": visibility, **extra}
    return http.expect(201, "POST", f"/tickets/{ticket_id}/messages", message, as_=AGENT)  # type: ignore[no-any-return]


def _all_pages(http: HttpClient, path: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of a paginated list, following next_cursor until it runs out."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    for _ in range(100):
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = http.call("GET", f"{path}?{urlencode(query)}", as_=AGENT)
        assert answer.status == 200, answer.body
        pages.append(answer.body["items"])
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the cursor never ran out")


def _messages(http: HttpClient, ticket_id: str) -> list[dict[str, Any]]:
    answer = http.call("GET", f"/tickets/{ticket_id}/messages?limit=200", as_=AGENT)
    assert answer.status == 200, answer.body
    assert answer.body["next_cursor"] is None
    return answer.body["items"]  # type: ignore[no-any-return]


def _history(http: HttpClient, ticket_id: str) -> list[dict[str, Any]]:
    answer = http.call("GET", f"/tickets/{ticket_id}/history?limit=200", as_=AGENT)
    assert answer.status == 200, answer.body
    return answer.body["items"]  # type: ignore[no-any-return]


def _mail(
    delivery: Delivery,
    *,
    ticket_id: str | None = None,
    department_id: str | None = None,
    text: str = "Any news?",
    subject: str = "Re: Invoice twice",
    sender: Person | None = None,
) -> None:
    """A client's mail, as the channels service announces it, delivered to the tickets service."""
    sender = sender or Person(email=CLIENT, name="Bob")
    now = datetime.now(UTC)
    mail = EmailReceived(
        ses_message_id=str(uuid.uuid4()),
        message_id=f"<{uuid.uuid4()}@example.org>",
        raw_key=f"inbound/{uuid.uuid4()}",
        sender=sender,
        recipients=["billing@support.example.com"],
        subject=subject,
        text=text,
        ticket_id=ticket_id,
        department_id=department_id,
        received_at=now.isoformat(),
        verdicts=MailVerdicts(spam="PASS", virus="PASS"),
    )
    assert bus_publisher().publish([OutgoingEvent.of(mail, now)]) == []
    delivery.run()


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --- numbers, finding, shape ----------------------------------------------------------------------


def test_prefix_and_width_of_numbers_are_settings(
    http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment configured for `HD` numbers of six digits
    monkeypatch.setenv("HELPDESK_TICKET_PREFIX", "HD")
    monkeypatch.setenv("HELPDESK_TICKET_NUMBER_WIDTH", "6")
    reset_process_state()
    _billing_with_agent(http)
    # When two tickets are opened
    first, second = _open(http), _open(http)
    # Then their numbers use that prefix and width, and the numbers find them
    assert (first["number"], second["number"]) == ("HD-000001", "HD-000002")
    assert _get(http, "HD-000002")["id"] == second["id"]


def test_a_new_ticket_has_every_field_of_the_resource(http: HttpClient) -> None:
    # Given an agent of Billing
    _billing_with_agent(http)
    # When they open a ticket with tags and a copy address
    ticket = _open(http, tags=["refund", "invoice", "refund"], cc=["Carol@Example.com"])
    # Then every field a frontend relies on is there, with the values of a new ticket
    assert set(ticket) >= TICKET_FIELDS
    assert ticket["subject"] == "Invoice twice"
    assert (ticket["status"], ticket["priority"]) == ("open", "high")
    assert ticket["department_id"] == "billing"
    assert ticket["requester"] == {"email": CLIENT, "name": "Bob"}
    assert ticket["tags"] == ["invoice", "refund"]
    assert ticket["cc"] == ["carol@example.com"]
    assert ticket["version"] == 1
    assert ticket["created_at"] == ticket["updated_at"]
    for empty in (
        "assignee",
        "contact_id",
        "channel_id",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "merged_into",
        "follow_up_of",
    ):
        assert ticket[empty] is None, empty
    assert set(ticket["sla"]) >= {"state", "first_response_due_at", "resolution_due_at"}
    assert ticket["sla"]["state"] is None
    # And the conversation starts with the body, the history with the opening
    [message] = _messages(http, ticket["id"])
    assert message["body"] == NEW_TICKET["body"]
    assert (message["visibility"], message["author"]["type"]) == ("public", "agent")
    [created] = _history(http, ticket["id"])
    assert (created["field"], created["new"], created["actor"]) == ("created", "TKT-0001", AGENT[0])


# --- conversation and history ---------------------------------------------------------------------


def test_the_conversation_reads_in_order_with_notes_marked(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a ticket with a note, a reply and a client answer, in that order
    _billing_with_agent(http)
    ticket = _open(http)
    _post(http, ticket["id"], "Finance says yes.", visibility="internal")
    _post(http, ticket["id"], "A refund is on its way.")
    _mail(delivery, ticket_id=ticket["id"], text="Thank you!")
    # When the conversation is read
    answer = http.call("GET", f"/tickets/{ticket['id']}/messages", as_=AGENT)
    assert answer.status == 200, answer.body
    items = answer.body["items"]
    # Then it is oldest first, and the note is marked internal
    assert [m["body"] for m in items] == [
        NEW_TICKET["body"],
        "Finance says yes.",
        "A refund is on its way.",
        "Thank you!",
    ]
    assert [(m["visibility"], m["internal"]) for m in items] == [
        ("public", False),
        ("internal", True),
        ("public", False),
        ("public", False),
    ]
    assert [m["author"]["type"] for m in items] == ["agent", "agent", "agent", "client"]
    assert all(m["ticket_id"] == ticket["id"] for m in items)
    times = [_when(m["created_at"]) for m in items]
    assert times == sorted(times)  # type: ignore[type-var]
    assert answer.body["ticket"]["id"] == ticket["id"]


@pytest.mark.parametrize("limit", [2])  # other sizes: in the logic tests
def test_paging_through_the_conversation_gives_every_message_once(
    http: HttpClient, limit: int
) -> None:
    # Given a ticket with seven messages (the first and six more)
    _billing_with_agent(http)
    ticket = _open(http)
    for number in range(6):
        _post(http, ticket["id"], f"message {number}", visibility="internal")
    everything = [m["id"] for m in _messages(http, ticket["id"])]
    assert len(everything) == 7
    # When it is read page by page
    pages = _all_pages(http, f"/tickets/{ticket['id']}/messages", limit)
    # Then no page is longer than asked, and together they are the conversation, once, in order
    assert all(len(page) <= limit for page in pages)
    assert [m["id"] for page in pages for m in page] == everything
