"""Assignment by turns on the in-memory storage: a department that opts in gives each new ticket
to the next available member in turn, skipping those away or at the open limit, and leaves it
unassigned when nobody can take it; the system's assignment is in history and announced; an agent
disabled by an admin is out of the turns."""

from __future__ import annotations

import pytest

from services.tickets.logic.agent_directory import Agent
from services.tickets.logic.agents import AgentChange, change_agent
from services.tickets.logic.assign_by_turns import REASON
from services.tickets.logic.availability import set_own_availability
from services.tickets.logic.departments import update_department
from services.tickets.logic.repository import AgentLoad
from services.tickets.logic.ticket import SYSTEM
from shared.errors import Forbidden
from shared.identity import Caller
from tests.tickets_desk import ADMIN, ALICE, BOB, CAROL, Desk, refusal

DAVE = Caller("dave@example.com", "agent")


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.department("Billing", ALICE, BOB, CAROL)
    update_department("billing", None, None, ADMIN, desk.deps, assignment="round_robin")
    return desk


def available(desk: Desk, *agents: Caller, now: bool = True) -> None:
    for agent in agents:
        set_own_availability(now, agent, desk.deps)


def assignees(desk: Desk, count: int, by_mail: bool = False) -> list[str | None]:
    opened = [desk.mail(department_id="billing") if by_mail else desk.open() for _ in range(count)]
    return [ticket.assignee for ticket in opened]


def test_new_tickets_go_to_the_available_members_in_turn(desk: Desk) -> None:
    available(desk, ALICE, BOB, CAROL)

    assert assignees(desk, 4) == [ALICE.email, BOB.email, CAROL.email, ALICE.email]
    assert assignees(desk, 2, by_mail=True) == [BOB.email, CAROL.email]


def test_members_away_are_skipped_and_the_turn_goes_on_after_the_last_one_given(
    desk: Desk,
) -> None:
    available(desk, ALICE, CAROL)
    assert assignees(desk, 3) == [ALICE.email, CAROL.email, ALICE.email]

    available(desk, BOB)
    assert assignees(desk, 2) == [BOB.email, CAROL.email]


def test_members_at_the_open_limit_are_skipped_until_a_ticket_of_theirs_is_resolved(
    desk: Desk,
) -> None:
    update_department("billing", None, None, ADMIN, desk.deps, open_limit=1)
    available(desk, ALICE, BOB)

    first, second, third = (desk.open() for _ in range(3))

    assert [first.assignee, second.assignee, third.assignee] == [ALICE.email, BOB.email, None]
    desk.change(second, status="resolved")
    assert desk.open().assignee == BOB.email
    assert desk.repository.loads([ALICE.email, BOB.email]) == {
        ALICE.email: AgentLoad(available=True, open_tickets=1),
        BOB.email: AgentLoad(available=True, open_tickets=1),
    }


def test_nobody_available_leaves_the_ticket_unassigned(desk: Desk) -> None:
    available(desk, ALICE)
    available(desk, ALICE, now=False)
    available(desk, DAVE)  # not a member: never given the department's tickets

    assert assignees(desk, 2, by_mail=True) == [None, None]


def test_a_manual_department_assigns_nothing(desk: Desk) -> None:
    available(desk, ALICE)
    update_department("billing", None, None, ADMIN, desk.deps, assignment="manual")

    assert assignees(desk, 1) == [None]


def test_the_assignment_is_the_systems_in_history_and_events(desk: Desk) -> None:
    available(desk, BOB)
    desk.forget_events()

    ticket = desk.mail(department_id="billing")

    assert desk.changes(ticket, "assignee") == [(None, BOB.email, SYSTEM)]
    assert [e.reason for e in desk.history(ticket) if e.field == "assignee"] == [REASON]
    assert desk.event_names(ticket.id)[:3] == ["TicketCreated", "TicketUpdated", "TicketAssigned"]
    assert desk.events("TicketCreated", ticket.id)[0]["assignee"] == BOB.email
    updated = desk.events("TicketUpdated", ticket.id)[0]
    assert (updated["actor"], updated["version"]) == (SYSTEM, 1)
    assert updated["changes"] == [{"field": "assignee", "old": None, "new": BOB.email}]
    assert desk.get(ticket).assignee == BOB.email


def test_only_admins_choose_how_a_department_assigns(desk: Desk) -> None:
    refused = refusal(
        lambda: update_department("billing", None, None, ALICE, desk.deps, assignment="manual")
    )
    assert isinstance(refused, Forbidden)


def test_a_disabled_agent_is_out_of_the_turns() -> None:
    alice = Agent(email=ALICE.email, name=None, enabled=True, confirmed=True, admin=False)
    desk = Desk(agents=[alice])
    desk.department("Billing", ALICE)
    update_department("billing", None, None, ADMIN, desk.deps, assignment="round_robin")
    available(desk, ALICE)

    change_agent(ALICE.email, AgentChange(disabled=True), ADMIN, desk.deps)

    assert desk.repository.loads([ALICE.email])[ALICE.email].available is False
    assert desk.open().assignee is None
