"""The environment for running the services against moto inside this process (tests, benchmarks).

Fake credentials and region must be set before any client exists, and no endpoint override may
point elsewhere, so nothing can ever reach a real account.
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.core.responses import BaseResponse


def in_process_emulator(stage: str, log_level: str = "WARNING") -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="emulated",
        AWS_SECRET_ACCESS_KEY="emulated",  # noqa: S106 - any key works on the emulator
        AWS_DEFAULT_REGION="eu-west-1",
        # botocore would otherwise address some services by account-specific hosts moto ignores
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        HELPDESK_STAGE=stage,
        HELPDESK_REPLY_TOKEN_SECRET=secrets.token_hex(16),
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL=log_level,
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    atomic_dynamodb_requests()
    one_table_backup_per_transaction()


_DYNAMODB_LOCK = threading.Lock()


def atomic_dynamodb_requests() -> None:
    """Make the emulator apply one DynamoDB request at a time, as DynamoDB applies each request
    atomically. moto's in-memory tables have no locking: two concurrent `ADD` updates can read the
    same old value, which DynamoDB never does, and concurrency tests would fail on the emulator's
    account rather than ours. Our code still runs concurrently; only the emulator is serialized.
    Stream reads take the same turn: a table's stream never shows a transaction half applied."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        if getattr(handler.call_action, "atomic", False):
            continue
        unlocked = handler.call_action

        def call_action(self: BaseResponse, unlocked: Any = unlocked) -> object:
            with _DYNAMODB_LOCK:
                return unlocked(self)

        call_action.atomic = True  # type: ignore[attr-defined]
        handler.call_action = call_action  # type: ignore[method-assign]


def one_table_backup_per_transaction() -> None:
    """Make the emulator back a table up once per transaction, not once per item in it.

    Before a TransactWriteItems, moto deep-copies the whole table for every item of the request
    (100 items: 100 copies), so a large transaction on a large table crawls, and tests and
    benchmarks would measure moto. All those copies are taken before anything is written, so one
    per table is the same backup. Requests are applied one at a time (above), so the memo of a
    transaction is never shared with another.

    A cancelled transaction leaves no stream record, as in DynamoDB. moto applies the items of a
    cancelled transaction, then puts the backups in place of the tables; the stream of the table
    it replaced, which a reader may hold, would still show the records of those items: an outbox
    item of a write that never happened, published as an event that never was."""
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "one_backup", False):
        return
    backups: dict[int, Table] | None = None

    def deepcopy(value: object, memo: dict[int, object] | None = None) -> object:
        if backups is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in backups:
            backups[id(value)] = copy.deepcopy(value, memo)
        return backups[id(value)]

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[attr-defined,assignment]
    unpatched = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: models.DynamoDBBackend, transact_items: list[object]) -> None:
        nonlocal backups
        backups = {}
        streams = [
            (table.stream_shard, len(table.stream_shard.items))
            for table in self.tables.values()
            if table.stream_shard is not None
        ]
        try:
            unpatched(self, transact_items)  # type: ignore[arg-type]
        except Exception:
            for shard, length in streams:
                del shard.items[length:]
            raise
        finally:
            backups = None

    transact_write_items.one_backup = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
