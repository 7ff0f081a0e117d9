"""Departments through the HTTP API: admins create, rename, archive and manage members; counts per
status follow the tickets; every membership change is announced on the bus."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from shared.settings import get_settings
from tests.conftest import Answer, Delivery, HttpClient

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
    }
    # And it is found under that id
    found = http.call("GET", "/departments/technical-support")
    assert (found.status, found.body) == (200, created.body)


def test_an_admin_may_choose_the_id(http: HttpClient) -> None:
    # When the admin creates a department with an explicit id
    created = http.call("POST", "/departments", {"name": "Billing & Invoices", "id": "money"})
    # Then that id is used, and not the slug of the name
    assert (created.status, created.body["id"]) == (201, "money")
    assert http.call("GET", "/departments/money").body["name"] == "Billing & Invoices"
    _problem(http.call("GET", "/departments/billing-invoices"), 404, "not-found")


@pytest.mark.parametrize(
    "second",
    [{"name": "Billing"}, {"name": "BILLING!"}, {"name": "Accounts", "id": "billing"}],
    ids=["same-name", "same-slug", "same-explicit-id"],
)
def test_a_second_department_with_the_same_id_is_a_conflict(
    http: HttpClient, second: dict[str, str]
) -> None:
    # Given a Billing department with a member
    original = _create(http, "Billing", ALICE[0])
    # When another department would get the same id
    answer = http.call("POST", "/departments", second)
    # Then it is refused as a conflict, and the first one is untouched
    _problem(answer, 409, "conflict")
    assert http.call("GET", "/departments/billing").body == original
    assert len(http.call("GET", "/departments").body["items"]) == 1


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


def test_an_agent_cannot_create_a_department(http: HttpClient) -> None:
    # When an agent creates a department
    answer = http.call("POST", "/departments", {"name": "Shadow IT"}, as_=ALICE)
    # Then it is forbidden, and nothing was created
    _problem(answer, 403, "forbidden")
    _problem(http.call("GET", "/departments/shadow-it"), 404, "not-found")
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


def test_an_admin_renames_a_department_and_its_id_and_members_stay(http: HttpClient) -> None:
    # Given Billing with Alice
    _create(http, "Billing", ALICE[0])
    # When the admin renames it
    renamed = http.call("PATCH", "/departments/billing", {"name": "Accounts Receivable"})
    # Then the name changed, nothing else
    assert renamed.status == 200, renamed.body
    expected = {
        "id": "billing",
        "name": "Accounts Receivable",
        "members": [ALICE[0]],
        "archived": False,
    }
    assert renamed.body == expected
    assert http.call("GET", "/departments/billing").body == expected
    # And Alice still works there
    assert _ticket(http, "billing", ALICE)["department_id"] == "billing"


def test_agents_cannot_rename_or_archive_and_unknown_departments_are_404(
    http: HttpClient,
) -> None:
    # Given Billing with Alice
    original = _create(http, "Billing", ALICE[0])
    # When Alice (a member) renames or archives it
    _problem(
        http.call("PATCH", "/departments/billing", {"name": "Mine"}, as_=ALICE), 403, "forbidden"
    )
    _problem(
        http.call("PATCH", "/departments/billing", {"archived": True}, as_=ALICE), 403, "forbidden"
    )
    # Then it is as it was
    assert http.call("GET", "/departments/billing").body == original
    # And the admin changing a department that does not exist hears 404
    _problem(http.call("PATCH", "/departments/nowhere", {"name": "X"}), 404, "not-found")
    _problem(http.call("GET", "/departments/nowhere"), 404, "not-found")


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


def test_an_unknown_department_refuses_new_tickets(http: HttpClient) -> None:
    refused = http.call("POST", "/tickets", {**NEW_TICKET, "department_id": "nowhere"})
    _problem(refused, 422, "validation")
    assert _fields(refused) == ["department_id"]
    assert http.call("GET", "/tickets").body["items"] == []


# --- members -----------------------------------------------------------------------------------


def test_an_admin_adds_and_removes_members(http: HttpClient) -> None:
    # Given Billing
    _create(http, "Billing")
    # When the admin adds Bob and Alice
    http.call("POST", "/departments/billing/members", {"email": BOB[0]})
    added = http.call("POST", "/departments/billing/members", {"email": ALICE[0]})
    # Then both are members, listed in order
    assert added.status == 200, added.body
    assert added.body["members"] == [ALICE[0], BOB[0]]
    assert http.call("GET", "/departments/billing").body["members"] == [ALICE[0], BOB[0]]
    # When Bob is removed
    removed = http.call("DELETE", f"/departments/billing/members/{BOB[0]}")
    # Then only Alice is left
    assert (removed.status, removed.body["members"]) == (200, [ALICE[0]])
    assert http.call("GET", "/departments/billing").body["members"] == [ALICE[0]]


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


def test_removing_someone_who_is_not_a_member_is_404(http: HttpClient) -> None:
    # Given Billing with Alice
    original = _create(http, "Billing", ALICE[0])
    # When the admin removes Bob, who is not in it
    answer = http.call("DELETE", f"/departments/billing/members/{BOB[0]}")
    # Then it is not found, and Alice is still there
    _problem(answer, 404, "not-found")
    assert http.call("GET", "/departments/billing").body == original


def test_members_of_an_unknown_department_are_404(http: HttpClient) -> None:
    _problem(
        http.call("POST", "/departments/nowhere/members", {"email": ALICE[0]}), 404, "not-found"
    )
    _problem(http.call("DELETE", f"/departments/nowhere/members/{ALICE[0]}"), 404, "not-found")
    _problem(http.call("GET", "/departments/nowhere"), 404, "not-found")


def test_a_member_needs_a_valid_email(http: HttpClient) -> None:
    _create(http, "Billing")
    answer = http.call("POST", "/departments/billing/members", {"email": "not-an-address"})
    _problem(answer, 422, "validation")
    assert _fields(answer) == ["email"]
    assert http.call("GET", "/departments/billing").body["members"] == []


@pytest.mark.parametrize("who", [ALICE, BOB], ids=["member", "non-member"])
def test_agents_cannot_manage_members(http: HttpClient, who: Who) -> None:
    # Given Billing with Alice
    original = _create(http, "Billing", ALICE[0])
    # When an agent adds someone, or removes Alice
    add = http.call("POST", "/departments/billing/members", {"email": "eve@example.com"}, as_=who)
    remove = http.call("DELETE", f"/departments/billing/members/{ALICE[0]}", as_=who)
    # Then both are forbidden, and the members are as they were
    _problem(add, 403, "forbidden")
    _problem(remove, 403, "forbidden")
    assert http.call("GET", "/departments/billing").body == original


# --- counts ------------------------------------------------------------------------------------


def test_counts_follow_creates_status_changes_and_moves(http: HttpClient) -> None:
    # Given Billing (Alice) and Technical (Bob), nothing opened yet
    _create(http, "Billing", ALICE[0])
    _create(http, "Technical", BOB[0])
    assert _counts(http, "billing") == ZERO
    # When three Billing tickets are opened
    first, second, third = (_ticket(http, "billing", ALICE) for _ in range(3))
    # Then Billing counts three open
    assert _counts(http, "billing", ALICE) == {**ZERO, "open": 3}
    # When one is set in progress, one answered (waiting on the client), one resolved
    assert http.call("PATCH", f"/tickets/{first['id']}", {"status": "in_progress"}).status == 200
    reply = http.call("POST", f"/tickets/{second['id']}/messages", {"body": "Fixed?"}, as_=ALICE)
    assert (reply.status, reply.body["ticket"]["status"]) == (201, "waiting_on_client")
    assert http.call("PATCH", f"/tickets/{third['id']}", {"status": "resolved"}).status == 200
    # Then each status counts one
    assert _counts(http, "billing", ALICE) == {
        **ZERO,
        "in_progress": 1,
        "waiting_on_client": 1,
        "resolved": 1,
    }
    # When the one in progress moves to Technical, and the resolved one is closed
    moved = http.call("PATCH", f"/tickets/{first['id']}", {"department_id": "technical"})
    assert moved.status == 200, moved.body
    assert http.call("PATCH", f"/tickets/{third['id']}", {"status": "closed"}).status == 200
    # Then it counts in Technical, no longer in Billing
    assert _counts(http, "billing", ALICE) == {**ZERO, "waiting_on_client": 1, "closed": 1}
    assert _counts(http, "technical", BOB) == {**ZERO, "in_progress": 1}


def test_a_change_that_is_refused_does_not_move_the_counts(http: HttpClient) -> None:
    # Given one open Billing ticket
    _create(http, "Billing", ALICE[0])
    ticket = _ticket(http, "billing", ALICE)
    # When a stale change, and a move to an unknown department, are refused
    stale = http.call(
        "PATCH", f"/tickets/{ticket['id']}", {"status": "resolved"}, headers={"If-Match": '"9"'}
    )
    unknown = http.call("PATCH", f"/tickets/{ticket['id']}", {"department_id": "nowhere"})
    assert (stale.status, unknown.status) == (412, 422)
    # Then the counts are as before
    assert _counts(http, "billing") == {**ZERO, "open": 1}


def test_counts_are_404_for_agents_outside_the_department(http: HttpClient) -> None:
    # Given Billing (Alice) with a ticket, and Bob in Technical
    _create(http, "Billing", ALICE[0])
    _create(http, "Technical", BOB[0])
    _ticket(http, "billing", ALICE)
    # When Bob asks for the Billing counts
    answer = http.call("GET", "/departments/billing/counts", as_=BOB)
    # Then it is not found, as for a department that does not exist
    _problem(answer, 404, "not-found")
    unknown = http.call("GET", "/departments/nowhere/counts", as_=BOB)
    assert (unknown.status, unknown.body["type"], unknown.body["title"]) == (
        answer.status,
        answer.body["type"],
        answer.body["title"],
    )
    # While Alice and the admin see them
    assert _counts(http, "billing", ALICE)["open"] == _counts(http, "billing")["open"] == 1


# --- the DepartmentMembersChanged event --------------------------------------------------------


def _watch_the_bus() -> str:
    """A queue that receives every helpdesk event, as a subscriber would."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="test-watch-departments")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events")
    bus = get_settings().bus_name
    events.put_rule(
        Name="test-watch-departments",
        EventBusName=bus,
        EventPattern=json.dumps({"source": [{"prefix": "helpdesk."}]}),
    )
    events.put_targets(
        Rule="test-watch-departments", EventBusName=bus, Targets=[{"Id": "watch", "Arn": arn}]
    )
    return str(url)


def _received(url: str, detail_type: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            event = json.loads(message["Body"])
            if event["detail-type"] == detail_type:
                assert event["source"] == "helpdesk.tickets"
                found.append(event["detail"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _states(details: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...], bool]]:
    return sorted(
        (d["data"]["department_id"], tuple(d["data"]["members"]), d["data"]["archived"])
        for d in details
    )


def test_membership_changes_are_announced_with_the_whole_member_list(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given someone listening on the bus, and Billing
    watch = _watch_the_bus()
    _create(http, "Billing")
    delivery.run()
    assert _states(_received(watch, "DepartmentMembersChanged")) == [("billing", (), False)]
    # When members are added (one twice, in another case) and one removed
    for email in (BOB[0], ALICE[0], "BOB@example.com"):
        assert http.call("POST", "/departments/billing/members", {"email": email}).status == 200
    assert http.call("DELETE", f"/departments/billing/members/{BOB[0]}").status == 200
    delivery.run()
    # Then each real change was announced once, each with the members at that moment
    details = _received(watch, "DepartmentMembersChanged")
    assert _states(details) == sorted(
        [
            ("billing", (BOB[0],), False),
            ("billing", (ALICE[0], BOB[0]), False),
            ("billing", (ALICE[0],), False),
        ]
    )
    assert len({d["id"] for d in details}) == 3
    assert all(d["data"]["name"] == "Billing" for d in details)


def test_refused_membership_changes_announce_nothing(http: HttpClient, delivery: Delivery) -> None:
    # Given someone listening on the bus, and Billing with Alice
    watch = _watch_the_bus()
    _create(http, "Billing", ALICE[0])
    delivery.run()
    _received(watch, "DepartmentMembersChanged")
    # When an agent tries to add someone, and the admin removes a non-member
    http.call("POST", "/departments/billing/members", {"email": BOB[0]}, as_=ALICE)
    http.call("DELETE", f"/departments/billing/members/{BOB[0]}")
    delivery.run()
    # Then nothing was announced
    assert _received(watch, "DepartmentMembersChanged") == []


def test_archiving_is_announced_too(http: HttpClient, delivery: Delivery) -> None:
    # Given someone listening on the bus, and Billing with Alice
    watch = _watch_the_bus()
    _create(http, "Billing", ALICE[0])
    delivery.run()
    _received(watch, "DepartmentMembersChanged")
    # When it is archived
    assert http.call("PATCH", "/departments/billing", {"archived": True}).status == 200
    delivery.run()
    # Then subscribers learn it, with its members
    details = _received(watch, "DepartmentMembersChanged")
    assert _states(details) == [("billing", (ALICE[0],), True)]
