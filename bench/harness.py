"""What every benchmark shares: emulated AWS in-process, DynamoDB call counting, medians, and a
meter of what AWS would bill for the calls made (bench/bench_cost.py)."""

from __future__ import annotations

import json
import math
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from local_stack.environment import in_process_emulator, quiet

in_process_emulator(stage="bench", log_level="ERROR")
quiet()  # stdout is the table only

import botocore.client
from moto import mock_aws

from bench.costs import LAMBDA_MEMORY_GB, Usage
from local_stack.delivery import Function
from local_stack.gateway import Gateway
from local_stack.provision import provision
from local_stack.system import LocalSystem
from local_stack.tokens import DevTokens
from shared.aws import client, reset_process_state
from shared.clock import get_clock
from shared.settings import get_settings

T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    what: str
    value: str
    target: str


def print_table(rows: list[Row]) -> None:
    widths = [
        max(len(r[i]) for r in [("what", "value", "target"), *map(_cells, rows)]) for i in range(3)
    ]
    for cells in [("what", "value", "target"), *map(_cells, rows)]:
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))


def _cells(row: Row) -> tuple[str, str, str]:
    return row.what, row.value, row.target


@contextmanager
def emulated_system() -> Iterator[LocalSystem]:
    with mock_aws():
        reset_process_state()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            provision(get_settings())
        yield LocalSystem(get_settings())
    reset_process_state()
    get_clock.cache_clear()  # a benchmark that moved the clock leaves the next one the real time


class DynamoCalls:
    """Counts DynamoDB API calls (round trips) made by boto3 and pynamodb alike."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self._original = botocore.client.BaseClient._make_api_call

    def __enter__(self) -> DynamoCalls:
        calls = self.operations
        original = self._original

        def counting(client: Any, operation: str, params: Any) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                calls.append(operation)
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        botocore.client.BaseClient._make_api_call = self._original  # type: ignore[method-assign]


def median_ms(action: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def bare_writes_ms(table: str, puts: int, repeat: int) -> tuple[float, float]:
    """Medians of a bare put_item and of a bare transaction of `puts` puts on `table`: what the
    emulator itself costs. moto copies the whole table for each transaction, so the transaction
    is the fairer yardstick of a write made in one."""
    dynamodb = client("dynamodb")
    put = median_ms(
        lambda: dynamodb.put_item(TableName=table, Item={"pk": {"S": "BENCH"}, "sk": {"S": "x"}}),
        repeat,
    )
    transaction = median_ms(
        lambda: dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "BENCH"}, "sk": {"S": str(n)}}}}
                for n in range(puts)
            ]
        ),
        repeat,
    )
    return put, transaction


class Meter:
    """Adds up what AWS would bill for the calls made meanwhile, as `Usage`.

    Functions are run through `invoked` (an invocation, its in-process duration as an estimate of
    Lambda's, and the calls it makes). DynamoDB capacity follows on-demand billing: a write is
    1 unit per KB of the larger of the item before and after, plus one per index the item is in;
    a read 1 unit per 4 KB (half when eventually consistent); in a transaction, twice that.
    Outside functions only what the platform bills is counted: SES storing mail in S3, and Lambda
    reading and deleting queue messages (each one sent there by a rule, unless a function sent it).
    """

    def __init__(self) -> None:
        self.usage = Usage()
        self._original = botocore.client.BaseClient._make_api_call
        self._inside = False
        self._unreceived_sends = 0
        self._tables: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> Meter:
        meter = self

        def metered(client: Any, operation: str, params: Any) -> Any:
            return meter._call(client, operation, params)

        botocore.client.BaseClient._make_api_call = metered  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        botocore.client.BaseClient._make_api_call = self._original  # type: ignore[method-assign]

    def add(self, usage: Usage) -> None:
        self.usage += usage

    def invoked(self, action: Callable[[], T]) -> T:
        outer, self._inside = self._inside, True
        started = time.perf_counter()
        try:
            return action()
        finally:
            milliseconds = math.ceil((time.perf_counter() - started) * 1000)
            self._inside = outer
            if not outer:
                self.add(
                    Usage(
                        lambda_invocations=1,
                        lambda_gb_seconds=milliseconds / 1000 * LAMBDA_MEMORY_GB,
                    )
                )

    def function(self, function: Function) -> Function:
        return lambda event, context: self.invoked(lambda: function(event, context))

    def _call(self, client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        if service == "dynamodb" and self._inside:
            keys = self._written_keys(client, operation, params)
            before = [self._item(client, table, key) for table, key, _ in keys]
            result = self._original(client, operation, params)
            after = [self._item(client, table, key) for table, key, _ in keys]
            writes = sum(
                self._write_units(client, table, old, new, kind)
                for (table, _, kind), old, new in zip(keys, before, after, strict=True)
            )
            factor = 2 if operation.startswith("Transact") else 1
            self.add(
                Usage(
                    write_units=writes * factor, read_units=_read_units(operation, params, result)
                )
            )
            return result
        result = self._original(client, operation, params)
        self.add(self._other(service, operation, params, result))
        return result

    def _other(self, service: str, operation: str, params: Any, result: Any) -> Usage:
        if service == "s3" and (self._inside or operation == "PutObject"):
            put = operation.startswith(("Put", "Copy", "List", "Post", "CreateMultipart"))
            return Usage(s3_puts=1) if put else Usage(s3_gets=1)
        if service == "sqs" and self._inside:
            self._unreceived_sends += len(params.get("Entries", [params]))
            return Usage(sqs_requests=1)
        if service == "sqs" and operation == "ReceiveMessage" and result.get("Messages"):
            received = len(result["Messages"])
            by_rules = max(0, received - self._unreceived_sends)
            self._unreceived_sends = max(0, self._unreceived_sends - received)
            return Usage(sqs_requests=1 + by_rules)
        if service == "sqs" and operation == "DeleteMessageBatch":
            return Usage(sqs_requests=1)
        if not self._inside:
            return Usage()
        if service == "events" and operation == "PutEvents":
            return Usage(events=len(params["Entries"]))
        if service == "ses" and operation.startswith("Send"):
            return Usage(mail_sent=max(1, len(params.get("Destinations", []))))
        return Usage()

    def _describe(self, client: Any, table: str) -> dict[str, Any]:
        if table not in self._tables:
            described = self._original(client, "DescribeTable", {"TableName": table})["Table"]
            self._tables[table] = described
        return self._tables[table]

    def _written_keys(
        self, client: Any, operation: str, params: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any], str]]:
        """(table, key, Put/Update/Delete/ConditionCheck) of every item the request writes."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            kind = operation.removesuffix("Item")
            table = params["TableName"]
            return [(table, self._key(client, table, params.get("Key") or params["Item"]), kind)]
        if operation == "TransactWriteItems":
            return [
                (
                    op["TableName"],
                    self._key(client, op["TableName"], op.get("Key") or op["Item"]),
                    kind,
                )
                for entry in params["TransactItems"]
                for kind, op in entry.items()
            ]
        if operation == "BatchWriteItem":
            return [
                (table, self._key(client, table, request.get("Key") or request["Item"]), kind)
                for table, requests in params["RequestItems"].items()
                for entry in requests
                for kind, request in (
                    (name.removesuffix("Request"), body) for name, body in entry.items()
                )
            ]
        return []

    def _key(self, client: Any, table: str, item: dict[str, Any]) -> dict[str, Any]:
        names = [k["AttributeName"] for k in self._describe(client, table)["KeySchema"]]
        return {name: item[name] for name in names}

    def _item(self, client: Any, table: str, key: dict[str, Any]) -> dict[str, Any]:
        found = self._original(
            client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}
        )
        return dict(found.get("Item", {}))

    def _write_units(
        self, client: Any, table: str, old: dict[str, Any], new: dict[str, Any], kind: str
    ) -> int:
        units = _units(max(item_size(old), item_size(new)), 1024)
        if kind == "ConditionCheck":
            return units
        for index in self._describe(client, table).get("GlobalSecondaryIndexes", []):
            keys = [k["AttributeName"] for k in index["KeySchema"]]
            indexed = [i for i in (old, new) if all(k in i for k in keys)]
            if indexed:
                whole = index["Projection"]["ProjectionType"] == "ALL"
                units += _units(max(map(item_size, indexed)) if whole else 0, 1024)
        return units


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def _read_units(operation: str, params: dict[str, Any], result: dict[str, Any]) -> float:
    half = 1 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        return _units(item_size(result.get("Item", {})), 4096) * half
    if operation in ("Query", "Scan"):
        read = sum(map(item_size, result.get("Items", [])))
        # a filter is applied after the read: what was scanned is billed
        scanned = result.get("ScannedCount", 0) / max(1, result.get("Count", 0))
        return _units(math.ceil(read * max(1.0, scanned)), 4096) * half
    if operation == "BatchGetItem":
        return sum(
            _units(item_size(item), 4096)
            * (1 if params["RequestItems"][table].get("ConsistentRead") else 0.5)
            for table, items in result.get("Responses", {}).items()
            for item in items
        )
    if operation == "TransactGetItems":
        return sum(_units(item_size(r.get("Item", {})), 4096) * 2 for r in result["Responses"])
    return 0


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item: attribute names and values, as its documentation counts."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    [(kind, inner)] = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return (len(inner.lstrip("-").replace(".", "")) + 1) // 2 + 1  # a byte per two digits, +1
    if kind == "B":
        return len(inner)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: each}) for each in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(each) for each in inner)
    if kind == "M":
        return 3 + item_size(inner) + len(inner)
    return 1  # BOOL, NULL


BENCH_AGENT = "bench@example.com"
# A ticket of the Bench department, as its agent opens it through the API
BENCH_TICKET = {
    "subject": "Bench",
    "body": "Body",
    "department_id": "bench",
    "requester": {"email": "b@x.org"},
}


class BenchDesk:
    """The API through the local gateway, called by `BENCH_AGENT`, a member of the Bench
    department (made here), or by an admin: what the API benchmarks measure."""

    def __init__(self, system: LocalSystem, folder: Path) -> None:
        self._tokens = DevTokens(folder / "key")
        self._gateway = Gateway(system.apps, self._tokens, {})
        self.call("POST", "/departments", {"name": "Bench"}, role="admin")
        self.call("POST", "/departments/bench/members", {"email": BENCH_AGENT}, role="admin")

    def call(
        self, method: str, path: str, body: Any = None, role: str = "agent", key: str | None = None
    ) -> Any:
        """The answer's body, insisting on a 2xx; `key`: an Idempotency-Key."""
        email = BENCH_AGENT if role == "agent" else "admin@example.com"
        headers = {
            "Authorization": f"Bearer {self._tokens.issue(email, role)}",
            "Content-Type": "application/json",
            **({"Idempotency-Key": key} if key else {}),
        }
        answer = self._gateway.handle(
            method, path, headers, json.dumps(body).encode() if body is not None else b""
        )
        assert answer.status < 300, answer.body
        return json.loads(answer.body)
