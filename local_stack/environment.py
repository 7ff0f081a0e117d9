"""The environment for running the services against moto inside this process (tests, benchmarks).

Fake credentials and region must be set before any client exists, and no endpoint override may
point elsewhere, so nothing can ever reach a real account.
"""

from __future__ import annotations

import os
import secrets
import threading


def in_process_emulator(stage: str, log_level: str = "WARNING") -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="emulated",
        AWS_SECRET_ACCESS_KEY="emulated",  # noqa: S106 - any key works on the emulator
        AWS_DEFAULT_REGION="eu-west-1",
        # botocore would otherwise address some services by account-specific hosts moto ignores
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        HELPDESK_STAGE=stage,
        HELPDESK_REPLY_TOKEN_SECRET=secrets.token_hex(16),
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL=log_level,
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    atomic_dynamodb_requests()


_DYNAMODB_LOCK = threading.Lock()


def atomic_dynamodb_requests() -> None:
    """Make the emulator apply one DynamoDB request at a time, as DynamoDB applies each request
    atomically. moto's in-memory tables have no locking: two concurrent `ADD` updates can read the
    same old value, which DynamoDB never does, and concurrency tests would fail on the emulator's
    account rather than ours. Our code still runs concurrently; only the emulator is serialized."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "atomic", False):
        return
    unlocked = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> object:
        with _DYNAMODB_LOCK:
            return unlocked(self)

    call_action.atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign,assignment]
