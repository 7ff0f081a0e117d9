"""Binding a service's pynamodb table classes to their physical table at first use, the write
transactions on them (which item of a cancelled one failed, retrying a write that lost a race),
and the pages and cursors of their reads.

Table classes declare a logical name (the service's); the physical name comes from settings when
the repository is built, never at import, so importing needs no environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.errors import FieldError, Invalid
from shared.settings import get_settings
from shared.text import load_json

P = TypeVar("P")
R = TypeVar("R")
T = TypeVar("T")
M = TypeVar("M", bound=Model)
ItemKey = tuple[Any, Any]  # an item's partition and sort key, as its model holds them
CLIENT_REQUEST_TOKEN_LENGTH = 36  # DynamoDB's longest
STALE_WRITE_ATTEMPTS = 5  # enough for the few writers of one item; more means something is wrong


def bind_table(table: type[Model], service: str) -> None:
    settings = get_settings()
    table.Meta.table_name = settings.table_name(service)
    table.Meta.region = settings.region
    # Made on the table's base model, the connection is inherited by every entity of the table.
    # Otherwise pynamodb gives each entity class its own, each with a botocore session and client
    # of its own, made on first use: tens of milliseconds each, in the first invocation.
    table._get_connection()


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


def transaction(table: type[Model]) -> WriteTransaction:
    """A write transaction on the table's cached connection (a new one costs a client build)."""
    return WriteTransaction(
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


@dataclass
class _ItemsByKind:
    """The keys of a transaction's items, by the kind of write that names them."""

    condition_checks: list[ItemKey] = field(default_factory=list)
    deletes: list[ItemKey] = field(default_factory=list)
    puts: list[ItemKey] = field(default_factory=list)
    updates: list[ItemKey] = field(default_factory=list)

    def in_request_order(self) -> list[ItemKey]:
        # pynamodb sends condition checks, then deletes, puts and updates, whatever order they
        # were added in; DynamoDB's cancellation reasons follow the request.
        return self.condition_checks + self.deletes + self.puts + self.updates


class WriteTransaction(TransactWrite):
    """A pynamodb write transaction that knows which item each of its writes is about, so a
    cancelled one says which items failed their condition (`failed_conditions`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keys = _ItemsByKind()

    def condition_check(
        self,
        model_cls: type[M],
        hash_key: Any,
        range_key: Any | None = None,
        condition: Condition | None = None,
    ) -> None:
        super().condition_check(model_cls, hash_key, range_key, condition)
        self._keys.condition_checks.append((hash_key, range_key))

    def delete(
        self, model: M, condition: Condition | None = None, *, add_version_condition: bool = True
    ) -> None:
        super().delete(model, condition, add_version_condition=add_version_condition)
        self._keys.deletes.append(_key_of(model))

    def save(
        self, model: M, condition: Condition | None = None, return_values: str | None = None
    ) -> None:
        super().save(model, condition, return_values)
        self._keys.puts.append(_key_of(model))

    def update(
        self,
        model: M,
        actions: list[Action],
        condition: Condition | None = None,
        return_values: str | None = None,
        *,
        add_version_condition: bool = True,
    ) -> None:
        super().update(
            model, actions, condition, return_values, add_version_condition=add_version_condition
        )
        self._keys.updates.append(_key_of(model))

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


def _key_of(model: Model) -> ItemKey:
    hash_name, range_name = model._hash_keyname, model._range_keyname
    return (
        getattr(model, hash_name) if hash_name else None,
        getattr(model, range_name) if range_name else None,
    )


def failed_conditions(write: WriteTransaction, error: TransactWriteError) -> frozenset[ItemKey]:
    """The keys (partition, sort) of the items of the cancelled transaction `write` whose
    condition did not hold; empty when it was cancelled for another reason (a conflict)."""
    reasons = error.cancellation_reasons or []
    return frozenset(
        key
        for key, reason in zip(write._keys.in_request_order(), reasons, strict=False)
        if reason is not None and reason.code == "ConditionalCheckFailed"
    )


def retry_on_stale(
    attempt: Callable[[], R],
    stale: type[Exception] | tuple[type[Exception], ...],
    exhausted: Exception,
    attempts: int = STALE_WRITE_ATTEMPTS,
) -> R:
    """Optimistic concurrency: `attempt` reads, computes and writes on the condition that what it
    read is still there, raising `stale` (or one of several) when another write came between; it
    is run again on what is there now, and `exhausted` is raised when every attempt lost its
    race."""
    for _ in range(attempts):
        try:
            return attempt()
        except stale:
            continue
    raise exhausted


@dataclass(frozen=True)
class Page(Generic[T]):
    """Part of a list, and the cursor of the rest (None: this is the last part)."""

    items: list[T]
    cursor: str | None


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
