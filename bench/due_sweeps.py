"""What the scheduled sweeps' benchmarks share (bench_sla_sweep.py, bench_automations.py): items
put straight into a service's emulated table, then rows saying what a sweep reads at each size and
what a whole run writes.

The items are put straight into moto's backend: batch writes of 100,000 items through the API take
many minutes in moto, and how they got there changes nothing here. moto answers a Query on an
index by walking every item of the table, and copies the whole table for every transaction (to
roll back); DynamoDB does neither. So a sweep's reads are run and timed alone at every size (their
time under moto grows with the table though the items read do not), and the whole run, with its
conditional transactions, at the smallest size only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from bench.harness import DynamoCalls, Row
from shared.settings import get_settings

TEMPLATE_ID = "TEMPLATE"  # the id a template item carries; each copy gets its own


class EmulatedTable:
    """A service's table in the emulator's backend, filled with copies of one stored item."""

    def __init__(self, service: str, bucket_attribute: str, bucket_of: Callable[[str], int]):
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][get_settings().region]
        self._table = backend.get_table(get_settings().table_name(service))
        self._bucket_attribute = bucket_attribute
        self._bucket_of = bucket_of

    def fill(self, template: dict[str, Any], prefix: str, count: int) -> None:
        """`count` copies of `template` (an item as the service stores it, for `TEMPLATE_ID`),
        spread over the sweep's index buckets as the service spreads them."""
        for number in range(count):
            item_id = f"{prefix}-{number:06d}"
            item = {
                name: {
                    kind: value.replace(TEMPLATE_ID, item_id) if isinstance(value, str) else value
                }
                for name, attribute in template.items()
                for kind, value in attribute.items()
            }
            if self._bucket_attribute in item:  # only items with a pending step are indexed
                item[self._bucket_attribute] = {"S": str(self._bucket_of(item_id))}
            self._table.put_item(item)


def read_rows(label: str, noun: str, due: int, buckets: int, read: Callable[[], int]) -> list[Row]:
    """What a sweep reads (`read` answers how many items), its round trips and time."""
    with DynamoCalls() as calls:
        started = time.perf_counter()
        items = read()
        elapsed_ms = (time.perf_counter() - started) * 1000
    return [
        Row(f"{label}: {noun} read", str(items), f"= {due}"),
        Row(
            f"{label}: reads' round trips and time (moto)",
            f"{len(calls.operations)} {'/'.join(sorted(set(calls.operations)))}, "
            f"{elapsed_ms:.0f} ms",
            f"{buckets} Query, no Scan",
        ),
    ]


def whole_run_row(what: str, due: int, run: Callable[[], object]) -> Row:
    """One whole run: every DynamoDB call it makes, by name, and its time."""
    with DynamoCalls() as calls:
        started = time.perf_counter()
        run()
        elapsed_ms = (time.perf_counter() - started) * 1000
    operations = ", ".join(
        f"{calls.operations.count(name)} {name}" for name in sorted(set(calls.operations))
    )
    return Row(what, f"{operations}; {elapsed_ms:.0f} ms", f"{due} transactions")
