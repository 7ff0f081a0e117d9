"""Keeping up with tickets: remember each ticket's thread, mail agents' public replies, and
forget the mail of a requester whose personal data was erased."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from services.channels.logic.channel import Channel
from services.channels.logic.delivery import Outbound, OutboundState, SendFailed, failure, gave_up
from services.channels.logic.dependencies import Dependencies
from services.channels.logic.send_reply import (
    Outgoing,
    address_acknowledgement,
    address_reply,
    deliverable,
    read_attachments,
    sent_event,
    should_mail,
    write_acknowledgement,
    write_reply,
)
from services.channels.logic.ticket_thread import Thread
from shared.events.catalogue import MessagePosted, TicketCreated, TicketUpdated
from shared.events.envelope import OutgoingEvent

logger = logging.getLogger(__name__)


def remember_ticket(created: TicketCreated, deps: Dependencies) -> None:
    """Keep the new ticket's thread; acknowledge it if the mail that opened it should be, within
    the hourly limits. The acknowledgement is kept, so SES's reports about it reach the
    requester's contact (a hard bounce flags the address before an agent answers)."""
    thread = Thread(
        ticket_id=created.ticket_id,
        number=created.number,
        subject=created.subject,
        requester=created.requester.email,
        cc=created.cc,
        department_id=created.department_id,
        channel_id=created.channel_id,
    )
    deps.threads.save(thread, [created.mail_message_id] if created.mail_message_id else [])
    # An agent's files on the first message are named now: they must outlive unnamed uploads.
    deps.mail_bucket.keep_uploads(created.uploads)
    if created.mail_message_id is None:
        return
    channel_id = deps.acknowledgements.claim_acknowledgement(
        created.mail_message_id, created.department_id
    )
    channel = deps.channels.get(channel_id) if channel_id else None
    # Counted only now, for a ticket the mail really opened: a redelivered mail costs no slot.
    if channel is None or not deps.acknowledgements.take_acknowledgement(
        thread.requester, channel.id, deps.policy.acknowledgements
    ):
        return
    outgoing = address_acknowledgement(thread, channel)
    acknowledgement = Outbound(
        ticket_id=created.ticket_id,
        ticket_message_id=None,
        ticket_message_at=None,
        message_id=outgoing.message_id,
        recipients=outgoing.recipients,
    )
    clock, secret = deps.clock, deps.policy.reply_tokens.secret
    try:
        raw = write_acknowledgement(created.number, thread, channel, outgoing, clock, secret)
        ses_message_id = deps.sender.send(channel.address, outgoing.recipients, raw)
    except SendFailed as error:
        # A courtesy, claimed once: it is not retried, and nothing about the ticket depends on
        # it. Still kept and announced as failed, like a reply that could not be sent.
        logger.warning("acknowledgement not sent", extra={"ticket": created.number, "why": error})
        failed = replace(deps.outbound_mail.begin_attempt(acknowledgement), state="failed")
        event = OutgoingEvent.of(failure(failed, error, clock.now()), clock.now())
        deps.outbound_mail.finish(failed, [event])
        return
    deps.outbound_mail.record_sent(acknowledgement, ses_message_id)
    deps.threads.save(thread, [outgoing.message_id])


def follow_requester(updated: TicketUpdated, deps: Dependencies) -> None:
    """The ticket's requester was replaced (their personal data was erased): the thread follows,
    so their address is kept nowhere here, and a subject tag checks the sender against the new
    requester. The mail they sent goes too: its raw MIME and its attachments."""
    for change in updated.changes:
        if change.field == "requester" and isinstance(change.new, dict) and change.new.get("email"):
            thread = deps.threads.thread(updated.ticket_id)
            if thread is None:
                continue
            requester = str(change.new["email"])
            if thread.requester != requester and not deliverable(requester):
                # Before the thread forgets the address: a retry still knows whose mail it was.
                _forget_mail_from(thread.requester, deps)
            deps.threads.save(replace(thread, requester=requester), [])


def _forget_mail_from(address: str, deps: Dependencies) -> None:
    """Delete the files of every mail received from `address` (in any ticket, held or
    quarantined too). The index goes last, so a failure part way is retried."""
    ses_message_ids = deps.received_mail.mail_from(address)
    if ses_message_ids:
        deps.mail_bucket.delete_mail(ses_message_ids)
        deps.received_mail.forget_mail_from(address, ses_message_ids)


def follow_message(posted: MessagePosted, deps: Dependencies) -> None:
    """Keep a client's mail in the thread; mail an agent's public reply."""
    thread = deps.threads.thread(posted.ticket_id) or Thread(
        ticket_id=posted.ticket_id,
        number=posted.number,
        subject=posted.subject,
        requester=posted.requester.email,
        cc=posted.cc,
        department_id=posted.department_id,
    )
    if posted.author.get("type") == "client" and posted.mail_message_id:
        deps.threads.save(thread, [posted.mail_message_id])
        return
    # Named by a message now (a note's too), mailed or not: the files must outlive the unnamed
    # uploads.
    deps.mail_bucket.keep_uploads([attachment.key for attachment in posted.attachments])
    deps.mail_bucket.keep_upload_folders(posted.note_uploads)
    if not should_mail(posted):
        return
    channel = answering_channel(thread, deps)
    if channel is None:
        logger.warning("no address to answer from", extra={"ticket": posted.number})
        return
    outgoing = address_reply(posted, thread, channel)
    if not outgoing.recipients:
        logger.info("no address the reply can reach", extra={"ticket": posted.number})
        return
    outbound = deps.outbound_mail.begin_attempt(
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

        def write() -> bytes:
            attached = read_attachments(posted.attachments, deps.mail_bucket)
            secret = deps.policy.reply_tokens.secret
            return write_reply(posted, thread, channel, outgoing, attached, deps.clock, secret)

        state = _send(posted, outgoing, outbound, channel, write, deps)
    if state == "sent":
        # Also when an earlier attempt was sent and stored but stopped before this write.
        deps.threads.save(thread, [outbound.message_id])


def answering_channel(thread: Thread, deps: Dependencies) -> Channel | None:
    """The address a ticket's mail goes out from: the channel it came in by, else its
    department's."""
    channel = deps.channels.get(thread.channel_id) if thread.channel_id else None
    if channel is None and thread.department_id is not None:
        channel = deps.channels.of_department(thread.department_id)
    return channel


def _send(
    posted: MessagePosted,
    outgoing: Outgoing,
    outbound: Outbound,
    channel: Channel,
    write: Callable[[], bytes],
    deps: Dependencies,
) -> OutboundState:
    """Write and send once more; record the outcome, or raise to be retried later while retrying
    may help."""
    clock = deps.clock
    try:
        ses_message_id = deps.sender.send(channel.address, outgoing.recipients, write())
    except SendFailed as error:
        if not gave_up(outbound, error):
            raise
        logger.warning("reply not sent", extra={"ticket": posted.number, "why": error.reason})
        event = OutgoingEvent.of(failure(outbound, error, clock.now()), clock.now())
        deps.outbound_mail.finish(replace(outbound, state="failed"), [event])
        return "failed"
    deps.outbound_mail.finish(
        replace(outbound, state="sent"),
        [sent_event(posted, outgoing, channel.address, clock)],
        ses_message_id,
    )
    return "sent"
