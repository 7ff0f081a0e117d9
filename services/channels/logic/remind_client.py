"""Reminding a client that a ticket waits on them: one mail in the ticket's thread, from the
address the ticket is answered from, when the tickets service says the wait has been long enough.

Like an acknowledgement it is claimed once (the first attempt recorded for the reminder takes it;
a second delivery of the event, or a second event for the same reminder, sends nothing), kept so
SES's reports about it find the ticket, and not retried: a reminder is a courtesy.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from services.channels.logic.delivery import Outbound, SendFailed, failure
from services.channels.logic.dependencies import Dependencies
from services.channels.logic.follow_tickets import answering_channel
from services.channels.logic.send_reply import address_reminder, deliverable, write_reminder
from services.channels.logic.ticket_thread import Thread
from shared.events.catalogue import ClientReminderDue
from shared.events.envelope import OutgoingEvent

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
    reminder = Outbound(
        ticket_id=due.ticket_id,
        ticket_message_id=None,
        ticket_message_at=None,
        message_id=outgoing.message_id,
        recipients=outgoing.recipients,
        automatic=f"reminder-{due.reminder_id}",
    )
    claimed = deps.outbound_mail.begin_attempt(reminder)
    if claimed.attempts > 1:
        return  # claimed before: reminded, or given up on
    reminder = replace(reminder, attempts=claimed.attempts)
    clock = deps.clock
    resolves_at = datetime.fromisoformat(due.resolves_at) if due.resolves_at else None
    try:
        raw = write_reminder(
            thread, channel, outgoing, resolves_at, clock, deps.policy.reply_tokens.secret
        )
        ses_message_id = deps.sender.send(channel.address, outgoing.recipients, raw)
    except SendFailed as error:
        logger.warning("reminder not sent", extra={"ticket": due.number, "why": error.reason})
        failed = replace(reminder, state="failed")
        event = OutgoingEvent.of(failure(failed, error, clock.now()), clock.now())
        deps.outbound_mail.finish(failed, [event])
        return
    deps.outbound_mail.finish(replace(reminder, state="sent"), [], ses_message_id)
    # The client's answer names the reminder: it must lead back to the ticket.
    deps.threads.save(thread, [outgoing.message_id])
