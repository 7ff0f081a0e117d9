"""Logging and metrics set-up shared by every service (powertools).

Logs are JSON with the request id (HTTP) or event id (events) as correlation id; metrics are EMF
in the `Helpdesk` namespace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from chalice.app import Chalice, ConvertToMiddleware

METRICS_NAMESPACE = "Helpdesk"
# The project's code logs with the standard library, under these packages.
PROJECT_PACKAGES = frozenset({"shared", "services"})


@dataclass(frozen=True)
class Observability:
    logger: Logger
    metrics: Metrics


def observability(service: str) -> Observability:
    logger = Logger(service=service)
    # Only registered loggers are configured: register the packages' own, so that their modules,
    # whenever imported, log through them in the service's JSON format with the Lambda context.
    for package in PROJECT_PACKAGES:
        logging.getLogger(package)
    copy_config_to_registered_loggers(source_logger=logger, include=set(PROJECT_PACKAGES))
    return Observability(
        logger=logger,
        metrics=Metrics(namespace=METRICS_NAMESPACE, service=service),
    )


def instrument(app: Chalice, tools: Observability) -> None:
    """Apply logging context and metrics flushing to every function of the app.

    Routes may come from blueprints, as the app itself serves them; every other function must be
    registered on the app: Lambda imports the module its handler string names, and a blueprint's
    module never reaches the app nor this middleware.
    """
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
