"""Departments through the HTTP API: the resource, the ids and emails it refuses, archiving, and
members in any case. Who manages them, counts and announcements are held in
`tests/unit/test_tickets_logic.py`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Answer, HttpClient

pytestmark = pytest.mark.service

Who = tuple[str, str]
ADMIN: Who = ("admin@example.com", "admin")
ALICE: Who = ("alice@example.com", "agent")
BOB: Who = ("bob@example.com", "agent")

NEW_TICKET = {
    "subject": "Invoice twice",
    "body": "I was charged twice in March.",
    "priority": "high",
    "requester": {"email": "client@example.org", "name": "Client"},
}
ZERO = {"open": 0, "in_progress": 0, "waiting_on_client": 0, "resolved": 0, "closed": 0}


def _problem(answer: Answer, status: int, slug: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith(f"/{slug}")


def _fields(answer: Answer) -> list[str]:
    return [error["field"] for error in answer.body["errors"]]


def _create(http: HttpClient, name: str, *members: str, **extra: Any) -> dict[str, Any]:
    created = http.call("POST", "/departments", {"name": name, **extra})
    assert created.status == 201, created.body
    for email in members:
        added = http.call("POST", f"/departments/{created.body['id']}/members", {"email": email})
        assert added.status == 200, added.body
    return dict(http.call("GET", f"/departments/{created.body['id']}").body)


def _ticket(http: HttpClient, department_id: str, as_: Who = ADMIN) -> Any:
    answer = http.call("POST", "/tickets", {**NEW_TICKET, "department_id": department_id}, as_=as_)
    assert answer.status == 201, answer.body
    return answer.body


def _counts(http: HttpClient, department_id: str, as_: Who = ADMIN) -> dict[str, int]:
    answer = http.call("GET", f"/departments/{department_id}/counts", as_=as_)
    assert answer.status == 200, answer.body
    assert answer.body["department_id"] == department_id
    return {status: answer.body[status] for status in ZERO}


# --- create, list, get ---------------------------------------------------------------------------


def test_an_admin_creates_a_department_whose_id_is_a_slug_of_its_name(http: HttpClient) -> None:
    # When the admin creates "Technical Support"
    created = http.call("POST", "/departments", {"name": "Technical Support"})
    # Then it is created, empty, with an id made from the name
    assert created.status == 201, created.body
    assert created.body == {
        "id": "technical-support",
        "name": "Technical Support",
        "members": [],
        "archived": False,
        "assignment": "manual",
        "open_limit": None,
    }
    # And it is found under that id
    found = http.call("GET", "/departments/technical-support")
    assert (found.status, found.body) == (200, created.body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "!!!"}, "id"),  # nothing to make an id of
        ({"name": "None"}, "id"),  # the word the filters use for "no department"
        ({"name": "Billing", "id": "Bill Ing"}, "id"),
        ({"name": ""}, "name"),
        ({}, "name"),
    ],
)
def test_a_department_without_a_usable_id_or_name_is_refused(
    http: HttpClient, body: dict[str, str], field: str
) -> None:
    answer = http.call("POST", "/departments", body)
    _problem(answer, 422, "validation")
    assert _fields(answer) == [field]
    assert http.call("GET", "/departments").body["items"] == []


def test_everyone_signed_in_lists_and_reads_departments(http: HttpClient) -> None:
    # Given two departments
    billing = _create(http, "Billing", ALICE[0])
    technical = _create(http, "Technical", BOB[0])
    # When an admin and agents (of either department) list them
    for who in (ADMIN, ALICE, BOB):
        listed = http.call("GET", "/departments", as_=who)
        # Then each sees both, with their members
        assert listed.status == 200
        assert sorted(listed.body["items"], key=lambda d: d["id"]) == [billing, technical]
        assert http.call("GET", "/departments/technical", as_=who).body == technical
    # But nobody without a token
    assert http.call("GET", "/departments", as_=None).status == 401
    assert http.call("GET", "/departments/billing", as_=None).status == 401


def test_an_unknown_department_is_a_problem_404(http: HttpClient) -> None:
    answer = http.call("GET", "/departments/nowhere")
    _problem(answer, 404, "not-found")
    assert answer.body["instance"] == "/departments/nowhere"


# --- rename and archive --------------------------------------------------------------------------


def test_an_archived_department_refuses_new_tickets(http: HttpClient) -> None:
    # Given Billing, with Alice and one ticket
    _create(http, "Billing", ALICE[0])
    existing = _ticket(http, "billing", ALICE)
    # When the admin archives it
    archived = http.call("PATCH", "/departments/billing", {"archived": True})
    assert (archived.status, archived.body["archived"]) == (200, True)
    assert http.call("GET", "/departments").body["items"][0]["archived"] is True
    # Then new tickets there are refused naming the department, for agents and admins
    for who in (ALICE, ADMIN):
        refused = http.call("POST", "/tickets", {**NEW_TICKET, "department_id": "billing"}, as_=who)
        _problem(refused, 422, "validation")
        assert _fields(refused) == ["department_id"]
    # And the tickets it has are still there for its members
    assert http.call("GET", f"/tickets/{existing['id']}", as_=ALICE).status == 200
    assert _counts(http, "billing")["open"] == 1
    # When it is restored, it takes tickets again
    restored = http.call("PATCH", "/departments/billing", {"archived": False})
    assert (restored.status, restored.body["archived"]) == (200, False)
    assert _ticket(http, "billing", ALICE)["department_id"] == "billing"


# --- members -----------------------------------------------------------------------------------


def test_member_emails_are_case_insensitive(http: HttpClient) -> None:
    # Given Billing
    _create(http, "Billing")
    # When Alice is added with capitals, then again in lower case
    first = http.call("POST", "/departments/billing/members", {"email": "Alice@Example.COM"})
    again = http.call("POST", "/departments/billing/members", {"email": "alice@example.com"})
    # Then she is one member, in lower case
    assert first.body["members"] == again.body["members"] == [ALICE[0]]
    # And her token, whatever its case, makes her a member
    ticket = _ticket(http, "billing", ("ALICE@example.com", "agent"))
    assert http.call("GET", f"/tickets/{ticket['id']}", as_=ALICE).status == 200
    # When she is removed under yet another spelling (with the @ percent-encoded)
    removed = http.call("DELETE", "/departments/billing/members/aLiCe%40example.com")
    # Then she is gone, and with her the access
    assert (removed.status, removed.body["members"]) == (200, [])
    assert http.call("GET", f"/tickets/{ticket['id']}", as_=ALICE).status == 404


def test_a_member_needs_a_valid_email(http: HttpClient) -> None:
    _create(http, "Billing")
    answer = http.call("POST", "/departments/billing/members", {"email": "not-an-address"})
    _problem(answer, 422, "validation")
    assert _fields(answer) == ["email"]
    assert http.call("GET", "/departments/billing").body["members"] == []
