"""Recording the AWS calls each service's functions make, so tests can hold them against the
service's IAM policy (the emulator checks no permissions).

Where a function is invoked (the gateway, the event sources, schedules) it runs inside
`running(service)`; every botocore call made meanwhile, by boto3 or pynamodb, reaches the sinks
given to `record_aws_calls`. Calls made outside a function (provisioning, the event sources' own
reads of queues and streams, a test's setup) are not the function's and are not recorded.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from chalice.app import Chalice

from infra.least_privilege import AwsCall, resource_parameters
from infra.stacks import SERVICES
from local_stack.delivery import Function
from shared.settings import Settings, get_settings

RECORD_ENVIRONMENT = "HELPDESK_RECORD_AWS_CALLS"  # a file the local stack appends calls to

Sink = Callable[[AwsCall], None]

_running_service: ContextVar[str | None] = ContextVar("running_service", default=None)
_sinks: list[Sink] = []


@contextmanager
def running(service: str) -> Iterator[None]:
    """A function of `service` runs: the AWS calls made meanwhile are its own."""
    token = _running_service.set(service)
    try:
        yield
    finally:
        _running_service.reset(token)


def as_function_of(service: str, handler: Function) -> Function:
    """The handler, its AWS calls recorded as `service`'s whoever invokes it."""

    def invoke(event: dict[str, Any], context: Any) -> Any:
        with running(service):
            return handler(event, context)

    return invoke


def service_of(app: Chalice) -> str:
    return next(stack.service for stack in SERVICES if stack.app_name == app.app_name)


def record_aws_calls(sink: Sink) -> None:
    """From now on, hand `sink` every AWS call a function makes in this process."""
    _sinks.append(sink)
    unrecorded = BaseClient._make_api_call  # type: ignore[attr-defined]
    if getattr(unrecorded, "records_calls", False):
        return

    # Every client, boto3's and pynamodb's, sends each operation through this one method;
    # presigned URLs and forms do not, as they are not calls.
    def _make_api_call(client: BaseClient, operation: str, parameters: dict[str, Any]) -> Any:
        service = _running_service.get()
        if service is not None:
            call = AwsCall(
                service=service,
                aws_service=client.meta.service_model.service_name,
                operation=operation,
                region=client.meta.region_name,
                parameters=resource_parameters(parameters),
            )
            for each in _sinks:
                each(call)
        return unrecorded(client, operation, parameters)

    _make_api_call.records_calls = True  # type: ignore[attr-defined]
    BaseClient._make_api_call = _make_api_call  # type: ignore[attr-defined]


def record_to_file_if_asked() -> None:
    """Append every call to the file the environment names, if it names one (tests do)."""
    path = os.environ.get(RECORD_ENVIRONMENT)
    if path:
        record_aws_calls(json_lines_sink(Path(path)))


def json_lines_sink(path: Path) -> Sink:
    """A sink appending each call to `path` as one JSON line (threads write whole lines), with
    the settings the function ran with: its policy is rendered from them."""
    lock = threading.Lock()

    def append(call: AwsCall) -> None:
        settings = get_settings().model_dump(mode="json")
        line = json.dumps({"call": call.to_json(), "settings": settings}) + "\n"
        with lock, path.open("a") as file:
            file.write(line)

    return append


def read_json_lines(path: Path) -> list[tuple[AwsCall, Settings]]:
    """The calls `json_lines_sink` wrote, each with its settings exactly as they were."""
    if not path.exists():
        return []
    recorded = [json.loads(line) for line in path.read_text().splitlines()]
    return [
        (AwsCall.from_json(each["call"]), Settings.model_construct(**each["settings"]))
        for each in recorded
    ]
