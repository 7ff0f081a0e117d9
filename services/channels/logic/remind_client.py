"""Reminding a client that a ticket waits on them: one mail in the ticket's thread, from the
address the ticket is answered from, when the tickets service says the wait has been long enough.

It is sent once (`automatic_mail.send_once`): a second delivery of the event, or a second event
for the same reminder, sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from services.channels.logic.automatic_mail import send_once
from services.channels.logic.dependencies import Dependencies
from services.channels.logic.follow_tickets import answering_channel
from services.channels.logic.send_reply import address_reminder, deliverable, write_reminder
from services.channels.logic.ticket_thread import Thread
from shared.events.catalogue import ClientReminderDue

logger = logging.getLogger(__name__)


def remind_client(due: ClientReminderDue, deps: Dependencies) -> None:
    thread = deps.threads.thread(due.ticket_id) or Thread(
        ticket_id=due.ticket_id,
        number=due.number,
        subject=due.subject,
        requester=due.requester.email,
        department_id=due.department_id,
        channel_id=due.channel_id,
    )
    if not deliverable(thread.requester):
        return
    channel = answering_channel(thread, deps)
    if channel is None:
        logger.warning("no address to remind from", extra={"ticket": due.number})
        return
    outgoing = address_reminder(thread, channel, due.reminder_id)
    resolves_at = datetime.fromisoformat(due.resolves_at) if due.resolves_at else None
    secret = deps.policy.reply_tokens.secret

    def write() -> bytes:
        return write_reminder(thread, channel, outgoing, resolves_at, deps.clock, secret)

    send_once(f"reminder-{due.reminder_id}", thread, channel, outgoing, write, deps)
