"""The rating mail after the deployment's delay, on the channels service's fakes: it goes when
the delay has passed to the minute, once however often the event or the sweep comes; a re-open
before then cancels it, whichever event arrives first; a resolution after the re-open is asked
about on its own; two sweeps at once send it once."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from services.channels.logic.ask_rating import ask_for_rating, send_due_rating_requests
from services.channels.logic.dependencies import RatingLinks
from services.channels.logic.rating_requests import RatingRequest
from shared.clock import isoformat
from shared.events.catalogue import TicketCreated, TicketStatusChanged
from shared.rating_links import read_rating_token
from tests.channels_desk import CLIENT, SECRET, Desk, text_of
from tests.fakes.channels import FakeRatingRequestStore

EDGE = "https://help.example.com"
TOKEN = re.compile(rf"{re.escape(EDGE)}/ratings/([A-Za-z0-9_.-]+)\?choice=good")
DELAY = timedelta(minutes=30)


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.channel(signature="Billing")
    desk.change_policy(rating_links=RatingLinks(SECRET, EDGE), rating_delay=DELAY)
    return desk


@pytest.fixture
def ticket(desk: Desk) -> TicketCreated:
    assert desk.receive(message_id="first@client.example.org") == 1
    (ticket,) = desk.deliver()
    return ticket


def status_changed(ticket: TicketCreated, new: str, at: datetime) -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        old="in_progress" if new == "resolved" else "resolved",
        new=new,
        priority="medium",
        department_id=ticket.department_id,
        reason="agent",
        changed_at=isoformat(at),
    )


def rating_mails(desk: Desk) -> list[str]:
    """The resolution each rating mail sent asks about, oldest first."""
    resolutions = []
    for mail in desk.sent:
        if (token := TOKEN.search(text_of(mail))) is not None:
            assert mail["To"] == CLIENT
            claim = read_rating_token(SECRET, token.group(1), desk.clock.now())
            resolutions.append(claim.resolved_at)
    return resolutions


def test_the_mail_goes_when_the_delay_has_passed_and_once(
    desk: Desk, ticket: TicketCreated
) -> None:
    resolved = status_changed(ticket, "resolved", desk.clock.now())
    ask_for_rating(resolved, desk.deps)
    assert desk.sent == []  # not when it is resolved
    desk.clock.advance(DELAY - timedelta(seconds=1))
    # Closing a resolved ticket keeps its rating mail.
    ask_for_rating(status_changed(ticket, "closed", desk.clock.now()), desk.deps)
    assert send_due_rating_requests(desk.deps) == 0
    desk.clock.advance(timedelta(seconds=1))
    assert send_due_rating_requests(desk.deps) == 1
    assert rating_mails(desk) == [resolved.changed_at]
    assert send_due_rating_requests(desk.deps) == 0
    ask_for_rating(resolved, desk.deps)  # the event delivered again, listed again
    assert send_due_rating_requests(desk.deps) == 0  # sent once for the resolution
    assert len(desk.sent) == 1


def test_a_re_open_before_the_delay_cancels_the_mail(desk: Desk, ticket: TicketCreated) -> None:
    resolved_at = desk.clock.now()
    ask_for_rating(status_changed(ticket, "resolved", resolved_at), desk.deps)
    reopened = status_changed(ticket, "open", resolved_at + timedelta(minutes=5))
    ask_for_rating(reopened, desk.deps)
    desk.clock.advance(DELAY)
    assert send_due_rating_requests(desk.deps) == 0
    assert desk.deps.rating_requests.due(desk.clock.now(), 10) == []  # taken off the list
    # Events out of order: the re-open arrived before the resolution it followed.
    ask_for_rating(status_changed(ticket, "resolved", resolved_at), desk.deps)
    assert send_due_rating_requests(desk.deps) == 0
    assert desk.sent == []


def test_a_resolution_after_a_re_open_gets_a_mail_of_its_own(
    desk: Desk, ticket: TicketCreated
) -> None:
    first = status_changed(ticket, "resolved", desk.clock.now())
    ask_for_rating(first, desk.deps)
    ask_for_rating(
        status_changed(ticket, "open", desk.clock.advance(timedelta(minutes=5))), desk.deps
    )
    second = status_changed(ticket, "resolved", desk.clock.advance(timedelta(minutes=5)))
    ask_for_rating(second, desk.deps)
    desk.clock.advance(DELAY - timedelta(minutes=5))
    assert send_due_rating_requests(desk.deps) == 0  # the first is cancelled
    desk.clock.advance(timedelta(minutes=5))
    assert send_due_rating_requests(desk.deps) == 1
    assert rating_mails(desk) == [second.changed_at]


class OverlappingSweeps(FakeRatingRequestStore):
    """Another sweep (`other_sweep`) runs, once, between this one's listing and its taking."""

    def __init__(self) -> None:
        super().__init__()
        self.other_sweep: Callable[[], int] | None = None
        self.other_sent = 0

    def due(self, now: datetime, limit: int) -> list[RatingRequest]:
        listed = super().due(now, limit)
        other_sweep, self.other_sweep = self.other_sweep, None
        if other_sweep is not None:
            self.other_sent = other_sweep()
        return listed


def test_two_sweeps_at_once_send_the_mail_once(desk: Desk, ticket: TicketCreated) -> None:
    store = OverlappingSweeps()
    desk.deps = replace(desk.deps, rating_requests=store)
    store.other_sweep = lambda: send_due_rating_requests(desk.deps)
    ask_for_rating(status_changed(ticket, "resolved", desk.clock.now()), desk.deps)
    desk.clock.advance(DELAY)
    assert send_due_rating_requests(desk.deps) == 0
    assert store.other_sent == 1
    assert len(desk.sent) == 1
