"""The rating mail on the channels service's fakes: when a ticket is resolved, one mail in its
thread from its channel with a signed link per rating, however often the event comes; none when
the deployment takes no ratings; a new one for a new resolution."""

from __future__ import annotations

import re

import pytest

from services.channels.logic.ask_rating import ask_for_rating
from services.channels.logic.dependencies import RatingLinks
from shared.events.catalogue import TicketCreated, TicketStatusChanged
from shared.rating_links import read_rating_token
from tests.channels_desk import BILLING, CLIENT, SECRET, Desk, mail_id, text_of

EDGE = "https://help.example.com"
LINK = re.compile(rf"{re.escape(EDGE)}/ratings/([A-Za-z0-9_.-]+)\?choice=(good|bad)")


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.channel(signature="Billing")
    desk.change_policy(rating_links=RatingLinks(SECRET, EDGE))
    return desk


def resolution(ticket: TicketCreated, at: str = "2026-11-02T10:00:00.000Z") -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        old="waiting_on_client",
        new="resolved",
        priority="medium",
        department_id=ticket.department_id,
        reason="agent",
        changed_at=at,
    )


def answered_ticket(desk: Desk) -> TicketCreated:
    assert desk.receive(message_id="first@client.example.org") == 1
    (ticket,) = desk.deliver()
    desk.reply(ticket, body="Refunded.")
    return ticket


def test_one_mail_per_resolution_with_both_links(desk: Desk) -> None:
    ticket = answered_ticket(desk)
    resolved = resolution(ticket)
    ask_for_rating(resolved, desk.deps)
    ask_for_rating(resolved, desk.deps)  # the event delivered again
    (reply, mail) = desk.sent
    assert mail["From"].addresses[0].addr_spec == BILLING
    assert mail["To"] == CLIENT
    assert mail["Subject"] == f"[{ticket.number}] Invoice"
    assert mail["In-Reply-To"] == f"<{mail_id(reply)}>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "X-Auto-Response-Suppress" not in mail  # written to be answered
    links = LINK.findall(text_of(mail))
    assert [choice for _, choice in links] == ["good", "bad"]
    (token,) = {token for token, _ in links}
    claim = read_rating_token(SECRET, token, desk.clock.now())
    assert (claim.ticket_id, claim.resolved_at) == (ticket.ticket_id, resolved.changed_at)
    # An answer to the rating mail leads back to the ticket.
    assert desk.deps.threads.ticket_of_message_ids([mail_id(mail)]) == ticket.ticket_id


def test_a_new_resolution_gets_a_mail_of_its_own(desk: Desk) -> None:
    ticket = answered_ticket(desk)
    ask_for_rating(resolution(ticket), desk.deps)
    ask_for_rating(resolution(ticket, at="2026-11-05T10:00:00.000Z"), desk.deps)
    assert len(desk.sent) == 3


def test_no_mail_for_other_statuses_or_without_ratings(desk: Desk) -> None:
    ticket = answered_ticket(desk)
    ask_for_rating(resolution(ticket).model_copy(update={"new": "closed"}), desk.deps)
    desk.change_policy(rating_links=None)
    ask_for_rating(resolution(ticket), desk.deps)
    assert len(desk.sent) == 1  # the reply only
