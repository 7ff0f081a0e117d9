"""SLA flags through the whole local stack: the local clock moves forward, the sweep (every second
here) warns and breaches, and the tickets service lists the ticket as at risk, then breached. A
ticket answered in time is never breached."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.flow.conftest import FAST_SLA, RunningStack, eventually, running_stack

pytestmark = pytest.mark.flow
ALICE = ("alice@example.com", "agent")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    yield from running_stack(tmp_path_factory, "sla-stack", FAST_SLA)


def _ids(stack: RunningStack, token: str, sla: str) -> list[str]:
    status, page = stack.call("GET", f"/tickets?sla={sla}", token=token)
    assert status == 200, page
    return [ticket["id"] for ticket in page["items"]]


def _open(stack: RunningStack, token: str, subject: str) -> dict[str, Any]:
    status, ticket = stack.call(
        "POST",
        "/tickets",
        {
            "subject": subject,
            "body": "Everything is down.",
            "priority": "urgent",
            "department_id": "support",
            "requester": {"email": "carol@client.example.org"},
        },
        token,
    )
    assert status == 201, ticket
    return ticket  # type: ignore[no-any-return]


def test_an_urgent_ticket_goes_at_risk_then_breached_and_an_answered_one_does_not(
    stack: RunningStack,
) -> None:
    admin, alice = stack.token(), stack.token(*ALICE)
    assert stack.call("POST", "/departments", {"name": "Support"}, admin)[0] == 201
    assert stack.call("POST", "/departments/support/members", {"email": ALICE[0]}, admin)[0] == 200
    # Given two urgent tickets, one of which Alice answers straight away
    waiting = _open(stack, alice, "Site down")
    answered = _open(stack, alice, "Login broken")
    reply = {"body": "Looking into it now."}
    assert stack.call("POST", f"/tickets/{answered['id']}/messages", reply, alice)[0] == 201
    # The SLA service has given the waiting ticket both its due times (the state and the due times
    # reach the ticket by separate events: wait for both). The answered one waits on the client
    # now, so its resolution clock is paused, with no due time, as soon as the SLA service has
    # seen the reply, and its first response may be met before its timer starts (events arrive
    # in any order): it only needs its state.
    sla = eventually(
        lambda: stack.call("GET", f"/tickets/{waiting['id']}", token=alice)[1]["sla"],
        lambda sla: sla["state"] is not None and sla["resolution_due_at"] is not None,
    )
    assert sla["resolution_due_at"] is not None
    assert sla["first_response_due_at"] is not None
    sla = eventually(
        lambda: stack.call("GET", f"/tickets/{answered['id']}", token=alice)[1]["sla"],
        lambda sla: sla["state"] is not None,
    )
    assert sla["state"] is not None
    # When 50 minutes pass (past the warning at 45 of the 60)
    stack.call("POST", "/local/clock", {"advance_minutes": 50})
    # Then the unanswered ticket is at risk
    at_risk = eventually(lambda: _ids(stack, admin, "at_risk"), lambda ids: waiting["id"] in ids)
    assert waiting["id"] in at_risk
    assert answered["id"] not in at_risk
    # When the hour is up
    stack.call("POST", "/local/clock", {"advance_minutes": 11})
    # Then it is breached, and no longer merely at risk
    breached = eventually(lambda: _ids(stack, admin, "breached"), lambda ids: waiting["id"] in ids)
    assert breached == [waiting["id"]]
    assert waiting["id"] not in _ids(stack, admin, "at_risk")
    # And the SLA explains why, to Alice
    status, timer = stack.call("GET", f"/sla/tickets/{waiting['id']}", token=alice)
    assert status == 200, timer
    first_response = timer["targets"][0]
    assert [e["event"] for e in first_response["timeline"]] == ["started", "warned", "breached"]
    status, timer = stack.call("GET", f"/sla/tickets/{answered['id']}", token=alice)
    assert timer["state"] != "breached"
    assert timer["targets"][0]["status"] == "met"
    assert timer["targets"][0]["breached_at"] is None
