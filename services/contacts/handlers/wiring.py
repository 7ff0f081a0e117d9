"""The contacts service's use cases wired to DynamoDB, the one clock and the deployment's
settings."""

from __future__ import annotations

from services.contacts.data.dynamodb import DynamoContactRepository
from services.contacts.logic.dependencies import Dependencies
from shared.clock import get_clock
from shared.settings import get_settings


def dependencies() -> Dependencies:
    return Dependencies(
        DynamoContactRepository(get_clock()), get_clock(), get_settings().triage_department
    )
