"""Logging, metrics and tracing set-up shared by every service (powertools).

Logs are JSON with the request id (HTTP) or event id (events) as correlation id; metrics are EMF
in the `Helpdesk` namespace; tracing is X-Ray in AWS and off elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from chalice.app import Chalice, ConvertToMiddleware

METRICS_NAMESPACE = "Helpdesk"


@dataclass(frozen=True)
class Observability:
    logger: Logger
    metrics: Metrics
    tracer: Tracer


def observability(service: str) -> Observability:
    logger = Logger(service=service)
    # The shared library logs with the standard library; give it the service's JSON format.
    copy_config_to_registered_loggers(source_logger=logger, include={"shared"})
    return Observability(
        logger=logger,
        metrics=Metrics(namespace=METRICS_NAMESPACE, service=service),
        tracer=Tracer(service=service),
    )


def instrument(app: Chalice, tools: Observability) -> None:
    """Apply logging context and metrics flushing to every function of the app."""
    # The request id is the correlation id of HTTP calls; consumers add the event id themselves.
    app.register_middleware(
        ConvertToMiddleware(
            tools.logger.inject_lambda_context(
                correlation_id_path=correlation_paths.API_GATEWAY_REST
            )
        ),
        "all",
    )
    app.register_middleware(
        ConvertToMiddleware(tools.metrics.log_metrics(raise_on_empty_metrics=False)), "all"
    )
