"""What every benchmark shares: emulated AWS in-process, DynamoDB call counting, medians."""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from local_stack.environment import in_process_emulator

in_process_emulator(stage="bench", log_level="ERROR")

import botocore.client
from moto import mock_aws

from local_stack.provision import provision
from local_stack.system import LocalSystem
from shared.aws import client, reset_process_state
from shared.settings import get_settings


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
