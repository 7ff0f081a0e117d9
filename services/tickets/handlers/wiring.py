"""The tickets service's use cases wired to DynamoDB, the user pool, links to files by the edge, the
one clock and the deployment's settings; ticket search to its DynamoDB index (a large
installation wires OpenSearch here)."""

from __future__ import annotations

from services.tickets.data.cognito import CognitoAgentDirectory
from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.data.files import CloudFrontFileLinks
from services.tickets.data.macros_dynamodb import DynamoMacroStore
from services.tickets.data.ratings_dynamodb import DynamoRatingTallies
from services.tickets.data.search_dynamodb import DynamoSearchIndex
from services.tickets.logic.dependencies import Dependencies, DeskConfig
from services.tickets.logic.macros import MacroStore
from services.tickets.logic.pending_steps import AutomationTimings
from services.tickets.logic.ratings import RatingTallies
from services.tickets.logic.search import SearchIndex
from shared.clock import get_clock
from shared.secrets import resolve_secret
from shared.settings import get_settings


def dependencies() -> Dependencies:
    settings = get_settings()
    automations = AutomationTimings.of_days(
        settings.auto_close_after, settings.remind_after, settings.close_after_waiting
    )
    config = DeskConfig(
        settings.ticket_prefix,
        settings.ticket_number_width,
        settings.triage_department,
        automations,
    )
    return Dependencies(
        DynamoTicketRepository(get_clock(), automations),
        get_clock(),
        config,
        CognitoAgentDirectory(),
        CloudFrontFileLinks(),
    )


def search_index() -> SearchIndex:
    return DynamoSearchIndex()


def macro_store() -> MacroStore:
    return DynamoMacroStore()


def rating_tallies() -> RatingTallies:
    return DynamoRatingTallies()


def rating_secret() -> str | None:
    """What rating links are signed with: derived from the reply-token secret (from settings
    locally, by reference in AWS), as the channels service signs them."""
    settings = get_settings()
    return resolve_secret(settings.reply_token_secret, settings.reply_token_secret_ref)
