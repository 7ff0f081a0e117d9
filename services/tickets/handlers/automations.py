"""The scheduled run of tickets' automatic steps (auto-close, reminders, resolution after
waiting): every minute in AWS; locally as often as the settings say."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, Chalice

from services.tickets.handlers.wiring import dependencies
from services.tickets.logic import automations

AUTOMATIONS_FUNCTION = "run_automations"
AUTOMATIONS_RATE = "rate(1 minute)"
# One per successful run: an alarm on its absence catches runs that fail or stop running.
AUTOMATIONS_COMPLETED_METRIC = "TicketAutomationsCompleted"
logger = logging.getLogger(__name__)


def register_automations(app: Chalice | Blueprint, metrics: Metrics) -> Any:
    """Add the scheduled function. Returns it: its entry module holds it as `run_automations`."""

    @app.schedule(AUTOMATIONS_RATE, name=AUTOMATIONS_FUNCTION)
    def run_automations(event: Any) -> dict[str, int]:
        # Lambda's handler names the function as defined here: its entry module holds it so.
        report = asdict(automations.run_automations(dependencies()))
        logger.info("ticket automations", extra=report)
        metrics.add_metric(name=AUTOMATIONS_COMPLETED_METRIC, unit=MetricUnit.Count, value=1)
        return report

    return run_automations
