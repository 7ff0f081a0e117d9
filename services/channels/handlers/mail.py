"""The function SES invokes after its S3 action stored a received mail."""

from __future__ import annotations

from typing import Any

from chalice import Chalice

from services.channels.data.channels import DynamoChannelRepository
from services.channels.data.dynamodb import DynamoInboundRepository
from services.channels.data.mail_bucket import S3MailStore
from services.channels.data.threads import DynamoThreadRepository
from services.channels.logic.receive_mail import Policies, receive_mail
from services.channels.logic.threading import ReplyTokens
from shared.clock import get_clock
from shared.secrets import resolve_secret
from shared.settings import get_settings


def mail_policies() -> Policies:
    """The deployment's choices about mail, from settings (real mail and the dry run share them)."""
    settings = get_settings()
    return Policies(
        reply_tokens=ReplyTokens(reply_secret(), settings.reply_token_days),
        unknown_address=settings.unknown_address_mail,
        tickets_per_sender_per_hour=settings.tickets_per_sender_per_hour,
    )


def reply_secret() -> str | None:
    """The key that signs reply-to addresses: from settings locally, by reference in AWS."""
    settings = get_settings()
    return resolve_secret(settings.reply_token_secret, settings.reply_token_secret_ref)


def receive_mail_function(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repository, channels = DynamoInboundRepository(get_clock()), DynamoChannelRepository()
    threads = DynamoThreadRepository(get_clock())
    policies = mail_policies()
    new = [
        receive_mail(r["ses"], repository, channels, threads, S3MailStore(), get_clock(), policies)
        for r in event["Records"]
    ]
    # SES's Lambda action ignores the answer for asynchronous invocation; it is for logs and tests.
    return {"received": sum(new), "duplicates": sum(1 for n in new if n == 0)}


def register_mail(app: Chalice) -> Any:
    """Add the function SES invokes. Returns it: the app module must hold it as
    `receive_mail_function`, the handler Lambda looks up."""
    return app.lambda_function(name="receive_mail")(receive_mail_function)
