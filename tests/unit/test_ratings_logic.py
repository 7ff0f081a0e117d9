"""Clients' ratings on the tickets service's fakes: the signed links (forged, altered, expired),
a rating on the ticket and in its history and events, changing it, and the counts the CSAT report
reads, per department and per agent, only where the caller may look."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.tickets.logic.ratings import csat_report, rate_ticket, rated_ticket
from services.tickets.logic.ticket import Ticket
from shared.clock import isoformat
from shared.errors import Conflict, Invalid, NotFound
from shared.events.catalogue import TicketRated
from shared.rating_links import (
    ExpiredRatingToken,
    InvalidRatingToken,
    rating_link,
    rating_token,
    read_rating_token,
)
from tests.tickets_desk import ADMIN, ALICE, BOB, Desk

SECRET = "a-secret-of-sixteen+"


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.billing_and_technical()
    return desk


def resolved(desk: Desk, assignee: str | None = ALICE.email) -> tuple[Ticket, str]:
    """A Billing ticket assigned to Alice and resolved, with its rating link's token."""
    ticket = desk.change(desk.open("billing"), assignee=assignee, status="resolved")
    assert ticket.resolved_at is not None
    token = rating_token(SECRET, ticket.id, isoformat(ticket.resolved_at), desk.clock.now())
    return ticket, token


def test_a_token_names_its_ticket_and_resolution_until_it_expires(desk: Desk) -> None:
    now = desk.clock.now()
    token = rating_token(SECRET, "t-1", "2026-03-02T09:00:00.000Z", now)
    claim = read_rating_token(SECRET, token, now + timedelta(days=13, hours=23))
    assert (claim.ticket_id, claim.resolved_at) == ("t-1", "2026-03-02T09:00:00.000Z")
    with pytest.raises(ExpiredRatingToken):
        read_rating_token(SECRET, token, now + timedelta(days=14))
    link = rating_link("https://help.example.com/", token, "good")
    assert link == f"https://help.example.com/ratings/{token}?choice=good"


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token.replace(token[3], "A" if token[3] != "A" else "B", 1),  # payload
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature
        lambda token: token.partition(".")[0],  # no signature
        lambda token: "not base64 at all!.%%%",
    ],
)
def test_an_altered_or_foreign_token_is_refused(desk: Desk, forge: object) -> None:
    now = desk.clock.now()
    token = rating_token(SECRET, "t-1", "2026-03-02T09:00:00.000Z", now)
    with pytest.raises(InvalidRatingToken):
        read_rating_token(SECRET, forge(token), now)  # type: ignore[operator]
    with pytest.raises(InvalidRatingToken):  # signed with another deployment's secret
        read_rating_token("another-secret-of-16", token, now)


def test_opening_the_page_records_nothing(desk: Desk) -> None:
    ticket, token = resolved(desk)
    seen, _ = rated_ticket(token, SECRET, desk.deps)
    assert seen.id == ticket.id
    stored = desk.repository.get(ticket.id)
    assert stored is not None
    assert stored.satisfaction is None
    assert (
        desk.repository.tallies("billing", desk.clock.now().date(), desk.clock.now().date()) == []
    )


def test_a_rating_is_on_the_ticket_in_its_history_and_announced(desk: Desk) -> None:
    ticket, token = resolved(desk)
    rate_ticket(token, "good", "  Quick and kind.  ", SECRET, desk.deps)
    stored = desk.repository.get(ticket.id)
    assert stored is not None
    assert stored.satisfaction is not None
    assert (stored.satisfaction.rating, stored.satisfaction.comment) == ("good", "Quick and kind.")
    assert stored.version == ticket.version  # not an agent's edit: If-Match stays good
    assert desk.changes(ticket, "satisfaction") == [
        (None, {"rating": "good", "comment": "Quick and kind."}, ticket.requester.email)
    ]
    (rated,) = desk.events("TicketRated")
    assert TicketRated.model_validate(rated).model_dump(include={"rating", "agent"}) == {
        "rating": "good",
        "agent": ALICE.email,
    }


def test_a_changed_rating_moves_the_counts(desk: Desk) -> None:
    ticket, token = resolved(desk)
    rate_ticket(token, "good", None, SECRET, desk.deps)
    desk.later(3600)
    rate_ticket(token, "bad", "It came back.", SECRET, desk.deps)
    day = desk.clock.now().date()
    report = csat_report(day, day, None, ADMIN, desk.deps, desk.repository)
    assert (report.total.good, report.total.bad) == (0, 1)
    assert (report.departments["billing"].good, report.departments["billing"].bad) == (0, 1)
    assert report.agents[ALICE.email].share_good == 0.0
    stored = desk.repository.get(ticket.id)
    assert stored is not None
    assert stored.satisfaction is not None
    assert stored.satisfaction.rating == "bad"


def test_a_rating_of_an_older_resolution_is_refused(desk: Desk) -> None:
    ticket, token = resolved(desk)
    desk.change(ticket, status="open")
    desk.change(ticket, status="resolved")
    with pytest.raises(Conflict):
        rate_ticket(token, "good", None, SECRET, desk.deps)


def test_a_long_comment_is_refused_by_name(desk: Desk) -> None:
    _, token = resolved(desk)
    with pytest.raises(Invalid) as refused:
        rate_ticket(token, "good", "x" * 2001, SECRET, desk.deps)
    assert refused.value.errors[0].field == "comment"


def test_without_a_secret_no_link_is_taken(desk: Desk) -> None:
    _, token = resolved(desk)
    with pytest.raises(NotFound):
        rated_ticket(token, None, desk.deps)


def test_the_report_counts_per_agent_and_shows_agents_their_departments_only(desk: Desk) -> None:
    _, alice_token = resolved(desk, ALICE.email)
    rate_ticket(alice_token, "good", None, SECRET, desk.deps)
    technical = desk.change(desk.open("technical"), assignee=BOB.email, status="resolved")
    assert technical.resolved_at is not None
    bob_token = rating_token(
        SECRET, technical.id, isoformat(technical.resolved_at), desk.clock.now()
    )
    rate_ticket(bob_token, "bad", None, SECRET, desk.deps)
    day = desk.clock.now().date()
    everything = csat_report(day, day, None, ADMIN, desk.deps, desk.repository)
    assert (everything.total.good, everything.total.bad) == (1, 1)
    assert everything.agents[ALICE.email].good == 1
    assert everything.agents[BOB.email].bad == 1
    alices = csat_report(day, day, None, ALICE, desk.deps, desk.repository)
    assert set(alices.departments) == {"billing"}
    assert set(alices.agents) == {ALICE.email}
    with pytest.raises(NotFound):
        csat_report(day, day, "technical", ALICE, desk.deps, desk.repository)
    earlier = csat_report(
        day - timedelta(days=3), day - timedelta(days=1), None, ADMIN, desk.deps, desk.repository
    )
    assert (earlier.total.good, earlier.total.bad) == (0, 0)
