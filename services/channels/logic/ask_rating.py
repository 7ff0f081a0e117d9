"""Asking a client to rate the resolution of their ticket: when the tickets service says a ticket
was resolved, one mail in the ticket's thread, from the address the ticket is answered from, with
a signed link per rating (good, bad) to the tickets service's rating page.

It is sent once per resolution (`automatic_mail.send_once`): a second delivery of the event sends
nothing. With a delay (`MailPolicy.rating_delay`) the request waits on a due list that the
every-minute sweep sends from, and a re-open after the resolution cancels it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from services.channels.logic.automatic_mail import send_once
from services.channels.logic.dependencies import Dependencies
from services.channels.logic.follow_tickets import answering_channel
from services.channels.logic.rating_requests import RatingRequest
from services.channels.logic.send_reply import (
    address_rating_request,
    deliverable,
    write_rating_request,
)
from shared.events.catalogue import TicketStatusChanged
from shared.rating_links import RATING_LINK_DAYS, RATINGS, rating_link, rating_token

RATING_REQUESTS_PER_SWEEP = 100  # well within a sweep's time; the rest wait a minute
SETTLED = ("resolved", "closed")  # a ticket in any other status was re-opened
logger = logging.getLogger(__name__)


def ask_for_rating(changed: TicketStatusChanged, deps: Dependencies) -> None:
    policy = deps.policy
    if policy.rating_links is None:
        return
    if changed.new not in SETTLED:
        # Kept without a delay too: requests held before the delay was turned off still wait.
        deps.rating_requests.reopened(changed.ticket_id, changed.changed_at)
        return
    if changed.new != "resolved":
        return
    if policy.rating_delay:
        due_at = datetime.fromisoformat(changed.changed_at) + policy.rating_delay
        deps.rating_requests.hold(RatingRequest(changed.ticket_id, changed.changed_at, due_at))
        return
    _request_rating(changed.ticket_id, changed.changed_at, deps)


def send_due_rating_requests(deps: Dependencies) -> int:
    """Send the rating mails whose delay has passed, for resolutions no re-open followed; how
    many went out. Two sweeps at once send each at most once: taking it is a conditional write."""
    store, sent = deps.rating_requests, 0
    for request in store.due(deps.clock.now(), RATING_REQUESTS_PER_SWEEP):
        if store.take(request):
            sent += _request_rating(request.ticket_id, request.resolved_at, deps)
    return sent


def _request_rating(ticket_id: str, resolved_at: str, deps: Dependencies) -> bool:
    """Mail the request to rate the resolution at `resolved_at`; whether it went out."""
    links = deps.policy.rating_links
    thread = deps.threads.thread(ticket_id)
    if links is None or thread is None or not deliverable(thread.requester):
        return False  # ratings turned off since, or a ticket no mail of ours can reach
    channel = answering_channel(thread, deps)
    if channel is None:
        logger.warning("no address to ask for a rating from", extra={"ticket": thread.number})
        return False
    # The resolution is named by when it happened: the ticket keeps the same time.
    outgoing = address_rating_request(thread, channel, resolved_at)
    token = rating_token(links.secret, ticket_id, resolved_at, deps.clock.now())
    by_rating = {rating: rating_link(links.public_url, token, rating) for rating in RATINGS}
    secret = deps.policy.reply_tokens.secret

    def write() -> bytes:
        return write_rating_request(
            thread, channel, outgoing, by_rating, RATING_LINK_DAYS, deps.clock, secret
        )

    return send_once(f"rating-{resolved_at}", thread, channel, outgoing, write, deps)
