"""Keeping the local data across restarts: tables, mail objects and how far the clock was moved
ahead, dumped on stop and loaded on start.

Outbox items are left out: the relay has published them by the time the stack stops, and loading
them again would only publish duplicates. Messages in flight in queues are not kept.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from shared.aws import client
from shared.clock import get_clock
from shared.events.outbox import OUTBOX_PREFIX
from shared.settings import Settings


def _table_names(settings: Settings) -> list[str]:
    prefix = f"{settings.resource_prefix}-{settings.stage}-"
    return [
        name for name in client("dynamodb").list_tables()["TableNames"] if name.startswith(prefix)
    ]


def dump(path: Path, settings: Settings) -> dict[str, int]:
    """Write every table and the mail bucket to one JSON file; returns counts per table."""
    dynamodb, s3 = client("dynamodb"), client("s3")
    snapshot: dict[str, Any] = {
        "tables": {},
        "mail": {},
        "clock_offset_seconds": get_clock().offset.total_seconds(),
    }
    counts = {}
    for table in _table_names(settings):
        items = [
            item
            for page in dynamodb.get_paginator("scan").paginate(TableName=table)  # local tool only
            for item in page["Items"]
            if not item.get("pk", {}).get("S", "").startswith(OUTBOX_PREFIX)
        ]
        snapshot["tables"][table] = items
        counts[table] = len(items)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.mail_bucket):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=settings.mail_bucket, Key=entry["Key"])["Body"].read()
            snapshot["mail"][entry["Key"]] = base64.b64encode(body).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(snapshot))
    temporary.replace(path)  # a crash while writing never leaves half a snapshot
    return counts


def load(path: Path, settings: Settings) -> int:
    """Load a snapshot written by `dump` into freshly created tables; returns items loaded."""
    if not path.exists():
        return 0
    snapshot = json.loads(path.read_text())
    dynamodb, s3 = client("dynamodb"), client("s3")
    existing = set(_table_names(settings))
    loaded = 0
    for table, items in snapshot["tables"].items():
        if table not in existing:
            continue  # a table that no longer exists in the definitions
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            dynamodb.batch_write_item(RequestItems={table: batch})
            loaded += len(batch)
    for key, body in snapshot["mail"].items():
        s3.put_object(Bucket=settings.mail_bucket, Key=key, Body=base64.b64decode(body))
    # Timers and due times were computed on the moved clock: time must not run back after a restart.
    get_clock().advance(timedelta(seconds=snapshot.get("clock_offset_seconds", 0)))
    return loaded
