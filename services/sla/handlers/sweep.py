"""The scheduled breach sweep: every minute in AWS; locally as often as the settings say."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, Chalice

from services.sla.handlers.wiring import dependencies
from services.sla.logic.sweep import sweep

SWEEP_FUNCTION = "sweep_sla"
SWEEP_RATE = "rate(1 minute)"
# One per successful sweep: an alarm on its absence catches sweeps that fail or stop running.
SWEEP_COMPLETED_METRIC = "SlaSweepCompleted"
logger = logging.getLogger(__name__)


def register_sweep(app: Chalice | Blueprint, metrics: Metrics) -> Any:
    """Add the scheduled function. Returns it: its entry module holds it as `sweep_sla`."""

    @app.schedule(SWEEP_RATE, name=SWEEP_FUNCTION)
    def sweep_sla(event: Any) -> dict[str, int]:
        report = asdict(sweep(dependencies()))
        logger.info("sla sweep", extra=report)
        metrics.add_metric(name=SWEEP_COMPLETED_METRIC, unit=MetricUnit.Count, value=1)
        return report

    return sweep_sla
