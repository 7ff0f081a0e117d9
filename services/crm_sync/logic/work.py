"""The work queue's messages: changes announced by webhooks, and requests for a sync run.

The webhook function only verifies, de-duplicates and queues; the function reading the queue
applies. A message that keeps failing ends in the queue's dead-letter queue; the nightly full
pass catches up whatever it held.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.crm_sync.logic.connector import Change

CHANGES_PER_MESSAGE = 100  # HubSpot sends at most 100 events per request


@dataclass(frozen=True)
class SyncRequest:
    full: bool = False
    requested_by: str = "schedule"


def change_messages(provider: str, changes: Sequence[Change]) -> list[str]:
    return [
        json.dumps(
            {
                "kind": "changes",
                "provider": provider,
                "changes": [_change(c) for c in changes[i : i + CHANGES_PER_MESSAGE]],
            }
        )
        for i in range(0, len(changes), CHANGES_PER_MESSAGE)
    ]


def sync_message(request: SyncRequest) -> str:
    return json.dumps({"kind": "sync", "full": request.full, "requested_by": request.requested_by})


def parse_message(body: str) -> SyncRequest | list[Change]:
    document = json.loads(body)
    if document["kind"] == "sync":
        return SyncRequest(bool(document["full"]), str(document["requested_by"]))
    return [
        Change(
            event_id=c["event_id"],
            kind=c["kind"],
            crm_id=c["crm_id"],
            occurred_at=datetime.fromisoformat(c["occurred_at"]),
            merged_ids=tuple(c["merged_ids"]),
        )
        for c in document["changes"]
    ]


def _change(change: Change) -> dict[str, Any]:
    return {
        "event_id": change.event_id,
        "kind": change.kind,
        "crm_id": change.crm_id,
        "occurred_at": change.occurred_at.isoformat(),
        "merged_ids": list(change.merged_ids),
    }
