"""The channels use cases wired to DynamoDB, the mail bucket, SES, the one clock and the
deployment's settings."""

from __future__ import annotations

from services.channels.data.channels import DynamoChannelRepository
from services.channels.data.dynamodb import DynamoInboundRepository
from services.channels.data.mail_bucket import S3MailStore
from services.channels.data.outbound import DynamoOutboundRepository
from services.channels.data.ses import SesMailSender
from services.channels.data.threads import DynamoThreadRepository
from services.channels.logic.dependencies import (
    Dependencies,
    HourlyLimits,
    MailPolicy,
    ReplyTokens,
)
from shared.clock import get_clock
from shared.secrets import resolve_secret
from shared.settings import get_settings


def dependencies() -> Dependencies:
    settings = get_settings()
    clock = get_clock()
    received_mail = DynamoInboundRepository(clock)
    # The key that signs reply-to addresses: from settings locally, by reference in AWS.
    secret = resolve_secret(settings.reply_token_secret, settings.reply_token_secret_ref)
    return Dependencies(
        channels=DynamoChannelRepository(),
        threads=DynamoThreadRepository(clock),
        inbound=received_mail,
        quarantine=received_mail,
        acknowledgements=received_mail,
        received_mail=received_mail,
        outbound_mail=DynamoOutboundRepository(clock),
        sender=SesMailSender(),
        mail_bucket=S3MailStore(),
        clock=clock,
        policy=MailPolicy(
            reply_tokens=ReplyTokens(secret, settings.reply_token_days),
            acknowledgements=HourlyLimits(
                per_sender=settings.acknowledgements_per_hour,
                per_channel=settings.acknowledgements_per_channel_per_hour,
            ),
            unknown_address=settings.unknown_address_mail,
            tickets_per_sender_per_hour=settings.tickets_per_sender_per_hour,
        ),
    )
