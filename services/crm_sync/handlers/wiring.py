"""The service's parts, built from settings: the connector of the configured CRM (its secrets
resolved by reference in AWS), the repository, the engine."""

from __future__ import annotations

import time
from datetime import timedelta

from services.crm_sync.data.dynamodb import DynamoSyncRepository
from services.crm_sync.data.hubspot import HubSpotConnector
from services.crm_sync.logic import sync
from services.crm_sync.logic.connector import Connector
from shared.clock import get_clock
from shared.secrets import resolve_secret
from shared.settings import get_settings


def connector() -> Connector | None:
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


def repository() -> DynamoSyncRepository:
    return DynamoSyncRepository(get_clock())


def engine(crm: Connector) -> sync.SyncEngine:
    overlap = get_settings().crm_poll_overlap_seconds
    return sync.SyncEngine(
        crm,
        repository(),
        get_clock(),
        sleep=time.sleep,
        settings=sync.SyncSettings(overlap=timedelta(seconds=overlap)),
    )
