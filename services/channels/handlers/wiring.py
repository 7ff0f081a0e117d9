"""The channels use cases wired to DynamoDB, the mail bucket, SES, the one clock and the
deployment's settings."""

from __future__ import annotations

from datetime import timedelta

from services.channels.data.channels import DynamoChannelRepository
from services.channels.data.dynamodb import DynamoInboundRepository
from services.channels.data.mail_bucket import S3MailStore
from services.channels.data.notifications import DynamoNotificationStore
from services.channels.data.outbound import DynamoOutboundRepository
from services.channels.data.rating_requests import DynamoRatingRequestStore
from services.channels.data.ses import SesMailSender
from services.channels.data.tables import DepartmentsItem
from services.channels.data.threads import DynamoThreadRepository
from services.channels.logic.dependencies import (
    Dependencies,
    HourlyLimits,
    MailPolicy,
    RatingLinks,
    ReplyTokens,
)
from shared.clock import get_clock
from shared.department_store import DynamoDepartmentStore
from shared.secrets import resolve_secret
from shared.settings import get_settings


def dependencies() -> Dependencies:
    settings = get_settings()
    clock = get_clock()
    received_mail = DynamoInboundRepository(clock)
    # The key that signs reply-to addresses: from settings locally, by reference in AWS.
    secret = resolve_secret(settings.reply_token_secret, settings.reply_token_secret_ref)
    # Where mail to agents links: set, or stored by the deployment once the edge has an address.
    console_url = resolve_secret(settings.console_url, settings.console_url_ref)
    # Rating links lead to the edge, whose address the deployment stores once it has one.
    public_url = resolve_secret(settings.edge_url, settings.edge_url_ref)
    rating_links = (
        RatingLinks(secret, public_url.rstrip("/"))
        if settings.csat_mail and secret and public_url
        else None
    )
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
        notifications=DynamoNotificationStore(),
        departments=DynamoDepartmentStore(DepartmentsItem),
        rating_requests=DynamoRatingRequestStore(),
        policy=MailPolicy(
            reply_tokens=ReplyTokens(secret, settings.reply_token_days),
            acknowledgements=HourlyLimits(
                per_sender=settings.acknowledgements_per_hour,
                per_channel=settings.acknowledgements_per_channel_per_hour,
            ),
            unknown_address=settings.unknown_address_mail,
            tickets_per_sender_per_hour=settings.tickets_per_sender_per_hour,
            triage_department=settings.triage_department,
            console_url=console_url.rstrip("/") if console_url else None,
            mail_domain=settings.mail_domain,
            rating_links=rating_links,
            rating_delay=timedelta(minutes=settings.csat_delay),
        ),
    )
