"""Every service loaded in one process, wired to its resources as Lambda would be.

Used by the local stack (with threads) and by in-process tests (stepping delivery by hand).
"""

from __future__ import annotations

import importlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice import Chalice
from chalice.app import ScheduledEventConfig

from infra.stacks import SERVICES, WORK_QUEUE
from local_stack.aws_calls import as_function_of
from local_stack.delivery import Function, LambdaContext, QueueSource, StreamSource
from shared.clock import isoformat
from shared.events.consumer import CONSUMER_FUNCTION
from shared.events.outbox import RELAY_FUNCTION
from shared.settings import Settings

RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


@dataclass(frozen=True)
class Schedule:
    service: str
    name: str
    every: timedelta  # locally
    function: Function
    aws_every: timedelta  # its rate in AWS

    def run(self) -> Any:
        """Invoke the function with the event an EventBridge schedule sends."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "000000000000",
            "time": isoformat(datetime.now(UTC)),
            "region": "local",
            "resources": [f"arn:aws:events:local:000000000000:rule/{self.name}"],
            "detail": {},
        }
        return self.function(event, LambdaContext(f"{self.service}-{self.name}"))


def _every(expression: str) -> timedelta:
    match = RATE.match(expression)
    if match is None:
        raise ValueError(f"the local stack runs rate() schedules only, not {expression!r}")
    amount, unit = int(match.group(1)), match.group(2).rstrip("s")
    return timedelta(**{f"{unit}s": amount})


class LocalSystem:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.apps: dict[str, Chalice] = {
            stack.service: importlib.import_module(stack.app_module).app for stack in SERVICES
        }

    def function(self, service: str, name: str) -> Function:
        """The handler Lambda would run for a function of the app: middleware included."""
        return as_function_of(service, self.apps[service].handler_map[name])

    def invoke(self, service: str, name: str, event: dict[str, Any]) -> Any:
        return self.function(service, name)(event, LambdaContext(f"{service}-{name}"))

    def queue_sources(self) -> list[QueueSource]:
        sources = [
            (stack.service, self.settings.queue_name(stack.service), CONSUMER_FUNCTION)
            for stack in SERVICES
            if stack.event_consumer is not None
        ]
        sources += [
            (stack.service, self.settings.queue_name(stack.service, "mail-reports"), function)
            for stack in SERVICES
            if (function := stack.report_function) is not None
        ]
        sources += [
            (stack.service, self.settings.queue_name(stack.service, WORK_QUEUE), function)
            for stack in SERVICES
            if (function := stack.work_function) is not None
        ]
        return [
            QueueSource(queue, self.function(service, function), f"{service}-{function}")
            for service, queue, function in sources
        ]

    def stream_sources(self) -> list[StreamSource]:
        return [
            StreamSource(
                self.settings.table_name(stack.service),
                self.function(stack.service, RELAY_FUNCTION),
                f"{stack.service}-{RELAY_FUNCTION}",
            )
            for stack in SERVICES
            if stack.outbox
        ]

    def schedules(self) -> list[Schedule]:
        found = []
        for service, app in self.apps.items():
            for source in app.event_sources:
                if isinstance(source, ScheduledEventConfig):
                    expression = source.schedule_expression
                    if not isinstance(expression, str):
                        expression = expression.to_string()
                    aws_every = _every(expression)
                    function = self.function(service, source.name)
                    every = self._local_every(aws_every)
                    found.append(Schedule(service, source.name, every, function, aws_every))
        return found

    def _local_every(self, aws_every: timedelta) -> timedelta:
        """Locally the sweeps that run every minute in AWS (SLA breaches, grouped notifications)
        run as often as the settings say, so a moved clock shows its effect quickly; every other
        schedule keeps its AWS rate."""
        if aws_every == timedelta(minutes=1):
            return timedelta(seconds=self.settings.sla_sweep_seconds)
        return aws_every
