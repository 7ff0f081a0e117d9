"""Binding a service's pynamodb table classes to their physical table at first use, and the
cursors that page through their reads.

Table classes declare a logical name (the service's); the physical name comes from settings when
the repository is built, never at import, so importing needs no environment.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.errors import FieldError, Invalid
from shared.settings import get_settings


def bind_table(table: type[Model], service: str) -> None:
    settings = get_settings()
    table.Meta.table_name = settings.table_name(service)
    table.Meta.region = settings.region


def transaction(table: type[Model]) -> TransactWrite:
    """A write transaction on the table's cached connection (a new one costs a client build)."""
    return TransactWrite(connection=table._get_connection().connection)


def condition_failed(error: TransactWriteError) -> bool:
    """Whether the transaction was cancelled because a condition did not hold. pynamodb sends
    condition checks, then deletes, puts and updates, whatever order they were added in, so the
    position of a reason does not say which item it is about: for a transaction with one
    conditional write, any failed condition is that one."""
    return any(
        reason is not None and reason.code == "ConditionalCheckFailed"
        for reason in error.cancellation_reasons or []
    )


def encode_cursor(position: Any) -> str:
    """An opaque cursor for a read position (DynamoDB's last evaluated key, or a service's own)."""
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> Any:
    """The read position a cursor holds; `bad_cursor()` if it holds none."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise bad_cursor() from None


def bad_cursor() -> Invalid:
    message = "not a cursor this API gave out for this list"
    return Invalid(f"cursor: {message}", [FieldError("query.cursor", message)])
