"""Who sees and changes which ticket: admins everything, an agent the tickets of their departments,
and to anyone else a hidden ticket answers exactly like one that does not exist."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shared.aws import reset_process_state
from tests.conftest import Answer, Delivery, HttpClient

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


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", [ADMIN, MEMBER], ids=["admin", "member"])
def test_admins_and_members_read_and_work_the_ticket(
    http: HttpClient, action: str, who: Who
) -> None:
    # Given a Billing ticket
    desk = _desk(http)
    do, expected = ACTIONS[action]
    # When an admin or a Billing agent acts on it
    answer = do(http, desk.billing["id"], desk.billing["number"], who)
    # Then it works, on that very ticket
    assert answer.status == expected, answer.body
    body = answer.body
    ticket = body.get("ticket", body) if isinstance(body, dict) else None
    if action.startswith("history"):
        assert [entry["field"] for entry in body["items"]][:1] == ["created"]
    else:
        assert ticket is not None
        assert ticket["id"] == desk.billing["id"]


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", [OUTSIDER, NOBODY], ids=["other-department", "no-department"])
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


# --- refusals that would otherwise have been something else -------------------------------------


def _closed(http: HttpClient, ticket: dict[str, Any]) -> dict[str, Any]:
    answer = http.call("PATCH", f"/tickets/{ticket['id']}", {"status": "closed"})
    assert answer.status == 200, answer.body
    return dict(answer.body)


def test_a_stale_if_match_or_version_from_a_non_member_is_still_not_found(
    http: HttpClient,
) -> None:
    # Given a Billing ticket at version 1
    desk = _desk(http)
    path = f"/tickets/{desk.billing['id']}"
    stale = {"If-Match": '"7"'}
    # When the member sends stale versions, they hear it is stale
    assert http.call("PATCH", path, {"priority": "low"}, as_=MEMBER, headers=stale).status == 412
    assert http.call("PATCH", path, {"priority": "low", "version": 7}, as_=MEMBER).status == 409
    # But an outsider sending the same hears only "not found", as for a missing ticket
    missing = http.call("PATCH", f"/tickets/{UNKNOWN_ID}", {"priority": "low"}, as_=OUTSIDER)
    for who in (OUTSIDER, NOBODY):
        by_header = http.call("PATCH", path, {"priority": "low"}, as_=who, headers=stale)
        by_body = http.call("PATCH", path, {"priority": "low", "version": 7}, as_=who)
        assert _signature(by_header) == _signature(by_body) == _signature(missing)
        assert by_header.status == 404
    _unchanged(http, desk.billing)


def test_a_closed_ticket_is_not_found_for_a_non_member_rather_than_final(
    http: HttpClient,
) -> None:
    # Given a closed Billing ticket
    desk = _desk(http)
    closed = _closed(http, desk.billing)
    path = f"/tickets/{closed['id']}"
    reopen = {"status": "open"}
    reply = {"body": "Anything new?"}
    note_reopening = {"body": "Reopen?", "visibility": "internal", "status": "open"}
    # When the member replies or reopens, they hear the ticket is final
    assert http.call("PATCH", path, reopen, as_=MEMBER).status == 409
    assert http.call("POST", f"{path}/messages", reply, as_=MEMBER).status == 409
    assert http.call("POST", f"{path}/messages", note_reopening, as_=MEMBER).status == 409
    # But an outsider doing the same hears "not found", as for a missing ticket
    missing = http.call("PATCH", f"/tickets/{UNKNOWN_ID}", reopen, as_=OUTSIDER)
    for who in (OUTSIDER, NOBODY):
        answers = [
            http.call("PATCH", path, reopen, as_=who),
            http.call("POST", f"{path}/messages", reply, as_=who),
            http.call("POST", f"{path}/messages", note_reopening, as_=who),
        ]
        assert [_signature(a) for a in answers] == [_signature(missing)] * 3
        assert missing.status == 404
    _unchanged(http, closed)


def test_an_invalid_change_from_a_non_member_is_not_found_rather_than_invalid(
    http: HttpClient,
) -> None:
    # Given a Billing ticket
    desk = _desk(http)
    path = f"/tickets/{desk.billing['id']}"
    bad_changes = [
        {"assignee": OUTSIDER[0]},  # not a Billing member
        {"department_id": "nowhere"},
        {"department_id": "technical"},
    ]
    missing = http.call("PATCH", f"/tickets/{UNKNOWN_ID}", {"priority": "low"}, as_=OUTSIDER)
    # When an outsider sends changes that would be invalid anyway
    for change in bad_changes:
        answer = http.call("PATCH", path, change, as_=OUTSIDER)
        # Then they hear "not found", never what is wrong with the change
        assert _signature(answer) == _signature(missing), (change, answer.body)
        assert "errors" not in answer.body
    _unchanged(http, desk.billing)


@pytest.mark.parametrize(
    ("change", "headers"),
    [
        ({}, None),
        ({"priority": "urgent"}, None),  # what it is already
        ({"tags": ["refund"]}, None),
        ({}, {"If-Match": '"1"'}),  # the current version: "it exists"
    ],
    ids=["empty", "same-priority", "same-tags", "current-if-match"],
)
def test_a_change_that_changes_nothing_tells_a_non_member_nothing(
    http: HttpClient, change: dict[str, Any], headers: dict[str, str] | None
) -> None:
    # Given a Billing ticket (urgent, tagged refund, version 1)
    desk = _desk(http)
    # When an outsider sends a change that would change nothing
    hidden = http.call(
        "PATCH", f"/tickets/{desk.billing['id']}", change, as_=OUTSIDER, headers=headers
    )
    missing = http.call("PATCH", f"/tickets/{UNKNOWN_ID}", change, as_=OUTSIDER, headers=headers)
    # Then the answer is "not found", not the ticket
    assert _signature(hidden) == _signature(missing)
    assert hidden.status == 404, hidden.body
    assert desk.billing["subject"] not in json.dumps(hidden.body)


# --- lists, filters and counts -------------------------------------------------------------------

FILTERS = [
    "",
    "?status=open",
    "?status=open&status=in_progress&status=waiting_on_client",
    "?department_id=billing",
    "?department_id=none",
    "?priority=urgent",
    "?tag=refund",
    "?assignee=alice@example.com",
    "?assignee=none",
    "?sort=created",
    "?limit=1",
]


def test_a_non_member_never_finds_the_ticket_in_a_list(http: HttpClient) -> None:
    # Given a Billing ticket assigned to Alice, a second unassigned one, and Bob's own ticket
    desk = _desk(http)
    assigned = http.call("PATCH", f"/tickets/{desk.billing['id']}", {"assignee": MEMBER[0]})
    assert assigned.status == 200, assigned.body
    unassigned = _ticket(http, "billing", MEMBER, subject="Second invoice")
    billing = {desk.billing["id"], unassigned["id"]}
    # When Bob lists with and without filters, page after page
    for query in FILTERS:
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            suffix = f"{'&' if '?' in query else '?'}cursor={cursor}" if cursor else ""
            answer = http.call("GET", f"/tickets{query}{suffix}", as_=OUTSIDER)
            seen += _ids(answer)
            cursor = answer.body["next_cursor"]
            if cursor is None:
                break
        # Then no Billing ticket is ever among them
        assert not billing & set(seen), query
    # While his own ticket is listed, so the lists do work for him
    assert desk.technical["id"] in _ids(http.call("GET", "/tickets", as_=OUTSIDER))
    assert desk.technical["id"] in _ids(http.call("GET", "/tickets?assignee=none", as_=OUTSIDER))


@pytest.mark.parametrize("query", FILTERS)
def test_members_and_admins_find_the_ticket_with_each_filter(http: HttpClient, query: str) -> None:
    # Given a Billing ticket assigned to Alice
    desk = _desk(http)
    assigned = http.call("PATCH", f"/tickets/{desk.billing['id']}", {"assignee": MEMBER[0]})
    assert assigned.status == 200, assigned.body
    unassigned = _ticket(http, "billing", MEMBER, subject="Unassigned")
    # When Alice and the admin list with a filter that matches one of them
    if query == "?assignee=none":
        expected = unassigned["id"]
    elif query == "?department_id=none":
        expected = None
    elif query == "?limit=1":
        expected = unassigned["id"]  # the most recently updated
    else:
        expected = desk.billing["id"]
    for who in (MEMBER, ADMIN):
        ids = _ids(http.call("GET", f"/tickets{query}", as_=who))
        # Then it is there (and Bob's Technical ticket only for the admin)
        if expected is None:
            assert ids == [], (who, query)
            continue
        assert expected in ids, (who, query)
        if who == MEMBER:
            assert desk.technical["id"] not in ids


def test_the_assignee_filter_shows_an_agents_tickets_only_where_the_caller_may_look(
    http: HttpClient,
) -> None:
    # Given Bob assigned a Technical ticket and Alice a Billing one
    desk = _desk(http)
    for ticket, who in ((desk.billing, MEMBER), (desk.technical, OUTSIDER)):
        answer = http.call("PATCH", f"/tickets/{ticket['id']}", {"assignee": who[0]})
        assert answer.status == 200, answer.body
    # When each lists "mine" and the other's
    # Then each sees their own, and nothing of the other's department
    assert _ids(http.call("GET", "/tickets?assignee=me", as_=MEMBER)) == [desk.billing["id"]]
    assert _ids(http.call("GET", "/tickets?assignee=me", as_=OUTSIDER)) == [desk.technical["id"]]
    assert _ids(http.call("GET", f"/tickets?assignee={OUTSIDER[0]}", as_=MEMBER)) == []
    assert _ids(http.call("GET", f"/tickets?assignee={MEMBER[0]}", as_=OUTSIDER)) == []
    # And the admin sees both
    assert _ids(http.call("GET", f"/tickets?assignee={MEMBER[0]}")) == [desk.billing["id"]]


def test_a_contact_filter_shows_only_the_callers_departments(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given a client with tickets in Billing and Technical, linked to their contact
    desk = _desk(http)
    same_client = _ticket(
        http, "technical", OUTSIDER, subject="Also VPN", requester=NEW_TICKET["requester"]
    )
    # (the contacts service links both to the one contact of their requester)
    delivery.run()
    contact_id = http.call("GET", f"/tickets/{desk.billing['id']}").body["contact_id"]
    assert contact_id is not None
    assert http.call("GET", f"/tickets/{same_client['id']}").body["contact_id"] == contact_id
    query = f"/tickets?contact_id={contact_id}&sort=created"
    # When each lists the contact's tickets
    # Then each sees only those of their departments, the admin all of them
    assert _ids(http.call("GET", query, as_=MEMBER)) == [desk.billing["id"]]
    assert _ids(http.call("GET", query, as_=OUTSIDER)) == [same_client["id"]]
    assert _ids(http.call("GET", query, as_=NOBODY)) == []
    assert set(_ids(http.call("GET", query))) == {desk.billing["id"], same_client["id"]}


def test_counts_are_for_members_and_admins_only(http: HttpClient) -> None:
    # Given one open Billing ticket and one open Technical ticket
    _desk(http)
    # When each asks for the Billing counts
    member = http.call("GET", "/departments/billing/counts", as_=MEMBER)
    admin = http.call("GET", "/departments/billing/counts")
    outsider = http.call("GET", "/departments/billing/counts", as_=OUTSIDER)
    nobody = http.call("GET", "/departments/billing/counts", as_=NOBODY)
    unknown = http.call("GET", "/departments/nowhere/counts", as_=OUTSIDER)
    # Then the member and the admin see one open ticket; the others hear "not found"
    assert (member.status, member.body["open"]) == (200, 1)
    assert admin.body == member.body
    assert outsider.status == nobody.status == 404
    assert _signature(outsider) == _signature(nobody) == _signature(unknown)
    # And Bob's own counts do not include the Billing ticket
    technical = http.call("GET", "/departments/technical/counts", as_=OUTSIDER)
    assert (technical.status, technical.body["open"]) == (200, 1)


def test_an_agent_without_departments_sees_nothing(http: HttpClient) -> None:
    # Given tickets in two departments, and Carol who belongs to none
    desk = _desk(http)
    # When Carol looks
    # Then every list is empty, and each ticket is not found
    for query in FILTERS:
        assert _ids(http.call("GET", f"/tickets{query}", as_=NOBODY)) == [], query
    for ticket in (desk.billing, desk.technical):
        assert http.call("GET", f"/tickets/{ticket['id']}", as_=NOBODY).status == 404
    # And she cannot open a ticket in a department she is not in
    refused = http.call("POST", "/tickets", {**NEW_TICKET, "department_id": "billing"}, as_=NOBODY)
    assert refused.status == 422
    assert [e["field"] for e in refused.body["errors"]] == ["department_id"]


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


def test_a_ticket_without_a_department_is_for_admins_only(http: HttpClient) -> None:
    # Given a ticket without a department, and no triage department configured
    _desk(http)
    loose = _ticket(http, None, subject="Where do I go?")
    assert loose["department_id"] is None
    # When agents look for it
    for who in (MEMBER, OUTSIDER, NOBODY):
        for action in (_read_by_id, _read_by_number, _messages, _history, _change, _reply, _note):
            answer = action(http, loose["id"], loose["number"], who)
            assert answer.status == 404, (who, action.__name__, answer.body)
        assert loose["id"] not in _ids(http.call("GET", "/tickets", as_=who))
        assert _ids(http.call("GET", "/tickets?department_id=none", as_=who)) == []
        assert http.call("GET", "/departments/none/counts", as_=who).status == 404
    # Then only the admin sees it, in lists and counts too
    assert http.call("GET", f"/tickets/{loose['number']}").status == 200
    assert _ids(http.call("GET", "/tickets?department_id=none")) == [loose["id"]]
    assert loose["id"] in _ids(http.call("GET", "/tickets"))
    assert http.call("GET", "/departments/none/counts").body["open"] == 1
    _unchanged(http, loose)


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


def test_with_a_triage_department_other_agents_still_do_not_see_loose_tickets(
    http: HttpClient, triage: Who
) -> None:
    # Given a ticket without a department, and a triage department Alice is not in
    _desk(http)
    loose = _ticket(http, None, subject="Where do I go?")
    # When Alice looks
    missing = _read_by_id(http, UNKNOWN_ID, UNKNOWN_NUMBER, MEMBER)
    for action in (_read_by_id, _read_by_number, _messages, _history, _change, _reply, _note):
        answer = action(http, loose["id"], loose["number"], MEMBER)
        # Then it is as if it did not exist
        assert _signature(answer) == _signature(missing), action.__name__
    assert loose["id"] not in _ids(http.call("GET", "/tickets", as_=MEMBER))
    assert _ids(http.call("GET", "/tickets?department_id=none", as_=MEMBER)) == []
    assert http.call("GET", "/departments/none/counts", as_=MEMBER).status == 404
    _unchanged(http, loose)


def test_the_triage_agent_routes_a_loose_ticket_only_to_their_departments(
    http: HttpClient, triage: Who
) -> None:
    # Given a ticket without a department
    _desk(http)
    loose = _ticket(http, None, subject="Where do I go?")
    path = f"/tickets/{loose['id']}"
    # When the triage agent moves it to Billing, which they are not in
    refused = http.call("PATCH", path, {"department_id": "billing"}, as_=triage)
    # Then it is refused naming the department
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.body["errors"]] == ["department_id"]
    _unchanged(http, loose)
    # When they move it into Triage, it is theirs to work and no longer loose
    moved = http.call("PATCH", path, {"department_id": "triage"}, as_=triage)
    assert (moved.status, moved.body["department_id"]) == (200, "triage")
    assert _ids(http.call("GET", "/tickets?department_id=none", as_=triage)) == []
    assert _ids(http.call("GET", "/tickets?department_id=triage", as_=triage)) == [loose["id"]]


# --- assignment and moves ----------------------------------------------------------------------


def test_only_a_member_of_the_tickets_department_can_be_assigned(http: HttpClient) -> None:
    # Given a Billing ticket
    desk = _desk(http)
    path = f"/tickets/{desk.billing['id']}"
    # When it is assigned to Bob, who is not in Billing
    for who in (ADMIN, MEMBER):
        refused = http.call("PATCH", path, {"assignee": OUTSIDER[0]}, as_=who)
        # Then it is refused naming the assignee, and nothing changed
        assert refused.status == 422, refused.body
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in refused.body["errors"]] == ["assignee"]
    _unchanged(http, desk.billing)
    # When it is assigned to Alice (in whatever case), it is hers
    assigned = http.call("PATCH", path, {"assignee": "Alice@Example.COM"}, as_=MEMBER)
    assert (assigned.status, assigned.body["assignee"]) == (200, MEMBER[0])
    # And null unassigns it
    unassigned = http.call("PATCH", path, {"assignee": None}, as_=MEMBER)
    assert (unassigned.status, unassigned.body["assignee"]) == (200, None)


def test_a_ticket_without_a_department_cannot_be_assigned(http: HttpClient) -> None:
    # Given a ticket without a department
    _desk(http)
    loose = _ticket(http, None)
    # When the admin assigns it
    refused = http.call("PATCH", f"/tickets/{loose['id']}", {"assignee": MEMBER[0]})
    # Then it is refused naming the assignee
    assert refused.status == 422
    assert [e["field"] for e in refused.body["errors"]] == ["assignee"]
    _unchanged(http, loose)


def _assigned_billing_ticket(http: HttpClient) -> dict[str, Any]:
    desk = _desk(http)
    answer = http.call("PATCH", f"/tickets/{desk.billing['id']}", {"assignee": MEMBER[0]})
    assert answer.status == 200, answer.body
    return dict(answer.body)


def _history_fields(http: HttpClient, ticket_id: str) -> list[dict[str, Any]]:
    answer = http.call("GET", f"/tickets/{ticket_id}/history")
    assert answer.status == 200
    return list(answer.body["items"])


def test_a_move_keeps_the_assignee_who_is_a_member_of_the_new_department(
    http: HttpClient,
) -> None:
    # Given a Billing ticket assigned to Alice, who is in Technical too
    ticket = _assigned_billing_ticket(http)
    assert http.call("POST", "/departments/technical/members", {"email": MEMBER[0]}).status == 200
    # When the admin moves it to Technical
    moved = http.call("PATCH", f"/tickets/{ticket['id']}", {"department_id": "technical"})
    # Then it is still Alice's
    assert moved.status == 200, moved.body
    assert (moved.body["department_id"], moved.body["assignee"]) == ("technical", MEMBER[0])
    # And history records the move, not an unassignment
    entries = _history_fields(http, ticket["id"])
    moves = [(e["old"], e["new"]) for e in entries if e["field"] == "department_id"]
    assert moves == [("billing", "technical")]
    assert [e["new"] for e in entries if e["field"] == "assignee"] == [MEMBER[0]]


def test_a_move_drops_the_assignee_who_is_not_a_member_there(http: HttpClient) -> None:
    # Given a Billing ticket assigned to Alice, who is not in Technical
    ticket = _assigned_billing_ticket(http)
    # When the admin moves it to Technical
    moved = http.call("PATCH", f"/tickets/{ticket['id']}", {"department_id": "technical"})
    # Then it is nobody's now
    assert moved.status == 200, moved.body
    assert (moved.body["department_id"], moved.body["assignee"]) == ("technical", None)
    # And history says who dropped Alice
    dropped = [e for e in _history_fields(http, ticket["id"]) if e["field"] == "assignee"][-1]
    assert (dropped["old"], dropped["new"], dropped["actor"]) == (MEMBER[0], None, ADMIN[0])
    # And Alice no longer sees it, while Bob does
    assert http.call("GET", f"/tickets/{ticket['id']}", as_=MEMBER).status == 404
    assert http.call("GET", f"/tickets/{ticket['id']}", as_=OUTSIDER).status == 200
    assert _ids(http.call("GET", "/tickets?assignee=none", as_=OUTSIDER)).count(ticket["id"]) == 1


def test_a_move_with_a_new_assignee_checks_them_against_the_new_department(
    http: HttpClient,
) -> None:
    # Given a Billing ticket assigned to Alice
    ticket = _assigned_billing_ticket(http)
    path = f"/tickets/{ticket['id']}"
    # When the admin moves it to Technical and keeps Alice, who is not there
    refused = http.call("PATCH", path, {"department_id": "technical", "assignee": MEMBER[0]})
    # Then it is refused naming the assignee
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.body["errors"]] == ["assignee"]
    _unchanged(http, ticket)
    # When it is moved and given to Bob, who is there, it is his
    moved = http.call("PATCH", path, {"department_id": "technical", "assignee": OUTSIDER[0]})
    assert (moved.status, moved.body["assignee"]) == (200, OUTSIDER[0])


def test_an_agent_moves_a_ticket_only_into_a_department_they_belong_to(
    http: HttpClient,
) -> None:
    # Given a Billing ticket, and Alice who is in Billing only
    desk = _desk(http)
    path = f"/tickets/{desk.billing['id']}"
    # When Alice moves it to Technical
    refused = http.call("PATCH", path, {"department_id": "technical"}, as_=MEMBER)
    # Then it is refused naming the department, and it stays in Billing
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.body["errors"]] == ["department_id"]
    _unchanged(http, desk.billing)
    # When she joins Technical, the same move works
    assert http.call("POST", "/departments/technical/members", {"email": MEMBER[0]}).status == 200
    moved = http.call("PATCH", path, {"department_id": "technical"}, as_=MEMBER)
    assert (moved.status, moved.body["department_id"]) == (200, "technical")


def test_an_agent_cannot_leave_a_ticket_without_a_department(http: HttpClient) -> None:
    # Given a Billing ticket
    desk = _desk(http)
    # When Alice takes its department away
    refused = http.call(
        "PATCH", f"/tickets/{desk.billing['id']}", {"department_id": None}, as_=MEMBER
    )
    # Then it is refused naming the department
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.body["errors"]] == ["department_id"]
    _unchanged(http, desk.billing)


@pytest.mark.parametrize("who", [ADMIN, MEMBER], ids=["admin", "member"])
@pytest.mark.parametrize("destination", ["archived", "nowhere"])
def test_a_ticket_cannot_move_to_an_archived_or_unknown_department(
    http: HttpClient, who: Who, destination: str
) -> None:
    # Given a Billing ticket assigned to Alice, and an archived department she belongs to
    ticket = _assigned_billing_ticket(http)
    _department(http, "Archived", MEMBER[0])
    assert http.call("PATCH", "/departments/archived", {"archived": True}).status == 200
    # When it is moved to the archived department, or to one that does not exist
    refused = http.call(
        "PATCH", f"/tickets/{ticket['id']}", {"department_id": destination}, as_=who
    )
    # Then it is refused naming the department, and nothing changed (not even the assignee)
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.body["errors"]] == ["department_id"]
    _unchanged(http, ticket)


# --- membership changes take effect at once ------------------------------------------------------


def test_removing_an_agent_from_a_department_takes_their_access_away_at_once(
    http: HttpClient,
) -> None:
    # Given Alice works a Billing ticket assigned to her
    ticket = _assigned_billing_ticket(http)
    path = f"/tickets/{ticket['id']}"
    assert http.call("GET", path, as_=MEMBER).status == 200
    assert _ids(http.call("GET", "/tickets?assignee=me", as_=MEMBER)) == [ticket["id"]]
    # When the admin removes her from Billing
    removed = http.call("DELETE", f"/departments/billing/members/{MEMBER[0]}")
    assert removed.status == 200, removed.body
    # Then, with no delay, the ticket is hidden from her: read, lists, counts and writes
    missing = _read_by_id(http, UNKNOWN_ID, UNKNOWN_NUMBER, MEMBER)
    for action in (_read_by_id, _read_by_number, _messages, _history, _change, _reply, _note):
        answer = action(http, ticket["id"], ticket["number"], MEMBER)
        assert _signature(answer) == _signature(missing), action.__name__
    assert _ids(http.call("GET", "/tickets", as_=MEMBER)) == []
    assert _ids(http.call("GET", "/tickets?assignee=me", as_=MEMBER)) == []
    assert http.call("GET", "/departments/billing/counts", as_=MEMBER).status == 404
    _unchanged(http, ticket)
    # And adding her back gives it back
    assert http.call("POST", "/departments/billing/members", {"email": MEMBER[0]}).status == 200
    assert http.call("GET", path, as_=MEMBER).status == 200


def test_a_removed_agent_can_no_longer_open_tickets_in_the_department(http: HttpClient) -> None:
    # Given Alice was in Billing
    _desk(http)
    assert http.call("DELETE", f"/departments/billing/members/{MEMBER[0]}").status == 200
    # When she opens a Billing ticket
    refused = http.call("POST", "/tickets", {**NEW_TICKET, "department_id": "billing"}, as_=MEMBER)
    # Then it is refused naming the department, and no ticket was opened
    assert refused.status == 422
    assert [e["field"] for e in refused.body["errors"]] == ["department_id"]
    assert http.call("GET", "/tickets/TKT-0003").status == 404
