"""Keeping up with tickets: remember each ticket's thread, mail agents' public replies, and
forget the mail of a requester whose personal data was erased."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    address_acknowledgement,
    address_reply,
    deliverable,
    read_attachments,
    sent_event,
    should_mail,
    write_acknowledgement,
    write_reply,
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

    def take_acknowledgement(self, sender: str, channel_id: str, limits: HourlyLimits) -> bool:
        """Count one acknowledgement to the sender from the channel this hour, for both at once;
        False (counting nothing) once either has had the hour's limit."""
        ...


@dataclass(frozen=True)
class HourlyLimits:
    """How many acknowledgements go out an hour: to one sender, and from one channel (a flood of
    forged senders must not make a channel a source of spam)."""

    per_sender: int
    per_channel: int


def remember_ticket(
    created: TicketCreated,
    threads: ThreadRepository,
    acknowledgements: Acknowledgements,
    channels: ChannelRepository,
    outbound_mail: OutboundRepository,
    sender: MailSender,
    clock: Clock,
    secret: str | None,
    hourly: HourlyLimits,
) -> None:
    """Keep the new ticket's thread; acknowledge it if the mail that opened it should be, within
    the `hourly` limits. The acknowledgement is kept, so SES's reports about
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
    if channel is None or not acknowledgements.take_acknowledgement(
        thread.requester, channel.id, hourly
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
    try:
        raw = write_acknowledgement(created.number, thread, channel, outgoing, clock, secret)
        ses_message_id = sender.send(channel.address, outgoing.recipients, raw)
    except SendFailed as error:
        # A courtesy, claimed once: it is not retried, and nothing about the ticket depends on
        # it. Still kept and announced as failed, like a reply that could not be sent.
        logger.warning("acknowledgement not sent", extra={"ticket": created.number, "why": error})
        failed = replace(outbound_mail.begin_attempt(acknowledgement), state="failed")
        event = OutgoingEvent.of(failure(failed, error, clock.now()), clock.now())
        outbound_mail.finish(failed, [event])
        return
    outbound_mail.record_sent(acknowledgement, ses_message_id)
    threads.save(thread, [outgoing.message_id])


class ReceivedMailIndex(Protocol):
    def mail_from(self, address: str) -> list[str]:
        """The SES ids of the mail received from `address` whose files may still be kept."""
        ...

    def forget_mail_from(self, address: str, ses_message_ids: list[str]) -> None:
        """Drop those mails from the index, and with them the address."""
        ...


class MailFiles(Protocol):
    def delete_mail(self, ses_message_ids: list[str]) -> None:
        """Delete the raw MIME of these mails and the attachments taken out of them."""
        ...


def follow_requester(
    updated: TicketUpdated,
    threads: ThreadRepository,
    received_mail: ReceivedMailIndex,
    mail_files: MailFiles,
) -> None:
    """The ticket's requester was replaced (their personal data was erased): the thread follows,
    so their address is kept nowhere here, and a subject tag checks the sender against the new
    requester. The mail they sent goes too: its raw MIME and its attachments."""
    for change in updated.changes:
        if change.field == "requester" and isinstance(change.new, dict) and change.new.get("email"):
            thread = threads.thread(updated.ticket_id)
            if thread is None:
                continue
            requester = str(change.new["email"])
            if thread.requester != requester and not deliverable(requester):
                # Before the thread forgets the address: a retry still knows whose mail it was.
                forget_mail_from(thread.requester, received_mail, mail_files)
            threads.save(replace(thread, requester=requester), [])


def forget_mail_from(address: str, received_mail: ReceivedMailIndex, mail_files: MailFiles) -> int:
    """Delete the files of every mail received from `address` (in any ticket, held or
    quarantined too); how many mails. The index goes last, so a failure part way is retried."""
    ses_message_ids = received_mail.mail_from(address)
    if ses_message_ids:
        mail_files.delete_mail(ses_message_ids)
        received_mail.forget_mail_from(address, ses_message_ids)
    return len(ses_message_ids)


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
    # Named by a message now (a note's too), mailed or not: the files must outlive the unnamed
    # uploads.
    files.keep_uploads([attachment.key for attachment in posted.attachments])
    files.keep_upload_folders(posted.note_uploads)
    if not should_mail(posted):
        return
    channel = channels.get(thread.channel_id) if thread.channel_id else None
    if channel is None and thread.department_id is not None:
        channel = channels.of_department(thread.department_id)
    if channel is None:
        logger.warning("no address to answer from", extra={"ticket": posted.number})
        return
    outgoing = address_reply(posted, thread, channel)
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

        def write() -> bytes:
            attached = read_attachments(posted.attachments, files)
            return write_reply(posted, thread, channel, outgoing, attached, clock, secret)

        state = _send(posted, outgoing, outbound, channel, outbound_mail, sender, write, clock)
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
    write: Callable[[], bytes],
    clock: Clock,
) -> OutboundState:
    """Write and send once more; record the outcome, or raise to be retried later while retrying
    may help."""
    try:
        ses_message_id = sender.send(channel.address, outgoing.recipients, write())
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
