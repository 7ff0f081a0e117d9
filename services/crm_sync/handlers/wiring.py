"""The crm_sync service's use cases wired to the configured CRM (its secrets resolved by reference
in AWS), DynamoDB, the work queue, the one clock and the deployment's settings."""

from __future__ import annotations

import time
from datetime import timedelta

from services.crm_sync.data.dynamodb import DynamoSyncRepository
from services.crm_sync.data.hubspot import HubSpotConnector
from services.crm_sync.data.work_queue import SqsWorkQueue
from services.crm_sync.logic.dependencies import Connector, Dependencies
from services.crm_sync.logic.sync import SyncEngine, SyncSettings
from shared.clock import get_clock
from shared.secrets import resolve_secret
from shared.settings import get_settings


def dependencies() -> Dependencies:
    settings = get_settings()
    clock = get_clock()
    repository = DynamoSyncRepository(clock)
    connector = _connector()
    engine = (
        None
        if connector is None
        else SyncEngine(
            connector,
            repository,
            clock,
            sleep=time.sleep,
            settings=SyncSettings(overlap=timedelta(seconds=settings.crm_poll_overlap_seconds)),
        )
    )
    return Dependencies(
        connector,
        repository,
        engine,
        SqsWorkQueue(),
        clock,
        settings.crm_provider,
        settings.crm_push_back,
    )


def _connector() -> Connector | None:
    """The configured CRM's connector; None when no CRM is connected."""
    settings = get_settings()
    if settings.crm_provider != "hubspot":
        return None
    return HubSpotConnector(
        settings.crm_hubspot_base_url,
        token=resolve_secret(settings.crm_hubspot_token, settings.crm_hubspot_token_ref),
        client_secret=resolve_secret(
            settings.crm_hubspot_client_secret, settings.crm_hubspot_client_secret_ref
        ),
        portal_id=settings.crm_hubspot_portal_id,
    )
