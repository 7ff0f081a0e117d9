"""Assignment by turns through the whole local stack: a department that assigns by turns, with two
available members, gives three clients' mails (sent over SMTP) to them in turn, the system's
assignment shows in each ticket's history, and the assignee is told by mail straight away (the
department hears nothing of a ticket that already has someone)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.flow.conftest import FAST_SLA, RunningStack, eventually, running_stack

pytestmark = pytest.mark.flow
ALICE, BOB = "alice@example.com", "bob@example.com"
ASSIGNED, NEW = "Assigned to you", "New ticket"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    # Every-minute sweeps (grouped notifications among them) run every second.
    yield from running_stack(tmp_path_factory, "turns-stack", FAST_SLA)


def _told(stack: RunningStack, what: str = ASSIGNED) -> list[str]:
    """Who was mailed `what` happened to a ticket, in any order."""
    outbox = stack.call("GET", "/local/outbox")[1]
    return sorted(mail["to"] for mail in outbox if what in mail["subject"] + mail["text"])


def _send(stack: RunningStack, number: int) -> None:
    sender = f"client{number}@client.example.org"
    raw = (
        f"From: <{sender}>\r\nTo: billing@example.com\r\nSubject: Charged twice {number}\r\n"
        f"Message-ID: <turn{number}@client.example.org>\r\n\r\nMy card was charged twice.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail(sender, ["billing@example.com"], raw.encode())


def _tickets(stack: RunningStack, token: str) -> list[dict[str, Any]]:
    return stack.call("GET", "/tickets?sort=created", token=token)[1]["items"]  # type: ignore[no-any-return]


def test_mails_to_a_department_by_turns_go_to_its_available_members_in_turn(
    stack: RunningStack,
) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Billing"}, admin)[0] == 201
    for member in (ALICE, BOB):
        stack.call("POST", "/departments/billing/members", {"email": member}, admin)
        mine = stack.call(
            "PUT", "/agents/me/availability", {"available": True}, stack.token(member, "agent")
        )
        assert mine[0] == 200, mine
    by_turns = {"assignment": "round_robin"}
    assert stack.call("PATCH", "/departments/billing", by_turns, admin)[0] == 200
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201

    # When three clients mail Billing, one after the other
    for number in range(1, 4):
        _send(stack, number)
        eventually(lambda n=number: _tickets(stack, admin), lambda items, n=number: len(items) == n)

    # Then the tickets went to Alice, Bob and Alice again, in the order they came
    tickets = sorted(_tickets(stack, admin), key=lambda ticket: ticket["number"])
    assert [ticket["assignee"] for ticket in tickets] == [ALICE, BOB, ALICE]
    history = stack.call("GET", f"/tickets/{tickets[1]['id']}/history", token=admin)[1]["items"]
    assert ("assignee", BOB, "system") in [(e["field"], e["new"], e["actor"]) for e in history]
    # And each assignee is told straight away that the ticket is theirs, nobody that it is new
    assert eventually(lambda: _told(stack), lambda told: len(told) >= 3) == [ALICE, ALICE, BOB]
    assert _told(stack, NEW) == []
