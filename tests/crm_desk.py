"""The crm_sync service's use cases on the in-memory storage and work queue, with the HubSpot
connector answered in-process by the fake HubSpot: runs of the sync engine (each as a new process
would start it, on the same storage, at a time the test sets), webhook requests signed as HubSpot
signs them and applied from the queue, and the push back of contacts and tickets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from services.crm_sync.data.hubspot import SEARCH_RESULT_CAP, HubSpotConnector
from services.crm_sync.logic.connector import SignedRequest
from services.crm_sync.logic.dependencies import Dependencies
from services.crm_sync.logic.repository import Run
from services.crm_sync.logic.sync import SyncEngine, SyncSettings
from services.crm_sync.logic.webhooks import Receipt, receive_webhook
from services.crm_sync.logic.work import parse_message
from shared.clock import FixedClock
from tests.fakes.crm_sync import FakeCrmSyncRepository, FakeWorkQueue, hubspot_connector
from tests.fakes.hubspot import FakeHubSpot, signed_headers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HUBSPOT = "hubspot"
WEBHOOK_URL = "https://api.helpdesk.example.com/crm/webhooks/hubspot"


class Crm:
    """The service on one fake HubSpot; its clock moves where each step says."""

    def __init__(self, hubspot: FakeHubSpot, window_limit: int = SEARCH_RESULT_CAP) -> None:
        self.hubspot = hubspot
        self.clock = FixedClock(T0)
        self.slept: list[float] = []
        self.connector: HubSpotConnector = hubspot_connector(hubspot, window_limit)
        self.repository = FakeCrmSyncRepository(self.clock)
        self.queue = FakeWorkQueue()
        self._applied = 0  # how many queued messages the work function has applied

    def at(self, moment: datetime) -> Crm:
        self.clock.advance(moment - self.clock.now())
        return self

    def engine(self, page_budget: int = 100) -> SyncEngine:
        """The engine as a new process builds it."""
        return SyncEngine(
            self.connector,
            self.repository,
            self.clock,
            self.slept.append,
            SyncSettings(overlap=timedelta(minutes=5), page_budget=page_budget),
        )

    def run(self, at: datetime = T0, *, full: bool = False, page_budget: int = 100) -> Run:
        return self.at(at).engine(page_budget).run(full=full)

    def deps(self, push_back: bool = True) -> Dependencies:
        return Dependencies(
            self.connector,
            self.repository,
            self.engine(),
            self.queue,
            self.clock,
            HUBSPOT,
            push_back,
        )

    # --- webhooks ---------------------------------------------------------------------------------

    def webhook(self, *events: dict[str, Any], at: datetime | None = None) -> Receipt:
        """A request of HubSpot's events, signed now, as the webhook function receives it."""
        if at is not None:
            self.at(at)
        body = json.dumps(list(events)).encode()
        headers = signed_headers(WEBHOOK_URL, body, self.clock.now())
        request = SignedRequest(
            "POST", WEBHOOK_URL, {k.lower(): v for k, v in headers.items()}, body
        )
        return receive_webhook(request, self.connector, self.repository, self.queue, self.clock)

    def apply_queued(self) -> None:
        """The work function: apply the changes queued since it last ran."""
        for body, _ in self.queue.sent[self._applied :]:
            changes = parse_message(body)
            assert isinstance(changes, list), "only webhook changes are queued here"
            self.engine().apply_changes(changes)
        self._applied = len(self.queue.sent)

    # --- what it announced ------------------------------------------------------------------------

    def emitted(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The data of the events in the outbox (of one kind), oldest first."""
        return [
            {"type": e.detail_type, **e.envelope.data}
            for e in self.repository.outbox
            if kind in (None, e.detail_type)
        ]

    def upserted_ids(self) -> list[str]:
        return sorted(e["crm_id"] for e in self.emitted("CrmContactUpserted"))
