"""Binding a service's pynamodb table classes to their physical table at first use, the write
transactions on them, and the cursors that page through their reads.

Table classes declare a logical name (the service's); the physical name comes from settings when
the repository is built, never at import, so importing needs no environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.errors import FieldError, Invalid
from shared.settings import get_settings
from shared.text import load_json

P = TypeVar("P")
CLIENT_REQUEST_TOKEN_LENGTH = 36  # DynamoDB's longest


def bind_table(table: type[Model], service: str) -> None:
    settings = get_settings()
    table.Meta.table_name = settings.table_name(service)
    table.Meta.region = settings.region


@dataclass
class _WorkInHand:
    """The request or event whose work is being done, and how many transactions it wrote."""

    origin: str
    transactions: int = 0


_work_in_hand: ContextVar[_WorkInHand | None] = ContextVar("work_in_hand", default=None)


@contextmanager
def writes_for(origin: str | None) -> Iterator[None]:
    """Write transactions made inside carry a `ClientRequestToken` derived from `origin` (what
    names the request or event being handled, the same on every attempt) and their order in it.
    The same work done again sends the same tokens, so DynamoDB applies once, for ten minutes, a
    transaction an attempt that seemed to fail had applied. None: botocore's token per call."""
    reset = _work_in_hand.set(_WorkInHand(origin) if origin else None)
    try:
        yield
    finally:
        _work_in_hand.reset(reset)


def transaction(table: type[Model]) -> TransactWrite:
    """A write transaction on the table's cached connection (a new one costs a client build)."""
    return _TokenedTransactWrite(
        connection=table._get_connection().connection,
        client_request_token=_client_request_token(table),
    )


def _client_request_token(table: type[Model]) -> str | None:
    work = _work_in_hand.get()
    if work is None:
        return None
    work.transactions += 1
    # Tables name their service, whose work on one event is not another service's.
    seed = f"{table.Meta.table_name}|{work.origin}|{work.transactions}"
    return hashlib.sha256(seed.encode()).hexdigest()[:CLIENT_REQUEST_TOKEN_LENGTH]


class _TokenedTransactWrite(TransactWrite):
    def _commit(self) -> Any:
        try:
            return super()._commit()
        except TransactWriteError as error:
            if error.cause_response_code != "IdempotentParameterMismatchException":
                raise
        # An earlier attempt wrote another transaction under this token (times and ids are new
        # on each attempt): this one is a write of its own, which its conditions alone decide.
        self._client_request_token = None
        return super()._commit()


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


def decode_cursor(cursor: str, shape: type[P]) -> P:
    """The read position a cursor holds, of the type its list gives out (a made-up cursor may
    hold any JSON at all); `bad_cursor()` if it holds none of that type."""
    try:
        position = load_json(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise bad_cursor() from None
    if not isinstance(position, shape):
        raise bad_cursor()
    return position


def decode_key_cursor(
    cursor: str, attributes: Collection[str], fixed: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A DynamoDB read position (`LastEvaluatedKey`) of exactly these string attributes, with the
    `fixed` values of the partition being read: DynamoDB answers any other start key with an
    error, not with an empty page."""
    position = decode_cursor(cursor, dict)
    if not is_key(position, attributes) or any(
        position[name]["S"] != value for name, value in (fixed or {}).items()
    ):
        raise bad_cursor()
    return position


def is_key(position: Any, attributes: Collection[str]) -> bool:
    """Whether `position` is a DynamoDB key of exactly these string attributes."""
    return (
        isinstance(position, dict)
        and set(position) == set(attributes)
        and all(
            isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
            for value in position.values()
        )
    )


def bad_cursor() -> Invalid:
    message = "not a cursor this API gave out for this list"
    return Invalid(f"cursor: {message}", [FieldError("query.cursor", message)])
