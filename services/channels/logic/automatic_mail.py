"""Sending an automatic mail of ours in a ticket's thread (a reminder, a request to rate), once.

The first attempt recorded for it claims it, so a second delivery of the event sends nothing. It
is kept so SES's reports about it find the ticket, and not retried: it is a courtesy. Its failure
is recorded and announced as a reply's would be. The thread learns its Message-ID, so the
client's answer leads back to the ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from services.channels.logic.channel import Channel
from services.channels.logic.delivery import Outbound, SendFailed, failure
from services.channels.logic.dependencies import Dependencies
from services.channels.logic.send_reply import Outgoing
from services.channels.logic.ticket_thread import Thread
from shared.events.envelope import OutgoingEvent

logger = logging.getLogger(__name__)


def send_once(
    claim: str,
    thread: Thread,
    channel: Channel,
    outgoing: Outgoing,
    write: Callable[[], bytes],
    deps: Dependencies,
) -> bool:
    """Send the mail `write` makes, unless `claim` (what it is for) was claimed before; whether it
    went out."""
    mail = Outbound(
        ticket_id=thread.ticket_id,
        ticket_message_id=None,
        ticket_message_at=None,
        message_id=outgoing.message_id,
        recipients=outgoing.recipients,
        automatic=claim,
    )
    claimed = deps.outbound_mail.begin_attempt(mail)
    if claimed.attempts > 1:
        return False  # claimed before: sent, or given up on
    mail = replace(mail, attempts=claimed.attempts)
    clock = deps.clock
    try:
        ses_message_id = deps.sender.send(channel.address, outgoing.recipients, write())
    except SendFailed as error:
        logger.warning(
            "automatic mail not sent",
            extra={"ticket": thread.number, "mail": claim, "why": error.reason},
        )
        failed = replace(mail, state="failed")
        event = OutgoingEvent.of(failure(failed, error, clock.now()), clock.now())
        deps.outbound_mail.finish(failed, [event])
        return False
    deps.outbound_mail.finish(replace(mail, state="sent"), [], ses_message_id)
    deps.threads.save(thread, [outgoing.message_id])
    return True
