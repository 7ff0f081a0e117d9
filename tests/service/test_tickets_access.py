"""Who sees and changes which ticket, through the HTTP API: a hidden ticket answers exactly like
one that does not exist, merges across departments, requests without a token, and the triage
department from the settings. The rules themselves are held in
`tests/unit/test_tickets_logic.py`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shared.aws import reset_process_state
from tests.conftest import Answer, HttpClient

pytestmark = pytest.mark.service

Who = tuple[str, str]
ADMIN: Who = ("admin@example.com", "admin")
MEMBER: Who = ("alice@example.com", "agent")  # Billing
OUTSIDER: Who = ("bob@example.com", "agent")  # Technical only
NOBODY: Who = ("carol@example.com", "agent")  # no department at all
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
UNKNOWN_NUMBER = "TKT-9999"

NEW_TICKET = {
    "subject": "Invoice twice",
    "body": "I was charged twice in March.",
    "priority": "urgent",
    "requester": {"email": "client@example.org", "name": "Client"},
    "tags": ["refund"],
}


@dataclass
class Desk:
    """Billing (Alice) and Technical (Bob) departments, one ticket in each."""

    billing: dict[str, Any]
    technical: dict[str, Any]


def _department(http: HttpClient, name: str, *members: str) -> str:
    created = http.call("POST", "/departments", {"name": name})
    assert created.status == 201, created.body
    for email in members:
        added = http.call("POST", f"/departments/{created.body['id']}/members", {"email": email})
        assert added.status == 200, added.body
    return str(created.body["id"])


def _ticket(http: HttpClient, department_id: str | None, as_: Who = ADMIN, **extra: Any) -> Any:
    body = {**NEW_TICKET, **extra}
    if department_id is not None:
        body["department_id"] = department_id
    answer = http.call("POST", "/tickets", body, as_=as_)
    assert answer.status == 201, answer.body
    return answer.body


def _desk(http: HttpClient) -> Desk:
    _department(http, "Billing", MEMBER[0])
    _department(http, "Technical", OUTSIDER[0])
    billing = _ticket(http, "billing", MEMBER)
    technical = _ticket(
        http,
        "technical",
        OUTSIDER,
        subject="VPN down",
        priority="low",
        requester={"email": "other@example.org"},
        tags=["vpn"],
    )
    return Desk(billing, technical)


def _signature(answer: Answer) -> tuple[Any, ...]:
    """What a caller can tell apart in a problem answer (the path aside)."""
    body = answer.body or {}
    return (
        answer.status,
        answer.headers.get("Content-Type"),
        body.get("type"),
        body.get("title"),
    )


def _ids(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [item["id"] for item in answer.body["items"]]


def _unchanged(http: HttpClient, ticket: dict[str, Any]) -> None:
    """The ticket as the admin sees it: same version, and only its first message."""
    now = http.call("GET", f"/tickets/{ticket['id']}")
    assert now.status == 200
    assert now.body["version"] == ticket["version"]
    assert now.body["status"] == ticket["status"]
    assert now.body["assignee"] == ticket["assignee"]
    assert now.body["department_id"] == ticket["department_id"]
    messages = http.call("GET", f"/tickets/{ticket['id']}/messages")
    assert len(messages.body["items"]) == 1


# --- the matrix: role x action ------------------------------------------------------------------

Action = Callable[[HttpClient, str, str, Who], Answer]


def _read_by_id(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    return http.call("GET", f"/tickets/{key}", as_=who)


def _read_by_number(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    return http.call("GET", f"/tickets/{number}", as_=who)


def _messages(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    return http.call("GET", f"/tickets/{key}/messages", as_=who)


def _messages_by_number(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    return http.call("GET", f"/tickets/{number}/messages", as_=who)


def _history(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    return http.call("GET", f"/tickets/{key}/history", as_=who)


def _history_by_number(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    return http.call("GET", f"/tickets/{number}/history", as_=who)


def _change(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    return http.call("PATCH", f"/tickets/{key}", {"priority": "low"}, as_=who)


def _reply(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    return http.call("POST", f"/tickets/{key}/messages", {"body": "On it."}, as_=who)


def _note(http: HttpClient, key: str, number: str, who: Who) -> Answer:
    note = {"body": "Check the ledger.", "visibility": "internal"}
    return http.call("POST", f"/tickets/{key}/messages", note, as_=who)


ACTIONS: dict[str, tuple[Action, int]] = {
    "read by id": (_read_by_id, 200),
    "read by number": (_read_by_number, 200),
    "messages": (_messages, 200),
    "messages by number": (_messages_by_number, 200),
    "history": (_history, 200),
    "history by number": (_history_by_number, 200),
    "change": (_change, 200),
    "reply": (_reply, 201),
    "note": (_note, 201),
}


# Every action on each kind of key, for every kind of outsider, is held to this in the logic tests;
# here, the whole HTTP answer for a read and a write.
@pytest.mark.parametrize("action", ["read by number", "reply"])
@pytest.mark.parametrize("who", [OUTSIDER], ids=["other-department"])
def test_a_hidden_ticket_answers_exactly_like_a_missing_one(
    http: HttpClient, action: str, who: Who
) -> None:
    # Given a Billing ticket, and an agent outside Billing
    desk = _desk(http)
    do, _ = ACTIONS[action]
    # When they act on it, and on a ticket that does not exist
    hidden = do(http, desk.billing["id"], desk.billing["number"], who)
    missing = do(http, UNKNOWN_ID, UNKNOWN_NUMBER, who)
    # Then both answers are the same 404 problem
    assert hidden.status == 404, hidden.body
    assert _signature(hidden) == _signature(missing)
    assert hidden.headers["Content-Type"] == "application/problem+json"
    assert hidden.body["type"].endswith("/not-found")
    # And the whole answer, but for the key the caller sent, is the same: nothing gives it away
    by_number = "number" in action
    sent = desk.billing["number"] if by_number else desk.billing["id"]
    unknown = UNKNOWN_NUMBER if by_number else UNKNOWN_ID
    assert json.dumps(hidden.body).replace(sent, "KEY") == json.dumps(missing.body).replace(
        unknown, "KEY"
    )
    # And nothing changed on it
    _unchanged(http, desk.billing)


@pytest.mark.parametrize("who", [ADMIN, MEMBER], ids=["admin", "member"])
def test_admins_and_members_merge_tickets_of_the_department(http: HttpClient, who: Who) -> None:
    # Given two Billing tickets
    desk = _desk(http)
    duplicate = _ticket(http, "billing", MEMBER, subject="Charged twice")
    # When one is merged into the other
    answer = http.call(
        "POST", f"/tickets/{duplicate['id']}/merge", {"into": desk.billing["number"]}, as_=who
    )
    # Then the duplicate is closed and points at the ticket that remains
    assert answer.status == 200, answer.body
    assert answer.body["source"]["merged_into"] == desk.billing["id"]
    assert answer.body["source"]["status"] == "closed"
    assert answer.body["target"]["id"] == desk.billing["id"]


@pytest.mark.parametrize("who", [OUTSIDER, NOBODY], ids=["other-department", "no-department"])
def test_merging_a_hidden_ticket_answers_like_merging_a_missing_one(
    http: HttpClient, who: Who
) -> None:
    # Given two Billing tickets, and an agent outside Billing
    desk = _desk(http)
    duplicate = _ticket(http, "billing", MEMBER, subject="Charged twice")
    # When they merge one into the other, and a missing ticket into a Billing one
    hidden = http.call(
        "POST", f"/tickets/{duplicate['id']}/merge", {"into": desk.billing["id"]}, as_=who
    )
    missing = http.call(
        "POST", f"/tickets/{UNKNOWN_ID}/merge", {"into": desk.billing["id"]}, as_=who
    )
    # Then both are the same 404, and both tickets are as they were
    assert hidden.status == 404, hidden.body
    assert _signature(hidden) == _signature(missing)
    _unchanged(http, duplicate)
    _unchanged(http, desk.billing)


def test_an_agent_cannot_merge_into_or_from_a_department_they_are_not_in(
    http: HttpClient,
) -> None:
    # Given a Technical agent's own ticket and a Billing ticket
    desk = _desk(http)
    # When Bob merges his ticket into the Billing one, or the Billing one into his
    into_hidden = http.call(
        "POST", f"/tickets/{desk.technical['id']}/merge", {"into": desk.billing["id"]}, as_=OUTSIDER
    )
    into_missing = http.call(
        "POST", f"/tickets/{desk.technical['id']}/merge", {"into": UNKNOWN_ID}, as_=OUTSIDER
    )
    from_hidden = http.call(
        "POST", f"/tickets/{desk.billing['id']}/merge", {"into": desk.technical["id"]}, as_=OUTSIDER
    )
    # Then the hidden ticket is "not found" as a missing one would be, and nothing moved
    assert into_hidden.status == from_hidden.status == 404
    assert _signature(into_hidden) == _signature(into_missing)
    _unchanged(http, desk.technical)
    _unchanged(http, desk.billing)


# --- without a token ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/tickets", None),
        ("POST", "/tickets", {**NEW_TICKET, "department_id": "billing"}),
        ("GET", "/tickets/{id}", None),
        ("GET", "/tickets/{number}", None),
        ("PATCH", "/tickets/{id}", {"priority": "low"}),
        ("GET", "/tickets/{id}/messages", None),
        ("POST", "/tickets/{id}/messages", {"body": "Hi"}),
        ("GET", "/tickets/{id}/history", None),
        ("POST", "/tickets/{id}/merge", {"into": "TKT-0002"}),
        ("GET", "/departments/billing/counts", None),
    ],
)
def test_without_a_token_every_ticket_route_is_401(
    http: HttpClient, method: str, path: str, body: Any
) -> None:
    # Given a Billing ticket
    desk = _desk(http)
    target = path.format(id=desk.billing["id"], number=desk.billing["number"])
    # When a request comes without a token
    answer = http.call(method, target, body, as_=None)
    # Then it is refused as unauthenticated, and nothing changed
    assert answer.status == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith("/unauthorized")
    assert desk.billing["subject"] not in json.dumps(answer.body)
    _unchanged(http, desk.billing)
    assert http.call("GET", "/tickets/TKT-0003").status == 404  # no ticket was opened


# --- tickets without a department, and the triage department ------------------------------------


@pytest.fixture
def triage(http: HttpClient, monkeypatch: pytest.MonkeyPatch) -> Who:
    """A configured triage department with one member, Dave."""
    monkeypatch.setenv("HELPDESK_TRIAGE_DEPARTMENT", "triage")
    reset_process_state()
    dave: Who = ("dave@example.com", "agent")
    _department(http, "Triage", dave[0])
    return dave


def test_members_of_the_triage_department_see_and_work_tickets_without_a_department(
    http: HttpClient, triage: Who
) -> None:
    # Given a ticket without a department
    desk = _desk(http)
    loose = _ticket(http, None, subject="Where do I go?")
    # When the triage agent looks and works on it
    # Then they see it by id, by number, in lists and counts
    for action in (_read_by_id, _read_by_number, _messages, _history):
        assert action(http, loose["id"], loose["number"], triage).status == 200
    assert _ids(http.call("GET", "/tickets?department_id=none", as_=triage)) == [loose["id"]]
    listed = _ids(http.call("GET", "/tickets", as_=triage))
    assert loose["id"] in listed
    assert desk.billing["id"] not in listed
    assert http.call("GET", "/departments/none/counts", as_=triage).body["open"] == 1
    # And they may change it, reply and note
    changed = http.call("PATCH", f"/tickets/{loose['id']}", {"priority": "high"}, as_=triage)
    assert (changed.status, changed.body["priority"]) == (200, "high")
    assert _note(http, loose["id"], loose["number"], triage).status == 201
    assert _reply(http, loose["id"], loose["number"], triage).status == 201
