"""The scheduled breach sweep: every minute in AWS; locally as often as the settings say."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from chalice.app import Blueprint, Chalice

from services.sla.handlers.wiring import dependencies
from services.sla.logic.sweep import sweep

SWEEP_FUNCTION = "sweep_sla"
SWEEP_RATE = "rate(1 minute)"
logger = logging.getLogger(__name__)


def register_sweep(app: Chalice | Blueprint) -> Any:
    """Add the scheduled function. Returns it: the app module holds it as `sweep_sla`."""

    @app.schedule(SWEEP_RATE, name=SWEEP_FUNCTION)
    def sweep_sla(event: Any) -> dict[str, int]:
        report = asdict(sweep(dependencies()))
        logger.info("sla sweep", extra=report)
        return report

    return sweep_sla
