"""Mail to agents through the whole local stack: a client's mail tells the department's members,
with a link to the console; more from the client within five minutes waits and goes as one mail
once the (local) clock has moved past the window; an agent's answer by mail becomes their note,
or their reply to the client when it begins #public."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.flow.conftest import FAST_SLA, RunningStack, eventually, running_stack

pytestmark = pytest.mark.flow
CAROL, ALICE, BOB = "carol@client.example.org", "alice@example.com", "bob@example.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    # Every-minute sweeps (grouped notifications among them) run every second.
    yield from running_stack(tmp_path_factory, "notifications-stack", FAST_SLA)


def _send(stack: RunningStack, sender: str, raw: str) -> None:
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail(sender, ["billing@example.com"], raw.encode())


def _to(stack: RunningStack, address: str) -> list[dict[str, Any]]:
    outbox = stack.call("GET", "/local/outbox")[1]
    return [mail for mail in outbox if address in mail["to"]]


def _messages(stack: RunningStack, ticket_id: str, token: str) -> list[dict[str, Any]]:
    return stack.call("GET", f"/tickets/{ticket_id}/messages", token=token)[1]["items"]  # type: ignore[no-any-return]


def test_agents_hear_of_a_clients_mail_and_answer_it_by_mail(stack: RunningStack) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Billing"}, admin)[0] == 201
    for member in (ALICE, BOB):
        stack.call("POST", "/departments/billing/members", {"email": member}, admin)
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201

    # When Carol mails Billing, both members hear of it, with her words and a link
    _send(
        stack,
        CAROL,
        f"From: Carol <{CAROL}>\r\nTo: billing@example.com\r\nSubject: Charged twice\r\n"
        "Message-ID: <c1@client.example.org>\r\n\r\nMy card was charged twice.\r\n",
    )
    (to_alice,) = eventually(lambda: _to(stack, ALICE))
    (to_bob,) = eventually(lambda: _to(stack, BOB))
    tickets = stack.call("GET", "/tickets", token=admin)[1]["items"]
    ticket = tickets[0]
    assert to_alice["subject"] == f"[{ticket['number']}] New ticket: Charged twice"
    assert f"http://localhost:{stack.http}/#/tickets/{ticket['id']}" in to_alice["text"]
    assert "> My card was charged twice." in to_alice["text"]

    # And Carol writes again within five minutes: it waits, then goes as one mail
    _send(
        stack,
        CAROL,
        f"From: Carol <{CAROL}>\r\nTo: billing@example.com\r\nSubject: Re: Charged twice\r\n"
        "Message-ID: <c2@client.example.org>\r\nIn-Reply-To: <c1@client.example.org>\r\n\r\n"
        "Here is the statement.\r\n",
    )
    eventually(lambda: _messages(stack, ticket["id"], admin), lambda items: len(items) == 2)
    # Nothing more comes while the window lasts (the clock is still)
    assert len(eventually(lambda: _to(stack, ALICE), lambda mails: len(mails) > 1, 5)) == 1
    stack.call("POST", "/local/clock", {"advance_minutes": 5})
    _, grouped = eventually(lambda: _to(stack, ALICE), lambda mails: len(mails) == 2)
    assert grouped["subject"] == f"[{ticket['number']}] The client answered: Charged twice"
    assert "> Here is the statement." in grouped["text"]

    # When Bob answers his notification by mail, it is his internal note
    _send(
        stack,
        BOB,
        f"From: Bob <{BOB}>\r\nTo: billing@example.com\r\nSubject: Re: {to_bob['subject']}\r\n"
        f"Message-ID: <b1@example.com>\r\nIn-Reply-To: <{to_bob['message_id']}>\r\n\r\n"
        "Refund approved by finance.\r\n",
    )
    bob = stack.token(BOB, "agent")
    messages = eventually(
        lambda: _messages(stack, ticket["id"], bob), lambda items: len(items) == 3
    )
    assert (messages[-1]["visibility"], messages[-1]["author"]["email"]) == ("internal", BOB)
    # And Alice answers hers with #public: Carol gets the reply, without the mark
    _send(
        stack,
        ALICE,
        f"From: Alice <{ALICE}>\r\nTo: billing@example.com\r\n"
        f"Subject: Re: {to_alice['subject']}\r\n"
        f"Message-ID: <a1@example.com>\r\nIn-Reply-To: <{to_alice['message_id']}>\r\n\r\n"
        "#public\r\nWe refunded the second charge.\r\n",
    )
    (reply,) = eventually(lambda: _to(stack, CAROL))
    assert reply["text"].startswith("We refunded the second charge.")
    assert "#public" not in reply["text"]
    assert all("Refund approved by finance" not in mail["text"] for mail in _to(stack, CAROL))
