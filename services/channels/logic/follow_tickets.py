"""Keeping up with tickets: remember each ticket's thread, and mail agents' public replies."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from services.channels.logic.channel import Channel, ChannelRepository
from services.channels.logic.delivery import (
    Outbound,
    OutboundRepository,
    OutboundState,
    SendFailed,
    failure,
    gave_up,
)
from services.channels.logic.send_reply import (
    FileStore,
    MailSender,
    Outgoing,
    attach,
    compose_acknowledgement,
    compose_reply,
    sent_event,
    should_mail,
)
from services.channels.logic.threading import Thread, ThreadRepository
from shared.clock import Clock
from shared.events.catalogue import MessagePosted, TicketCreated, TicketUpdated
from shared.events.envelope import OutgoingEvent

logger = logging.getLogger(__name__)


class Acknowledgements(Protocol):
    def claim_acknowledgement(self, message_id: str, department_id: str | None) -> str | None:
        """The channel to acknowledge from, once, if the opening mail asked for it."""
        ...

    def take_acknowledgement(self, sender: str, limit: int) -> bool:
        """Count one acknowledgement to the sender this hour; False past the hour's limit."""
        ...


def remember_ticket(
    created: TicketCreated,
    threads: ThreadRepository,
    acknowledgements: Acknowledgements,
    channels: ChannelRepository,
    outbound_mail: OutboundRepository,
    sender: MailSender,
    clock: Clock,
    secret: str | None,
    hourly: int,
) -> None:
    """Keep the new ticket's thread; acknowledge it if the mail that opened it should be, at
    most `hourly` times an hour per sender. The acknowledgement is kept, so SES's reports about
    it reach the requester's contact (a hard bounce flags the address before an agent answers)."""
    thread = Thread(
        ticket_id=created.ticket_id,
        number=created.number,
        subject=created.subject,
        requester=created.requester.email,
        cc=created.cc,
        department_id=created.department_id,
        channel_id=created.channel_id,
    )
    threads.save(thread, [created.mail_message_id] if created.mail_message_id else [])
    if created.mail_message_id is None:
        return
    channel_id = acknowledgements.claim_acknowledgement(
        created.mail_message_id, created.department_id
    )
    channel = channels.get(channel_id) if channel_id else None
    # Counted only now, for a ticket the mail really opened: a redelivered mail costs no slot.
    if channel is None or not acknowledgements.take_acknowledgement(thread.requester, hourly):
        return
    outgoing = compose_acknowledgement(created.number, thread, channel, clock, secret)
    try:
        ses_message_id = sender.send(
            channel.address, outgoing.recipients, outgoing.message.as_bytes()
        )
    except SendFailed as error:
        # A courtesy, claimed once: it is not retried, and nothing about the ticket depends on it.
        logger.warning("acknowledgement not sent", extra={"ticket": created.number, "why": error})
        return
    acknowledgement = Outbound(
        ticket_id=created.ticket_id,
        ticket_message_id=None,
        ticket_message_at=None,
        message_id=outgoing.message_id,
        recipients=outgoing.recipients,
    )
    outbound_mail.record_sent(acknowledgement, ses_message_id)
    threads.save(thread, [outgoing.message_id])


def follow_requester(updated: TicketUpdated, threads: ThreadRepository) -> None:
    """The ticket's requester was replaced (their personal data was erased): the thread follows,
    so their address is kept nowhere here, and a subject tag checks the sender against the new
    requester."""
    for change in updated.changes:
        if change.field == "requester" and isinstance(change.new, dict) and change.new.get("email"):
            thread = threads.thread(updated.ticket_id)
            if thread is not None:
                threads.save(replace(thread, requester=str(change.new["email"])), [])


def follow_message(
    posted: MessagePosted,
    threads: ThreadRepository,
    channels: ChannelRepository,
    outbound_mail: OutboundRepository,
    sender: MailSender,
    files: FileStore,
    clock: Clock,
    secret: str | None,
) -> None:
    thread = threads.thread(posted.ticket_id) or Thread(
        ticket_id=posted.ticket_id,
        number=posted.number,
        subject=posted.subject,
        requester=posted.requester.email,
        cc=posted.cc,
        department_id=posted.department_id,
    )
    if posted.author.get("type") == "client" and posted.mail_message_id:
        threads.save(thread, [posted.mail_message_id])
        return
    if not should_mail(posted):
        return
    channel = channels.get(thread.channel_id) if thread.channel_id else None
    if channel is None and thread.department_id is not None:
        channel = channels.of_department(thread.department_id)
    if channel is None:
        logger.warning("no address to answer from", extra={"ticket": posted.number})
        return
    outgoing = compose_reply(posted, thread, channel, clock, secret)
    if not outgoing.recipients:
        logger.info("no address the reply can reach", extra={"ticket": posted.number})
        return
    outbound = outbound_mail.begin_attempt(
        Outbound(
            ticket_id=posted.ticket_id,
            ticket_message_id=posted.message_id,
            ticket_message_at=posted.created_at,
            message_id=outgoing.message_id,
            recipients=outgoing.recipients,
        )
    )
    state = outbound.state
    if state == "sending":
        state = _send(posted, outgoing, outbound, channel, outbound_mail, sender, files, clock)
    if state == "sent":
        # Also when an earlier attempt was sent and stored but stopped before this write.
        threads.save(thread, [outbound.message_id])


def _send(
    posted: MessagePosted,
    outgoing: Outgoing,
    outbound: Outbound,
    channel: Channel,
    outbound_mail: OutboundRepository,
    sender: MailSender,
    files: FileStore,
    clock: Clock,
) -> OutboundState:
    """Send once more; record the outcome, or raise to be retried later while retrying may help."""
    try:
        attach(outgoing.message, posted.attachments, files)
        ses_message_id = sender.send(
            channel.address, outgoing.recipients, outgoing.message.as_bytes()
        )
    except SendFailed as error:
        if not gave_up(outbound, error):
            raise
        logger.warning("reply not sent", extra={"ticket": posted.number, "why": error.reason})
        event = OutgoingEvent.of(failure(outbound, error, clock.now()), clock.now())
        outbound_mail.finish(replace(outbound, state="failed"), [event])
        return "failed"
    outbound_mail.finish(
        replace(outbound, state="sent"),
        [sent_event(posted, outgoing, channel.address, clock)],
        ses_message_id,
    )
    return "sent"
