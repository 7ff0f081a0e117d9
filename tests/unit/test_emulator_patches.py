"""Each emulator patch: a canary that fails the day moto changes the code the patch relies on, and
the patch's effect. A canary that fails means: read the new moto code, check the patch still
holds (or is no longer needed), and record the new hash."""

from __future__ import annotations

import copy
import hashlib
import inspect
import threading
from collections.abc import Callable
from typing import Any

import pytest
from moto.dynamodb import models
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.events.utils import EventTemplateParser

from local_stack import emulator_patches
from shared.aws import client

MOTO = "5.2.5"


def _canary(patched: Callable[..., Any], parameters: list[str], recorded: str) -> None:
    """The moto code under `patched` (our wrappers unwrapped) is still what was recorded."""
    original = inspect.unwrap(patched)
    name = original.__qualname__
    assert list(inspect.signature(original).parameters) == parameters, (
        f"moto changed the signature of {name}; check the patch still holds and re-record"
    )
    digest = hashlib.sha256(inspect.getsource(original).encode()).hexdigest()
    assert digest == recorded, (
        f"moto changed {name} since {MOTO}; check the patch in local_stack/emulator_patches.py "
        f"still holds, then re-record its hash: {digest}"
    )


def test_canary_atomic_requests() -> None:
    # every DynamoDB and Streams request goes through call_action, which the patch wraps
    assert DynamoHandler.call_action is not inspect.unwrap(DynamoHandler.call_action)
    _canary(
        DynamoHandler.call_action,
        ["self"],
        "ce5f57cf83cde3400fa73a201929d18af92aaba2bb301d4d74609a1467b8daaf",
    )
    _canary(
        DynamoDBStreamsHandler.call_action,
        ["self"],
        "26076963fd17fd1a40be642032b5a8d90f159c19d01b80a5f0b0c839770ee0d6",
    )


def test_canary_transaction_backups_and_streams() -> None:
    # transact_write_items backs up tables with the module's `copy.deepcopy` before writing, and
    # rolls back by putting the backups in place (the patch makes both no-ops and backs up items);
    # stream records are appended to `items`
    source = inspect.getsource(inspect.unwrap(models.DynamoDBBackend.transact_write_items))
    assert "copy.deepcopy(" in source
    _canary(
        models.DynamoDBBackend.transact_write_items,
        ["self", "transact_items"],
        "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4",
    )
    _canary(
        StreamShard.add,
        ["self", "old", "new"],
        "357dc6da267e5dd7d46e18ee25d14b232a98679677906a2f02e4d454d1f11e03",
    )


def test_canary_event_paths() -> None:
    # moto imports the parser where it parses, so it finds the patched one there
    source = inspect.getsource(EventTemplateParser.parse)
    assert "from jsonpath_ng.ext import parse" in source
    _canary(
        EventTemplateParser.parse,
        ["input_template", "input_paths_map", "event"],
        "40a5a46a321811bb2643aaabb7b45c37f75644fcce9cb95524e729a43f0d97d7",
    )


def test_canary_partition_queries() -> None:
    # a Query on the table's key keeps, of `all_items()`, the items of its partition, then sorts
    # and pages them; an index Query goes its own way (the patch leaves it alone)
    source = inspect.getsource(inspect.unwrap(Table.query))
    assert "for item in self.all_items()" in source
    assert "item.hash_key == hash_key" in source
    _canary(
        Table.query,
        [
            "self",
            "hash_key",
            "range_comparison",
            "range_objs",
            "limit",
            "exclusive_start_key",
            "scan_index_forward",
            "projection_expressions",
            "index_name",
            "consistent_read",
            "filter_expression",
            "hash_key_conditions",
            "range_key_conditions",
            "filter_kwargs",
        ],
        "002b4d00be6df07cf37f6cbe0132e5eb89455ae12a8e79b23db3fb492450f21e",
    )
    _canary(
        Table.all_items,
        ["self"],
        "c80d2ee3c896acd0cab6ca35aaeae3ab3fb65858933f8a3403d4e027c240f31d",
    )


def test_an_event_path_is_parsed_once() -> None:
    import jsonpath_ng.ext

    assert jsonpath_ng.ext.parse("$.detail") is jsonpath_ng.ext.parse("$.detail")


def _table(name: str = "patched") -> str:
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return name


def _put(table: str, key: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": key}}}}


def _failing_check(table: str) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": {"pk": {"S": "absent"}},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


def _cancelled(table: str, keys: list[str]) -> None:
    with pytest.raises(client("dynamodb").exceptions.TransactionCanceledException):
        client("dynamodb").transact_write_items(
            TransactItems=[*(_put(table, k) for k in keys), _failing_check(table)]
        )


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("service", ["dynamodb", "dynamodbstreams"])
def test_requests_wait_their_turn(service: str) -> None:
    # Given a request being applied (it holds the emulator's turn)
    table = _table()
    finished = threading.Event()

    def request() -> None:
        if service == "dynamodb":
            client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "a"}})
        else:
            client("dynamodbstreams").list_streams(TableName=table)
        finished.set()

    with emulator_patches.DYNAMODB_LOCK:
        # When another request arrives, it waits
        other = threading.Thread(target=request)
        other.start()
        assert not finished.wait(0.3)
    # Then it is applied once the first is done
    other.join(5)
    assert finished.is_set()


@pytest.mark.usefixtures("aws")
def test_a_transaction_copies_no_table_and_a_cancelled_one_still_writes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = _table()
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "kept"}, "note": {"S": "before"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "doomed"}})
    copied: list[object] = []
    deepcopy = copy.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table):
            copied.append(value)
        return deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)
    # When a transaction writes 25 items to one table
    dynamodb.transact_write_items(TransactItems=[_put(table, f"item-{n}") for n in range(25)])
    # Then the table was not copied (unpatched: 25 copies of it, stream records and all)
    assert copied == []
    # And a cancelled transaction that put, updated and deleted items leaves each as it was
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                _put(table, "never"),
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET note = :after",
                        "ExpressionAttributeValues": {":after": {"S": "after"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "doomed"}}}},
                _failing_check(table),
            ]
        )
    assert copied == []

    def stored(key: str) -> dict[str, Any] | None:
        return dynamodb.get_item(TableName=table, Key={"pk": {"S": key}}).get("Item")

    assert stored("never") is None
    assert stored("kept") == {"pk": {"S": "kept"}, "note": {"S": "before"}}
    assert stored("doomed") == {"pk": {"S": "doomed"}}


@pytest.mark.usefixtures("aws")
def test_a_cancelled_transaction_leaves_no_stream_record() -> None:
    # Given a reader of the table's stream (as the outbox relay's poller is)
    table = _table()
    streams = client("dynamodbstreams")
    arn = client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    # When a transaction writing two items is cancelled
    _cancelled(table, ["ghost-1", "ghost-2"])
    # Then the reader sees no record of them (unpatched, moto shows both)
    assert streams.get_records(ShardIterator=iterator)["Records"] == []


def _keyed_table(name: str = "keyed") -> str:
    """A table with a sort key and an index on `group`, as the services' tables are."""
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in ("pk", "sk", "group")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_group",
                "KeySchema": [
                    {"AttributeName": "group", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "list-a"}}},
    {
        "KeyConditionExpression": "pk = :p AND sk < :s",
        "ExpressionAttributeValues": {":p": {"S": "list-a"}, ":s": {"S": "07"}},
        "ScanIndexForward": False,
        "Limit": 2,
    },
    {
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "n > :n",
        "ExpressionAttributeValues": {":p": {"S": "list-b"}, ":n": {"N": "4"}},
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "none"}}},
    {
        "IndexName": "by_group",
        "KeyConditionExpression": "#g = :g",
        "ExpressionAttributeNames": {"#g": "group"},
        "ExpressionAttributeValues": {":g": {"S": "odd"}},
        "ScanIndexForward": False,
    },
]


def _pages(table: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of the query, read to its end."""
    pages: list[dict[str, Any]] = []
    start = None
    while True:
        more: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        page = client("dynamodb").query(TableName=table, **query, **more)
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if start is None:
            return pages


@pytest.mark.usefixtures("aws")
def test_a_query_reads_its_partition_only_and_answers_as_unpatched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a table of two partitions, their sort keys interleaved
    table = _keyed_table()
    for n in range(10):
        item = {
            "pk": {"S": "list-a" if n % 3 else "list-b"},
            "sk": {"S": f"{n:02d}"},
            "group": {"S": "odd" if n % 2 else "even"},
            "n": {"N": str(n)},
        }
        client("dynamodb").put_item(TableName=table, Item=item)
    read: list[int] = []
    patched_all_items = Table.all_items

    def all_items(self: Table) -> Any:
        items = patched_all_items(self)
        read.append(len(items))
        return items

    monkeypatch.setattr(Table, "all_items", all_items)
    # When a query on the table's key reads list-a (6 items of 10)
    patched = [_pages(table, query) for query in QUERIES]
    # Then moto was handed that partition only (and the whole table for the index query)
    assert (read[0], read[-1]) == (6, 10)
    # And every query, on the table's key or on an index, answers as unpatched, page by page
    monkeypatch.setattr(Table, "query", inspect.unwrap(Table.query))
    assert [_pages(table, query) for query in QUERIES] == patched
    assert [[item["sk"]["S"] for item in page["Items"]] for page in patched[1]] == [
        ["05", "04"],
        ["02", "01"],
    ]
