"""SES's reports of what the receiving servers did with the mail we sent for a ticket (delivery,
bounce, complaint), which arrive through its configuration set's SNS topic; each is tied back to
the ticket's message by the SES message id we kept when sending."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from services.channels.logic.delivery import Outbound
from services.channels.logic.dependencies import Dependencies
from shared.clock import isoformat
from shared.events.catalogue import (
    EmailBounced,
    EmailComplained,
    EmailDelivered,
    EmailDeliveryEvent,
    RecipientOutcome,
)
from shared.events.envelope import OutgoingEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryReport:
    """One SES notification about a mail we sent, in the terms the ticket needs."""

    kind: Literal["delivery", "bounce", "complaint"]
    ses_message_id: str
    recipients: list[RecipientOutcome]
    at: datetime
    permanent: bool = False
    reason: str | None = None
    feedback_type: str | None = None


def report_event(outbound: Outbound, report: DeliveryReport) -> EmailDeliveryEvent:
    common: dict[str, Any] = {
        **outbound.about(),
        "recipients": report.recipients,
        "at": isoformat(report.at),
    }
    if report.kind == "delivery":
        return EmailDelivered(**common)
    if report.kind == "bounce":
        return EmailBounced(
            **common, kind="bounce", permanent=report.permanent, reason=report.reason
        )
    return EmailComplained(**common, feedback_type=report.feedback_type)


def record_report(report: DeliveryReport, deps: Dependencies) -> bool:
    """Announce SES's report about a mail we sent for a ticket; False if it is about no such mail
    (one sent before its record was kept)."""
    outbound = deps.outbound_mail.of_ses_message(report.ses_message_id)
    if outbound is None:
        logger.info("report about mail of no ticket", extra={"ses": report.ses_message_id})
        return False
    now = deps.clock.now()
    deps.outbound_mail.announce([OutgoingEvent.of(report_event(outbound, report), now)])
    return True
