"""What the CRM sync suites share: a fake HubSpot on loopback wired in through settings, the
engine built on it, the events the service put in its outbox, and webhook requests as API Gateway
hands them to the function. Holds no tests itself."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_stack.delivery import LambdaContext
from local_stack.system import LocalSystem
from services.crm_sync.data.dynamodb import DynamoSyncRepository
from services.crm_sync.data.hubspot import SEARCH_RESULT_CAP, HubSpotConnector
from services.crm_sync.data.tables import CrmSyncOutbox
from services.crm_sync.logic.sync import SyncEngine, SyncSettings
from shared.aws import client
from shared.clock import FixedClock
from shared.settings import get_settings
from tests.fakes.hubspot import CLIENT_SECRET, TOKEN, FakeHubSpot

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PORTAL = "62515"
WEBHOOK_PATH = "/crm/webhooks/hubspot"
PUBLIC_HOST = "api.helpdesk.example.com"


@pytest.fixture
def hubspot(system: LocalSystem, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHubSpot]:
    """The fake, and the service's settings pointing at it."""
    with FakeHubSpot() as fake:
        for name, value in {
            "HELPDESK_CRM_PROVIDER": "hubspot",
            "HELPDESK_CRM_HUBSPOT_BASE_URL": fake.url,
            "HELPDESK_CRM_HUBSPOT_TOKEN": TOKEN,
            "HELPDESK_CRM_HUBSPOT_CLIENT_SECRET": CLIENT_SECRET,
            "HELPDESK_CRM_HUBSPOT_PORTAL_ID": PORTAL,
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


class Engine:
    """The engine on the fake, with a clock the test moves and a sleeper that only records."""

    def __init__(
        self,
        fake: FakeHubSpot,
        now: datetime = T0,
        page_budget: int = 100,
        window_limit: int = SEARCH_RESULT_CAP,
    ) -> None:
        self.clock = FixedClock(now)
        self.slept: list[float] = []
        self.connector = HubSpotConnector(fake.url, TOKEN, CLIENT_SECRET, PORTAL, window_limit)
        self.repository = DynamoSyncRepository(self.clock)
        self.engine = SyncEngine(
            self.connector,
            self.repository,
            self.clock,
            self.slept.append,
            SyncSettings(overlap=timedelta(minutes=5), page_budget=page_budget),
        )


def emitted(kind: str | None = None) -> list[dict[str, Any]]:
    """The `data` of the events the service put in its outbox (of one kind), oldest first."""
    found = []
    for item in CrmSyncOutbox.scan(CrmSyncOutbox.pk.startswith("OUTBOX#")):
        detail = json.loads(item.detail)
        if kind is None or item.detail_type == kind:
            found.append((detail["occurred_at"], item.detail_type, detail["data"]))
    return [{"type": t, **data} for _, t, data in sorted(found, key=lambda f: f[0])]


def upserted_ids() -> list[str]:
    return sorted(e["crm_id"] for e in emitted("CrmContactUpserted"))


def webhook_event(
    body: bytes,
    headers: dict[str, str],
    *,
    encode: bool = False,
    query: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The REST proxy event API Gateway hands the function for a webhook request."""
    return {
        "resource": WEBHOOK_PATH,
        "path": WEBHOOK_PATH,
        "httpMethod": "POST",
        "headers": {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https", **headers},
        "multiValueHeaders": {},
        "queryStringParameters": None if query is None else {k: v[0] for k, v in query.items()},
        "multiValueQueryStringParameters": query,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": WEBHOOK_PATH,
            "httpMethod": "POST",
            "path": WEBHOOK_PATH,
            "requestId": str(uuid.uuid4()),
            "stage": "prod",
        },
        "body": base64.b64encode(body).decode() if encode else body.decode(),
        "isBase64Encoded": encode,
    }


def call_webhook(system: LocalSystem, event: dict[str, Any]) -> tuple[int, Any]:
    answer = system.apps["crm_sync"](event, LambdaContext("crm_sync-api"))
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None


def queued() -> list[dict[str, Any]]:
    """The messages waiting in the work queue (they stay there: read without deleting)."""
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=get_settings().queue_name("crm_sync", "work"))["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]
