"""Webhook requests: verified, de-duplicated and queued; nothing is applied here, so the CRM gets
its answer quickly and a slow or failing apply is retried from the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.crm_sync.logic.connector import SignedRequest
from services.crm_sync.logic.dependencies import Connector, DeliveriesSeen, WorkQueue
from services.crm_sync.logic.work import change_messages
from shared.clock import Clock

# HubSpot retries a failed delivery for up to about a day; an id is remembered longer than that.
SEEN_RETENTION = timedelta(days=3)


@dataclass(frozen=True)
class Receipt:
    queued: int
    duplicates: int


def receive_webhook(
    request: SignedRequest,
    connector: Connector,
    seen: DeliveriesSeen,
    queue: WorkQueue,
    clock: Clock,
) -> Receipt:
    """Raises InvalidSignature (nothing is read or stored then) or MalformedWebhook."""
    now = clock.now()
    announced = connector.parse_webhook(request, now)
    changes = {c.event_id: c for c in announced}
    fresh = seen.unseen(connector.provider, list(changes))
    if fresh:
        # Queued before being marked: a crash between the two repeats an event, never loses one,
        # and applying one twice changes nothing.
        queue.send(change_messages(connector.provider, [changes[i] for i in fresh]))
        seen.mark_seen(connector.provider, fresh, now + SEEN_RETENTION)
    return Receipt(queued=len(fresh), duplicates=len(announced) - len(fresh))
