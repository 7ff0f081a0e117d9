"""A ticket's life: its number, its shape, the statuses agents set and the ones that follow from
messages, the conversation and the history, and mail that opens or continues a ticket."""

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
COLLEAGUE = "carol@example.com"
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


def _patch(http: HttpClient, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return http.expect(200, "PATCH", f"/tickets/{ticket_id}", body, as_=AGENT)  # type: ignore[no-any-return]


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


def _status_changes(http: HttpClient, ticket_id: str) -> list[tuple[str, str, str]]:
    return [
        (entry["old"], entry["new"], entry["actor"])
        for entry in _history(http, ticket_id)
        if entry["field"] == "status"
    ]


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


def _set_status(http: HttpClient, ticket: dict[str, Any], status: str) -> dict[str, Any]:
    if ticket["status"] == status:
        return ticket
    return _patch(http, ticket["id"], {"status": status})


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --- numbers, finding, shape ----------------------------------------------------------------------


def test_numbers_count_up_with_prefix_and_padding_and_find_the_ticket(http: HttpClient) -> None:
    # Given an agent of Billing
    _billing_with_agent(http)
    # When they open two tickets
    first, second = _open(http), _open(http, subject="Second")
    # Then the numbers follow each other, prefixed and padded
    assert (first["number"], second["number"]) == ("TKT-0001", "TKT-0002")
    assert first["id"] != second["id"]
    # And each is found by its id and by its number, and not mixed up with the other
    assert _get(http, first["id"]) == _get(http, "TKT-0001") == first
    assert _get(http, second["id"]) == _get(http, "TKT-0002") == second
    assert http.call("GET", "/tickets/TKT-0003", as_=AGENT).status == 404


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


# --- statuses set by hand -------------------------------------------------------------------------


def test_an_agent_sets_any_status_by_hand(http: HttpClient) -> None:
    # Given an open ticket
    _billing_with_agent(http)
    ticket = _open(http)
    path = ["waiting_on_client", "in_progress", "resolved", "open", "in_progress", "closed"]
    # When the agent moves it through every status by hand
    for status in path:
        ticket = _patch(http, ticket["id"], {"status": status})
        # Then each status is the one they chose
        assert ticket["status"] == status
        assert _get(http, ticket["id"])["status"] == status
    # And the history names them for each step, old and new
    olds = ["open", *path[:-1]]
    assert _status_changes(http, ticket["id"]) == [
        (old, new, AGENT[0]) for old, new in zip(olds, path, strict=True)
    ]
    assert ticket["version"] == 1 + len(path)


def test_resolving_and_closing_record_when_it_happened(http: HttpClient) -> None:
    # Given an open ticket
    _billing_with_agent(http)
    ticket = _open(http)
    # When it is resolved
    resolved = _patch(http, ticket["id"], {"status": "resolved"})
    # Then the time of resolution is set, and it is not closed
    assert _when(resolved["resolved_at"]) is not None
    assert _when(resolved["resolved_at"]) >= _when(ticket["created_at"])  # type: ignore[operator]
    assert resolved["closed_at"] is None
    # When it is closed
    closed = _patch(http, ticket["id"], {"status": "closed"})
    # Then the time of closing is set too, and the resolution time stays
    assert _when(closed["closed_at"]) is not None
    assert _when(closed["closed_at"]) >= _when(resolved["resolved_at"])  # type: ignore[operator]
    assert closed["resolved_at"] == resolved["resolved_at"]
    assert _get(http, ticket["id"])["closed_at"] == closed["closed_at"]


def test_a_closed_ticket_is_final(http: HttpClient) -> None:
    # Given a closed ticket
    _billing_with_agent(http)
    ticket = _patch(http, _open(http)["id"], {"status": "closed"})
    before = (_get(http, ticket["id"]), _messages(http, ticket["id"]), _history(http, ticket["id"]))
    # When an agent sets it back to open
    reopen = http.call("PATCH", f"/tickets/{ticket['id']}", {"status": "open"}, as_=AGENT)
    # Then it is a conflict
    assert reopen.status == 409, reopen.body
    assert reopen.headers["Content-Type"] == "application/problem+json"
    assert reopen.body["type"].endswith("/conflict")
    # When an agent replies to the client on it
    reply = http.call(
        "POST", f"/tickets/{ticket['id']}/messages", {"body": "Hello again"}, as_=AGENT
    )
    # Then that is a conflict as well
    assert reply.status == 409, reply.body
    assert reply.body["type"].endswith("/conflict")
    # And nothing changed: not the ticket, not the conversation, not the history
    after = (_get(http, ticket["id"]), _messages(http, ticket["id"]), _history(http, ticket["id"]))
    assert after == before
    assert after[0]["status"] == "closed"


def test_an_agent_takes_a_ticket_by_assigning_it_to_themselves(http: HttpClient) -> None:
    # Given an open Billing ticket and an agent of Billing
    _billing_with_agent(http)
    ticket = _open(http)
    # When the agent assigns it to themselves and starts on it
    answer = http.call(
        "PATCH",
        f"/tickets/{ticket['id']}",
        {"assignee": AGENT[0], "status": "in_progress"},
        as_=AGENT,
    )
    # Then it is theirs and in progress
    assert answer.status == 200, answer.body
    assert (answer.body["assignee"], answer.body["status"]) == (AGENT[0], "in_progress")
    assert _get(http, ticket["id"])["assignee"] == AGENT[0]
    mine = http.call("GET", "/tickets?assignee=me", as_=AGENT)
    assert [t["id"] for t in mine.body["items"]] == [ticket["id"]]


# --- statuses that follow from messages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [("waiting_on_client", "open"), ("resolved", "open"), ("in_progress", "in_progress")],
)
def test_a_client_message_reopens_a_ticket_that_waited_or_was_resolved(
    http: HttpClient, delivery: Delivery, status: str, expected: str
) -> None:
    # Given a ticket in `status`, set by the agent
    _billing_with_agent(http)
    ticket = _set_status(http, _open(http), status)
    # When the client writes to it
    _mail(delivery, ticket_id=ticket["id"], text="Still broken.")
    # Then the ticket has the client's message
    found = _get(http, ticket["id"])
    last = _messages(http, ticket["id"])[-1]
    assert (last["body"], last["author"]["type"], last["author"]["email"]) == (
        "Still broken.",
        "client",
        CLIENT,
    )
    # And its status is `expected`; a change is the system's in the history
    assert found["status"] == expected
    automatic = [(status, "open", "system")] if expected != status else []
    assert _status_changes(http, ticket["id"]) == [
        *([("open", status, AGENT[0])] if status != "open" else []),
        *automatic,
    ]


@pytest.mark.parametrize("status", ["open", "in_progress"])
def test_a_public_reply_hands_the_ticket_to_the_client(http: HttpClient, status: str) -> None:
    # Given a ticket the agent is working on
    _billing_with_agent(http)
    ticket = _set_status(http, _open(http), status)
    # When they reply to the client
    posted = _post(http, ticket["id"], "Could you send the invoice number?")
    # Then the ticket waits on the client, in the answer and when read again
    assert posted["ticket"]["status"] == "waiting_on_client"
    assert posted["message"]["visibility"] == "public"
    assert _get(http, ticket["id"])["status"] == "waiting_on_client"
    # And the history shows the system made that change
    assert _status_changes(http, ticket["id"])[-1] == (status, "waiting_on_client", "system")


def test_a_reply_that_names_a_status_sets_that_status_as_the_agent(http: HttpClient) -> None:
    # Given an open ticket
    _billing_with_agent(http)
    ticket = _open(http)
    # When the agent replies and resolves it in one go
    posted = _post(http, ticket["id"], "Refunded, sorry for the trouble.", status="resolved")
    # Then it is resolved, not waiting on the client, and the agent made the change
    assert posted["ticket"]["status"] == "resolved"
    assert posted["ticket"]["resolved_at"] is not None
    assert _get(http, ticket["id"])["status"] == "resolved"
    assert _status_changes(http, ticket["id"]) == [("open", "resolved", AGENT[0])]


@pytest.mark.parametrize("status", ["open", "in_progress", "waiting_on_client", "resolved"])
def test_an_internal_note_changes_no_status(http: HttpClient, status: str) -> None:
    # Given a ticket in some status
    _billing_with_agent(http)
    ticket = _set_status(http, _open(http), status)
    changes_before = _status_changes(http, ticket["id"])
    # When an agent adds an internal note
    posted = _post(http, ticket["id"], "Check with finance first.", visibility="internal")
    # Then the status is as it was and the history has no new status change
    assert posted["ticket"]["status"] == status
    assert _get(http, ticket["id"])["status"] == status
    assert _status_changes(http, ticket["id"]) == changes_before
    # And a note is not a response to the client
    assert _get(http, ticket["id"])["first_response_at"] is None


def test_first_response_is_the_first_public_agent_reply_only(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a ticket opened by an agent: opening it is not a response
    _billing_with_agent(http)
    ticket = _open(http)
    assert ticket["first_response_at"] is None
    # When a note is added and the client writes
    _post(http, ticket["id"], "Looking into it.", visibility="internal")
    _mail(delivery, ticket_id=ticket["id"])
    # Then still no response has been given
    assert _get(http, ticket["id"])["first_response_at"] is None
    # When the agent replies publicly
    first = _post(http, ticket["id"], "We are on it.")
    # Then that reply's time is the first response
    responded = first["ticket"]["first_response_at"]
    assert responded is not None
    assert _when(responded) == _when(first["message"]["created_at"])
    # And a second reply does not move it
    second = _post(http, ticket["id"], "Refund sent.")
    assert second["ticket"]["first_response_at"] == responded
    assert _get(http, ticket["id"])["first_response_at"] == responded


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


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
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


def test_the_history_lists_every_change_and_pages_through_it(http: HttpClient) -> None:
    # Given a ticket changed in several ways by an agent
    _billing_with_agent(http)
    assert http.call("POST", "/departments/billing/members", {"email": COLLEAGUE}).status == 200
    ticket = _open(http, tags=["invoice"])
    _patch(http, ticket["id"], {"priority": "urgent"})
    _patch(http, ticket["id"], {"assignee": COLLEAGUE, "status": "in_progress"})
    _patch(http, ticket["id"], {"tags": ["invoice", "refund"]})
    _post(http, ticket["id"], "Refund approved.")
    # When the history is read
    history = _history(http, ticket["id"])
    # Then it has every change: field, old, new, who and when
    assert [(e["field"], e["old"], e["new"], e["actor"]) for e in history] == [
        ("created", None, "TKT-0001", AGENT[0]),
        ("priority", "high", "urgent", AGENT[0]),
        ("status", "open", "in_progress", AGENT[0]),
        ("assignee", None, COLLEAGUE, AGENT[0]),
        ("tags", ["invoice"], ["invoice", "refund"], AGENT[0]),
        ("status", "in_progress", "waiting_on_client", "system"),
    ]
    assert all(_when(e["at"]) is not None for e in history)
    # And paging with any page size gives each entry once, in the same order
    for limit in (1, 2, 4):
        pages = _all_pages(http, f"/tickets/{ticket['id']}/history", limit)
        assert all(len(page) <= limit for page in pages)
        assert [e for page in pages for e in page] == history


# --- mail -----------------------------------------------------------------------------------------


def test_mail_to_a_closed_ticket_opens_a_follow_up(http: HttpClient, delivery: Delivery) -> None:
    # Given a closed Billing ticket
    _billing_with_agent(http)
    closed = _patch(http, _open(http)["id"], {"status": "closed"})
    delivery.run()  # (the SLA and contacts services say their part)
    closed = _get(http, closed["id"])
    messages_before = _messages(http, closed["id"])
    # When the client writes to it again
    _mail(delivery, ticket_id=closed["id"], text="It happened again.", subject="Re: again")
    # Then a new ticket continues it, in the same department, for the sender
    follow_up = _get(http, "TKT-0002")
    assert follow_up["follow_up_of"] == closed["id"]
    assert follow_up["department_id"] == "billing"
    assert follow_up["status"] == "open"
    assert follow_up["requester"]["email"] == CLIENT
    [message] = _messages(http, follow_up["id"])
    assert (message["body"], message["author"]["type"]) == ("It happened again.", "client")
    # And the closed ticket is untouched
    assert _get(http, closed["id"]) == closed
    assert _messages(http, closed["id"]) == messages_before


def test_mail_without_a_thread_opens_a_ticket_in_its_department(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given the Billing department
    _billing_with_agent(http)
    # When a client writes to Billing's address with no ticket to continue
    sender = Person(email="zoe@example.org", name="Zoë")
    _mail(delivery, department_id="billing", sender=sender, subject="Refund", text="Please refund.")
    # Then a ticket is open in Billing, for the sender, with their message
    listed = http.call("GET", "/tickets?department_id=billing", as_=AGENT)
    assert listed.status == 200, listed.body
    [ticket] = listed.body["items"]
    assert ticket["number"] == "TKT-0001"
    assert (ticket["subject"], ticket["status"]) == ("Refund", "open")
    assert ticket["department_id"] == "billing"
    assert ticket["requester"] == {"email": "zoe@example.org", "name": "Zoë"}
    assert ticket["follow_up_of"] is None
    [message] = _messages(http, ticket["id"])
    assert message["body"] == "Please refund."
    assert message["visibility"] == "public"
    assert message["author"]["type"] == "client"
    assert message["author"]["email"] == "zoe@example.org"
    # And the system opened it (then linked its contact and set its SLA)
    created = _history(http, ticket["id"])[0]
    assert (created["field"], created["actor"]) == ("created", "system")
