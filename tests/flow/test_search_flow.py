"""Ticket search through the whole local system: a client's mail over SMTP opens a ticket, the
tickets service indexes it from its own events, and agents search over HTTP, each finding only
what their departments may open."""

from __future__ import annotations

import smtplib
from typing import Any
from urllib.parse import quote

import pytest

from tests.flow.conftest import RunningStack, eventually

pytestmark = pytest.mark.flow
ALICE, BOB = ("alice@example.com", "agent"), ("bob@example.com", "agent")
MAIL = (
    "From: Hana <hana@client.example.org>\r\nTo: billing@example.com\r\n"
    "Subject: Statement arrived twice\r\nMessage-ID: <statement-1@client.example.org>\r\n\r\n"
    "The turquoise flamingo statement came twice this month.\r\n"
)


def _search(stack: RunningStack, q: str, token: str) -> list[dict[str, Any]]:
    status, page = stack.call("GET", f"/search?q={quote(q)}", token=token)
    assert status == 200, page
    return page["items"]  # type: ignore[no-any-return]


def _numbers(hits: list[dict[str, Any]]) -> list[str]:
    return [hit["ticket"]["number"] for hit in hits]


def test_agents_find_a_mailed_ticket_and_its_notes_by_their_words(stack: RunningStack) -> None:
    admin, alice, bob = stack.token(), stack.token(*ALICE), stack.token(*BOB)
    # Given Billing with its own address and Alice in it, and Bob in Sales
    for name, member in (("Billing", ALICE[0]), ("Sales", BOB[0])):
        assert stack.call("POST", "/departments", {"name": name}, admin)[0] == 201
        path = f"/departments/{name.lower()}/members"
        assert stack.call("POST", path, {"email": member}, admin)[0] == 200
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    # When a client mails Billing
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("hana@client.example.org", ["billing@example.com"], MAIL.encode())
    # Then, once indexed, Alice finds the ticket by two of the mail's words
    hits = eventually(lambda: _search(stack, "turquoise flamingo", alice))
    assert len(hits) == 1, hits
    [hit] = hits
    number = hit["ticket"]["number"]
    assert (hit["ticket"]["subject"], hit["matched_in"]) == ("Statement arrived twice", "message")
    assert "The **turquoise** **flamingo** statement" in hit["snippet"]
    # And by the words as a phrase, and while typing the last one
    assert _numbers(_search(stack, '"turquoise flamingo"', alice)) == [number]
    assert _numbers(_search(stack, "turquoise flami", alice)) == [number]
    assert _numbers(_search(stack, '"flamingo turquoise"', alice)) == []
    # But Bob, of another department, finds nothing of it
    assert _search(stack, "turquoise flamingo", bob) == []
    # When Alice adds an internal note
    note = {"body": "Escalated to the marmalade ledger team.", "visibility": "internal"}
    assert stack.call("POST", f"/tickets/{number}/messages", note, alice)[0] == 201
    # Then its words find the ticket too, once indexed
    hits = eventually(lambda: _search(stack, "marmalade ledger", alice))
    assert [(h["ticket"]["number"], h["matched_in"]) for h in hits] == [(number, "message")]
    assert hits[0]["snippet"] == "Escalated to the **marmalade** **ledger** team."
    assert _search(stack, "marmalade ledger", bob) == []
