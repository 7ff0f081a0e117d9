"""The channels service's event consumers: ticket threads, replies to mail out, and the mail of
erased requesters."""

from __future__ import annotations

from services.channels.data.channels import DynamoChannelRepository
from services.channels.data.dynamodb import DynamoInboundRepository
from services.channels.data.mail_bucket import S3MailStore
from services.channels.data.outbound import DynamoOutboundRepository
from services.channels.data.ses import SesMailSender
from services.channels.data.threads import DynamoThreadRepository
from services.channels.handlers.mail import reply_secret
from services.channels.logic.follow_tickets import (
    HourlyLimits,
    follow_message,
    follow_requester,
    remember_ticket,
)
from shared.clock import get_clock
from shared.events.catalogue import MessagePosted, TicketCreated, TicketUpdated
from shared.events.consumer import EventConsumer
from shared.events.envelope import Envelope
from shared.settings import get_settings

consumer = EventConsumer(lambda: get_settings().idempotency_table("channels"))


@consumer.on(TicketCreated)
def on_ticket_created(data: TicketCreated, envelope: Envelope) -> None:
    remember_ticket(
        data,
        DynamoThreadRepository(get_clock()),
        DynamoInboundRepository(get_clock()),
        DynamoChannelRepository(),
        DynamoOutboundRepository(get_clock()),
        SesMailSender(),
        get_clock(),
        reply_secret(),
        HourlyLimits(
            per_sender=get_settings().acknowledgements_per_hour,
            per_channel=get_settings().acknowledgements_per_channel_per_hour,
        ),
    )


@consumer.on(TicketUpdated)
def on_ticket_updated(data: TicketUpdated, envelope: Envelope) -> None:
    follow_requester(
        data,
        DynamoThreadRepository(get_clock()),
        DynamoInboundRepository(get_clock()),
        S3MailStore(),
    )


@consumer.on(MessagePosted)
def on_message_posted(data: MessagePosted, envelope: Envelope) -> None:
    follow_message(
        data,
        DynamoThreadRepository(get_clock()),
        DynamoChannelRepository(),
        DynamoOutboundRepository(get_clock()),
        SesMailSender(),
        S3MailStore(),
        get_clock(),
        reply_secret(),
    )
