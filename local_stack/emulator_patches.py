"""Where moto behaves unlike AWS in a way our tests and benchmarks would notice, and how we make it
behave. Every patch here is applied once per process (`apply_all`) by the local stack, the tests
and the benchmarks; tests/unit/test_emulator_patches.py fails the day moto changes the code a patch
relies on, and shows what each patch does.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

DYNAMODB_LOCK = threading.Lock()
_applied: set[str] = set()


def apply_all() -> None:
    atomic_dynamodb_requests()
    item_backups_per_transaction()
    no_stream_records_of_cancelled_transactions()
    event_paths_parsed_once()
    partition_queries()


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


# True while a transaction is applied: moto's backups of whole tables are then not taken.
_in_transaction = False


def item_backups_per_transaction() -> None:
    """Before a TransactWriteItems, moto deep-copies each table it names once for every item of
    the request, stream records and all, so a transaction costs more the longer the emulator runs:
    tests, benchmarks and the local stack would measure moto.

    The patch backs up only the items the transaction names, and on cancellation puts them back
    (or removes those that did not exist); moto's own rollback then puts the same, untouched, table
    objects back in place. Requests are applied one at a time (above), so nothing else writes
    meanwhile."""
    if not _once("item_backups_per_transaction"):
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    def deepcopy(value: object, memo: dict[int, object] | None = None) -> object:
        if _in_transaction and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[attr-defined,assignment]
    unpatched = models.DynamoDBBackend.transact_write_items

    @functools.wraps(unpatched)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[Any]) -> None:
        global _in_transaction
        backups = [
            (table, key, copy.deepcopy(_current(self, table, key)))
            for table, key in _named_items(self, transact_items)
        ]
        _in_transaction = True
        try:
            unpatched(self, transact_items)
        except Exception:
            for table, key, item in backups:
                if item is not None:
                    self.put_item(table, item.to_json()["Attributes"])
                elif _current(self, table, key) is not None:
                    self.delete_item(table, key)
            raise
        finally:
            _in_transaction = False

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _current(backend: DynamoDBBackend, table: str, key: Any) -> Any:
    """The item stored under `key`; None if there is none, or the key is one moto refuses (the
    transaction then fails on it, writing nothing)."""
    try:
        return backend.get_item(table, key)
    except Exception:
        return None


def _named_items(backend: DynamoDBBackend, transact_items: list[Any]) -> list[tuple[str, Any]]:
    """(table, key) of every item a transaction names, in tables that exist."""
    named = []
    for item in transact_items:
        operation, request = next(iter(item.items()))
        name = request.get("TableName")
        if name not in backend.tables:
            continue
        if operation == "Put":
            table = backend.tables[name]
            attributes = [table.hash_key_attr, table.range_key_attr]
            key = {a: request["Item"][a] for a in attributes if a and a in request["Item"]}
        else:
            key = request.get("Key", {})
        named.append((name, key))
    return named


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


def event_paths_parsed_once() -> None:
    """moto's EventBridge parses the JSONPaths of a target's input (eight by default) for every
    event it delivers, and each parse builds a new parser, grammar tables and all: most of the
    local stack's time under a burst of events.

    The patch parses each path once: the parsed expressions hold no state of an event."""
    if not _once("event_paths_parsed_once"):
        return
    import jsonpath_ng.ext

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


# The table and partition a Query of this thread reads, while moto answers it.
_querying = threading.local()


def partition_queries() -> None:
    """moto answers a Query on a table's key by sorting every item of the table and keeping the
    partition's, DynamoDB by reading the one partition: a posting list of the search index would
    cost as much as the whole table, so benchmarks and the local stack would time moto, not the
    design.

    The patch hands moto's Query (on the table's own key, not an index) only the partition it
    names; moto then filters, sorts and pages it as before, so the answers are the same."""
    if not _once("partition_queries"):
        return
    from moto.dynamodb.models.table import Table

    unpatched_query = Table.query
    unpatched_all_items = Table.all_items
    parameters = inspect.signature(unpatched_query)

    @functools.wraps(unpatched_query)
    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        named = parameters.bind(self, *args, **kwargs).arguments
        if named.get("index_name") is not None or not self.range_key_attr:
            return unpatched_query(self, *args, **kwargs)
        partition = self.items.get(named["hash_key"], {})  # `get`: the defaultdict grows none
        _querying.partition = (self, sorted(partition.values(), key=lambda item: item.range_key))
        try:
            return unpatched_query(self, *args, **kwargs)
        finally:
            del _querying.partition

    @functools.wraps(unpatched_all_items)
    def all_items(self: Table) -> list[Item]:
        table, partition = getattr(_querying, "partition", (None, []))
        return partition if table is self else unpatched_all_items(self)

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
