"""Where moto behaves unlike AWS in a way our tests and benchmarks would notice, and how we make it
behave. Every patch here is applied once per process (`apply_all`) by the local stack, the tests
and the benchmarks; tests/unit/test_emulator_patches.py fails the day moto changes the code a patch
relies on, and shows what each patch does.
"""

from __future__ import annotations

import copy
import functools
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

DYNAMODB_LOCK = threading.Lock()
_applied: set[str] = set()


def apply_all() -> None:
    atomic_dynamodb_requests()
    one_table_backup_per_transaction()
    no_stream_records_of_cancelled_transactions()


def _once(patch: str) -> bool:
    """True the first time `patch` is asked for: a second application would wrap the wrapper."""
    if patch in _applied:
        return False
    _applied.add(patch)
    return True


def atomic_dynamodb_requests() -> None:
    """moto's in-memory tables have no locking: two concurrent `ADD` updates can read the same old
    value, and a thread can read a transaction half applied, which DynamoDB never allows, so
    concurrency tests would fail on the emulator's account rather than ours.

    The patch makes moto's DynamoDB and DynamoDB Streams handlers (`call_action`) apply one request
    at a time, as DynamoDB applies each request atomically; a stream never shows a transaction
    half applied. Our code still runs concurrently; only the emulator is serialized."""
    if not _once("atomic_dynamodb_requests"):
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        unlocked = handler.call_action

        @functools.wraps(unlocked)
        def call_action(self: BaseResponse, unlocked: Any = unlocked) -> object:
            with DYNAMODB_LOCK:
                return unlocked(self)

        handler.call_action = call_action  # type: ignore[method-assign]


# The backups of the transaction being applied, by table; None outside a transaction.
_backups: dict[int, Table] | None = None
# While set, a transaction backs up nothing (see `no_transaction_backups`).
_skip_backups = False


def one_table_backup_per_transaction() -> None:
    """Before a TransactWriteItems, moto deep-copies the whole table once for every item of the
    request (100 items: 100 copies), so a large transaction on a large table crawls, and tests and
    benchmarks would measure moto.

    The patch makes it copy each table once per transaction: all those copies are taken before
    anything is written, so one is the same backup. Requests are applied one at a time (above), so
    one transaction's backups are never shared with another."""
    if not _once("one_table_backup_per_transaction"):
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    def deepcopy(value: object, memo: dict[int, object] | None = None) -> object:
        if _backups is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if _skip_backups:
            return value
        if id(value) not in _backups:
            _backups[id(value)] = copy.deepcopy(value, memo)
        return _backups[id(value)]

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[attr-defined,assignment]
    unpatched = models.DynamoDBBackend.transact_write_items

    @functools.wraps(unpatched)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[Any]) -> None:
        global _backups
        _backups = {}
        try:
            unpatched(self, transact_items)
        finally:
            _backups = None

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


@contextmanager
def no_transaction_backups() -> Iterator[None]:
    """Meanwhile, transactions back up no table at all: for a test that writes thousands of items
    and cancels no transaction (a cancelled one would not be rolled back)."""
    global _skip_backups
    _skip_backups = True
    try:
        yield
    finally:
        _skip_backups = False


def no_stream_records_of_cancelled_transactions() -> None:
    """moto applies the items of a transaction one by one, and when one fails puts its backups in
    place of the tables; the stream of a table it replaced, which a reader may hold, still shows
    the records of the items written: an outbox item of a write that never happened, published as
    an event that never was.

    The patch makes a cancelled transaction leave no stream record, as in DynamoDB: it forgets the
    records the transaction added to every stream."""
    if not _once("no_stream_records_of_cancelled_transactions"):
        return
    from moto.dynamodb import models

    unpatched = models.DynamoDBBackend.transact_write_items

    @functools.wraps(unpatched)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[Any]) -> None:
        streams = [
            (table.stream_shard, len(table.stream_shard.items))
            for table in self.tables.values()
            if table.stream_shard is not None
        ]
        try:
            unpatched(self, transact_items)
        except Exception:
            for shard, length in streams:
                del shard.items[length:]
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
