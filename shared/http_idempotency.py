"""`Idempotency-Key` on the HTTP operations that create: a client that never heard the answer
sends the request again under the same key, gets the first answer (status, body and headers) and
nothing is created twice.

A key is the caller's own: another agent's request under the same key is another request. It
lasts 24 hours. The same key on another request (another operation, resource or body) is refused
with 422; while the first request under a key is still running, a second one gets 409 and may try
again. Only answers are kept: a request that failed left nothing to replay, so sending it again
tries again. The records live in the service's idempotency table, beside those of its event
consumer, kept by the same powertools utility.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from shared.aws import client
from shared.errors import Conflict, FieldError, Invalid

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
KEY_FIELD = f"header.{IDEMPOTENCY_KEY_HEADER}"
KEY_LIFETIME_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
RECORD_PREFIX = "http"  # the table also keeps the event consumer's records
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as it is sent, kept and replayed."""

    status: int
    body: str
    headers: dict[str, str]


class IdempotencyKeyReused(Invalid):
    slug, title = "idempotency-key-reused", "Idempotency key used for another request"


class RequestInProgress(Conflict):
    slug, title = "request-in-progress", "The same request is still in progress"


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    """The request's `Idempotency-Key` (headers with lower-cased names); None if it sent none."""
    key = headers.get(IDEMPOTENCY_KEY_HEADER.lower())
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        message = f"send 1 to {MAX_KEY_LENGTH} printable characters, such as a UUID"
        raise Invalid(f"{IDEMPOTENCY_KEY_HEADER}: {message}", [FieldError(KEY_FIELD, message)])
    return key


class IdempotentAnswers:
    """Answers requests once per caller's key, in the idempotency table `table()` names."""

    def __init__(self, table: Callable[[], str]) -> None:
        self._table = table

    def answer_once(
        self,
        caller_key: str,
        request: dict[str, Any],
        answer: Callable[[], Answer],
        lambda_context: Any,
    ) -> Answer:
        """The answer kept under `caller_key` (the caller and their key) if `request` (what
        identifies the request: operation, resource, body) is the one that got it; otherwise
        `answer()`, kept for the next attempt."""
        config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="request",
            expires_after_seconds=KEY_LIFETIME_SECONDS,
            hash_function="sha256",
        )
        if lambda_context is not None:  # an attempt cut short by a timeout blocks no retry
            config.register_lambda_context(lambda_context)
        store = DynamoDBPersistenceLayer(table_name=self._table(), boto3_client=client("dynamodb"))
        given: list[Answer] = []

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="attempt",
            persistence_store=store,
            config=config,
            key_prefix=RECORD_PREFIX,
        )
        def first_answer(attempt: dict[str, Any]) -> dict[str, Any]:
            given.append(answer())
            return asdict(given[0])

        try:
            kept = first_answer(attempt={"key": caller_key, "request": request})
        except IdempotencyPersistenceLayerError:
            if not given:
                raise
            # The work is done, only its answer could not be kept (larger than an item may be,
            # say): the caller gets it; a retry under the key runs again once this attempt's
            # time is up.
            logger.warning("the answer could not be kept under its idempotency key", exc_info=True)
            return given[0]
        except IdempotencyValidationError:
            message = "already used for another request: send a new key for a new request"
            raise IdempotencyKeyReused(
                f"{IDEMPOTENCY_KEY_HEADER}: {message}", [FieldError(KEY_FIELD, message)]
            ) from None
        except IdempotencyAlreadyInProgressError:
            message = "a request with this key is still in progress: try again shortly"
            raise RequestInProgress(
                f"{IDEMPOTENCY_KEY_HEADER}: {message}", [FieldError(KEY_FIELD, message)]
            ) from None
        return Answer(**kept)
