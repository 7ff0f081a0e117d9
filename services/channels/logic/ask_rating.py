"""Asking a client to rate the resolution of their ticket: when the tickets service says a ticket
was resolved, one mail in the ticket's thread, from the address the ticket is answered from, with
a signed link per rating (good, bad) to the tickets service's rating page.

It is sent once per resolution (`automatic_mail.send_once`): a second delivery of the event sends
nothing.
"""

from __future__ import annotations

import logging

from services.channels.logic.automatic_mail import send_once
from services.channels.logic.dependencies import Dependencies
from services.channels.logic.follow_tickets import answering_channel
from services.channels.logic.send_reply import (
    address_rating_request,
    deliverable,
    write_rating_request,
)
from shared.events.catalogue import TicketStatusChanged
from shared.rating_links import RATING_LINK_DAYS, RATINGS, rating_link, rating_token

logger = logging.getLogger(__name__)


def ask_for_rating(changed: TicketStatusChanged, deps: Dependencies) -> None:
    links = deps.policy.rating_links
    if changed.new != "resolved" or links is None:
        return
    thread = deps.threads.thread(changed.ticket_id)
    if thread is None or not deliverable(thread.requester):
        return  # a ticket no mail of ours can reach
    channel = answering_channel(thread, deps)
    if channel is None:
        logger.warning("no address to ask for a rating from", extra={"ticket": changed.number})
        return
    # The resolution is named by when it happened: the ticket keeps the same time.
    resolved_at = changed.changed_at
    outgoing = address_rating_request(thread, channel, resolved_at)
    token = rating_token(links.secret, changed.ticket_id, resolved_at, deps.clock.now())
    by_rating = {rating: rating_link(links.public_url, token, rating) for rating in RATINGS}
    secret = deps.policy.reply_tokens.secret

    def write() -> bytes:
        return write_rating_request(
            thread, channel, outgoing, by_rating, RATING_LINK_DAYS, deps.clock, secret
        )

    send_once(f"rating-{resolved_at}", thread, channel, outgoing, write, deps)
