"""The tickets' automatic steps through the whole local stack: the local clock moves past the
settings' days, the every-minute run (every second here) closes a resolved ticket, "closed
automatically" in its history, and a waiting client's reminder reaches the outbox in the
ticket's thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.flow.conftest import FAST_SLA, RunningStack, eventually, running_stack

pytestmark = pytest.mark.flow
CAROL = "carol@client.example.org"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    settings = {**FAST_SLA, "HELPDESK_AUTO_CLOSE_AFTER": "4", "HELPDESK_REMIND_AFTER": "1"}
    yield from running_stack(tmp_path_factory, "automations-stack", settings)


def _open(stack: RunningStack, token: str, subject: str) -> dict[str, Any]:
    ticket = {
        "subject": subject,
        "body": "Charged twice.",
        "department_id": "billing",
        "requester": {"email": CAROL},
    }
    status, opened = stack.call("POST", "/tickets", ticket, token)
    assert status == 201, opened
    return opened  # type: ignore[no-any-return]


def _to_carol(stack: RunningStack, number: str) -> list[dict[str, Any]]:
    """Carol's mail about one ticket (the resolved one also asks her to rate it)."""
    outbox = stack.call("GET", "/local/outbox")[1]
    return [m for m in outbox if CAROL in m["to"] and m["subject"].startswith(f"[{number}]")]


def test_a_resolved_ticket_closes_and_a_waiting_client_is_reminded(stack: RunningStack) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Billing"}, admin)[0] == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    resolved = _open(stack, admin, "Refund")
    change = {"status": "resolved"}
    assert stack.call("PATCH", f"/tickets/{resolved['id']}", change, admin)[0] == 200
    waiting = _open(stack, admin, "Invoice")
    question = {"body": "Which invoice number?"}
    assert stack.call("POST", f"/tickets/{waiting['id']}/messages", question, admin)[0] == 201
    (asked,) = eventually(lambda: _to_carol(stack, waiting["number"]))

    # When four days and a minute pass
    stack.call("POST", "/local/clock", {"advance_minutes": 4 * 24 * 60 + 1})

    # Then the resolved ticket is closed, automatically, as its history says
    closed = eventually(
        lambda: stack.call("GET", f"/tickets/{resolved['id']}", token=admin)[1],
        lambda ticket: ticket["status"] == "closed",
    )
    assert closed["status"] == "closed"
    history = stack.call("GET", f"/tickets/{resolved['id']}/history", token=admin)[1]["items"]
    (entry,) = [e for e in history if e["field"] == "status" and e["new"] == "closed"]
    assert entry["actor"] == "system"
    assert entry["reason"].startswith("closed automatically")
    # And Carol has one reminder, in the thread of the question she has not answered
    mails = eventually(lambda: _to_carol(stack, waiting["number"]), lambda mails: len(mails) >= 2)
    (_, reminder) = mails
    assert reminder["subject"] == f"[{waiting['number']}] Invoice"
    assert reminder["in_reply_to"] == asked["message_id"]
    assert "Auto-Submitted: auto-generated" in reminder["raw"]
    assert "waiting for your answer" in reminder["text"]
    assert stack.call("GET", f"/tickets/{waiting['id']}", token=admin)[1]["status"] == (
        "waiting_on_client"
    )
