"""Assignment by turns through the HTTP API: admins opt a department in (agents may not; bad values
are refused naming the field), each agent says whether they are available (only for themself) and
the agents' list shows it; tickets opened at once by many writers go to the members strictly in
turn, never past the open limit, which counts tickets assigned by hand before turns were turned
on; no count goes below zero. Turn order, skipping and history are held on the fakes in
`tests/unit/test_tickets_turns_logic.py`."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local_stack.user_pool import LocalUserPool, set_up_user_pool
from services.tickets.data.dynamodb import LOAD_SK, load_key
from services.tickets.data.tables import AgentLoadItem
from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.open_ticket import OpenTicket, open_ticket
from services.tickets.logic.ticket import Author, Ticket
from shared.events.catalogue import Person
from shared.identity import Caller
from shared.settings import get_settings
from tests.conftest import HttpClient

pytestmark = pytest.mark.service

Who = tuple[str, str]
ADMIN: Who = ("admin@example.com", "admin")
ALICE: Who = ("alice@example.com", "agent")
MEMBERS: list[Who] = [(f"agent{n}@example.com", "agent") for n in range(5)]
THREADS = 50


@pytest.fixture
def pool(http: HttpClient, monkeypatch: pytest.MonkeyPatch) -> LocalUserPool:
    """The user pool as the local stack makes it, with the default admin; the settings name it."""
    for name in ("HELPDESK_USER_POOL_ID", "HELPDESK_USER_POOL_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)  # so they are unset again after the test
    return set_up_user_pool(get_settings())


def _department(http: HttpClient, *members: Who, **assignment: Any) -> None:
    http.expect(201, "POST", "/departments", {"name": "Billing"})
    for email, _ in members:
        http.expect(200, "POST", "/departments/billing/members", {"email": email})
    if assignment:
        http.expect(200, "PATCH", "/departments/billing", assignment)


def _available(http: HttpClient, *agents: Who) -> None:
    for agent in agents:
        http.expect(200, "PUT", "/agents/me/availability", {"available": True}, as_=agent)


def _open_at_once(count: int) -> list[Ticket]:
    """`count` tickets in Billing, each opened by its own thread, all starting together."""
    start = threading.Barrier(count)
    admin = Caller(*ADMIN)

    def opened(number: int) -> Ticket:
        start.wait()
        command = OpenTicket(
            subject=f"Parallel {number}",
            body="Opened alongside many others.",
            requester=Person(email=f"client{number}@example.org"),
            author=Author(type="agent", email=admin.email),
            department_id="billing",
        )
        return open_ticket(command, admin, dependencies())

    with ThreadPoolExecutor(max_workers=count) as threads:
        return list(threads.map(opened, range(count)))


def test_an_admin_opts_a_department_in_and_back_out(http: HttpClient) -> None:
    _department(http)

    chosen = http.expect(
        200, "PATCH", "/departments/billing", {"assignment": "round_robin", "open_limit": 5}
    )

    assert (chosen["assignment"], chosen["open_limit"]) == ("round_robin", 5)
    assert http.expect(200, "GET", "/departments/billing") == chosen
    renamed = http.expect(200, "PATCH", "/departments/billing", {"name": "Billing team"})
    assert (renamed["assignment"], renamed["open_limit"]) == ("round_robin", 5)
    manual = http.expect(
        200, "PATCH", "/departments/billing", {"assignment": "manual", "open_limit": None}
    )
    assert (manual["assignment"], manual["open_limit"]) == ("manual", None)


def test_an_agent_may_not_opt_a_department_in(http: HttpClient) -> None:
    _department(http, ALICE)

    answer = http.call("PATCH", "/departments/billing", {"assignment": "round_robin"}, as_=ALICE)

    assert answer.status == 403, answer.body
    assert http.expect(200, "GET", "/departments/billing")["assignment"] == "manual"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"assignment": "fifo"}, "assignment"),
        ({"assignment": None, "open_limit": 0}, "open_limit"),
        ({"open_limit": -3}, "open_limit"),
        ({"open_limit": "ten"}, "open_limit"),
        ({"open_limit": 2.5}, "open_limit"),
    ],
)
def test_bad_assignment_values_are_refused_naming_the_field(
    http: HttpClient, change: dict[str, Any], field: str
) -> None:
    _department(http)

    answer = http.call("PATCH", "/departments/billing", change)

    assert answer.status == 422, answer.body
    assert [error["field"] for error in answer.body["errors"]] == [field]
    assert http.expect(200, "GET", "/departments/billing")["open_limit"] is None


def test_each_agent_sets_their_own_availability_and_the_list_shows_it(
    http: HttpClient, pool: LocalUserPool
) -> None:
    http.expect(201, "POST", "/agents", {"email": ALICE[0]})

    mine = http.expect(200, "PUT", "/agents/me/availability", {"available": True}, as_=ALICE)

    assert mine == {"email": ALICE[0], "available": True, "open_tickets": 0}
    listed = {agent["email"]: agent for agent in http.expect(200, "GET", "/agents")["items"]}
    assert (listed[ALICE[0]]["available"], listed[ADMIN[0]]["available"]) == (True, False)
    for refused in ({}, {"available": "yes"}, {"available": True, "email": ADMIN[0]}):
        answer = http.call("PUT", "/agents/me/availability", refused, as_=ALICE)
        assert answer.status == 422, answer.body
    assert http.call("PUT", "/agents/me/availability", {"available": True}, as_=None).status == 401


def test_a_ticket_opened_through_the_api_is_assigned_in_turn(http: HttpClient) -> None:
    _department(http, ALICE, assignment="round_robin")
    _available(http, ALICE)

    opened = _open_in_billing(http)

    assert opened["assignee"] == ALICE[0]
    changes = http.expect(200, "GET", f"/tickets/{opened['id']}/history")["items"]
    assert [(c["field"], c["actor"]) for c in changes] == [
        ("created", ADMIN[0]),
        ("assignee", "system"),
    ]


def test_50_tickets_opened_at_once_go_to_5_available_members_10_each(http: HttpClient) -> None:
    _department(http, *MEMBERS, assignment="round_robin")
    _available(http, *MEMBERS)

    opened = _open_at_once(THREADS)

    assert Counter(ticket.assignee for ticket in opened) == {email: 10 for email, _ in MEMBERS}
    stored = Counter(dependencies().repository.get(t.id).assignee for t in opened)  # type: ignore[union-attr]
    assert stored == {email: 10 for email, _ in MEMBERS}
    loads = dependencies().repository.loads([email for email, _ in MEMBERS])
    assert {load.open_tickets for load in loads.values()} == {10}


def test_tickets_opened_at_once_never_take_a_member_past_the_open_limit(http: HttpClient) -> None:
    _department(http, *MEMBERS, assignment="round_robin", open_limit=3)
    _available(http, *MEMBERS[:4])  # the fifth is away

    opened = _open_at_once(20)

    given = Counter(ticket.assignee for ticket in opened)
    assert given == {**{email: 3 for email, _ in MEMBERS[:4]}, None: 8}


def _open_in_billing(http: HttpClient) -> dict[str, Any]:
    return http.expect(
        201,
        "POST",
        "/tickets",
        {
            "subject": "Invoice twice",
            "body": "I was charged twice.",
            "department_id": "billing",
            "requester": {"email": "client@example.org"},
        },
    )


BOB: Who = ("bob@example.com", "agent")  # after Alice in the order of turns


def _assigned_by_hand(http: HttpClient, assignee: Who, status: str = "open") -> str:
    """A ticket in Billing given to `assignee` by hand, left in `status`."""
    opened = _open_in_billing(http)
    http.expect(
        200, "PATCH", f"/tickets/{opened['id']}", {"assignee": assignee[0], "status": status}
    )
    return str(opened["id"])


def _as_before_counts_were_kept(*agents: Who) -> None:
    """The agents' counts of open tickets as a desk that assigned before turns existed has them:
    none at all."""
    dependencies()  # binds the table
    for email, _ in agents:
        AgentLoadItem(load_key(email), LOAD_SK).update(
            actions=[AgentLoadItem.open_tickets.remove()]
        )


def _open_tickets(agent: Who) -> int:
    return dependencies().repository.loads([agent[0]])[agent[0]].open_tickets


def test_tickets_assigned_by_hand_before_turns_count_toward_the_limit(http: HttpClient) -> None:
    _department(http, ALICE, BOB)
    _available(http, ALICE, BOB)
    _assigned_by_hand(http, ALICE)
    _assigned_by_hand(http, ALICE, "waiting_on_client")
    _assigned_by_hand(http, ALICE, "resolved")  # no longer open: never counted
    _as_before_counts_were_kept(ALICE, BOB)
    assert _open_tickets(ALICE) == 0

    http.expect(
        200, "PATCH", "/departments/billing", {"assignment": "round_robin", "open_limit": 2}
    )

    assert (_open_tickets(ALICE), _open_tickets(BOB)) == (2, 0)
    (ticket,) = _open_at_once(1)
    assert ticket.assignee == BOB[0]  # Alice's turn came first, but she is at the limit


def test_resolving_a_ticket_assigned_before_counts_were_kept_never_goes_below_zero(
    http: HttpClient,
) -> None:
    _department(http, ALICE)
    first, second = _assigned_by_hand(http, ALICE), _assigned_by_hand(http, ALICE)
    _as_before_counts_were_kept(ALICE)

    http.expect(200, "PATCH", f"/tickets/{first}", {"status": "resolved"})
    http.expect(200, "PATCH", f"/tickets/{second}", {"assignee": None})

    assert _open_tickets(ALICE) == 0
    http.expect(200, "PATCH", f"/tickets/{first}", {"status": "open"})  # counts from here on
    assert _open_tickets(ALICE) == 1


def test_a_member_added_to_a_department_that_assigns_by_turns_is_recounted(
    http: HttpClient,
) -> None:
    _department(http, BOB, assignment="round_robin", open_limit=2)
    _available(http, ALICE, BOB)
    http.expect(201, "POST", "/departments", {"name": "Sales"})
    http.expect(200, "POST", "/departments/sales/members", {"email": ALICE[0]})
    for _ in range(2):
        opened = http.expect(
            201,
            "POST",
            "/tickets",
            {
                "subject": "Quote",
                "body": "A quote, please.",
                "department_id": "sales",
                "requester": {"email": "client@example.org"},
            },
        )
        http.expect(200, "PATCH", f"/tickets/{opened['id']}", {"assignee": ALICE[0]})
    _as_before_counts_were_kept(ALICE)

    http.expect(200, "POST", "/departments/billing/members", {"email": ALICE[0]})

    assert _open_tickets(ALICE) == 2
    given = Counter(ticket.assignee for ticket in _open_at_once(2))
    assert given == {BOB[0]: 2}  # Alice is at the limit with the Sales tickets she had
