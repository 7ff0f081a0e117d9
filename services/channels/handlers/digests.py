"""The scheduled sweep that mails what waited: agents' grouped notifications, then clients'
rating requests held for the deployment's delay. Every minute in AWS; locally as often as the SLA
sweep, so a moved clock shows its effect quickly."""

from __future__ import annotations

import logging
from typing import Any

from chalice.app import Blueprint, Chalice

from services.channels.handlers.wiring import dependencies
from services.channels.logic.ask_rating import send_due_rating_requests
from services.channels.logic.notify_agents import send_due_digests

DIGEST_FUNCTION = "send_grouped_notifications"
DIGEST_RATE = "rate(1 minute)"
logger = logging.getLogger(__name__)


def register_digests(app: Chalice | Blueprint) -> Any:
    """Add the scheduled function. Returns it: its entry module holds it under its name."""

    @app.schedule(DIGEST_RATE, name=DIGEST_FUNCTION)
    def send_grouped_notifications(event: Any) -> dict[str, int]:
        deps = dependencies()
        sent = send_due_digests(deps)
        rating_requests = send_due_rating_requests(deps)
        logger.info(
            "grouped notifications and rating requests",
            extra={"sent": sent, "rating_requests": rating_requests},
        )
        return {"sent": sent, "rating_requests": rating_requests}

    return send_grouped_notifications
