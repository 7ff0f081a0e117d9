"""Quarantine: mail kept back for an admin instead of opening a ticket, never dropped.

SES's virus verdict FAIL always quarantines; its spam verdict FAIL does when the channel says so
(the default); mail to no known address does when the deployment says so. Admins list what waits
and release a mail into a ticket (optionally choosing the department), once
(review_quarantine.py).

Machine mail that answers no ticket of ours (a bounce of a mail we never sent, an autoreply to
nobody) opens no ticket either: it is held, listed apart (`?held=true`) so the quarantine does not
drown in it, and can be released the same way if a person was behind it after all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.channels.logic.channel import Channel
from shared.events.catalogue import EmailReceived, MailVerdicts
from shared.keys import NO_KEY

UnknownAddressPolicy = Literal["triage", "quarantine"]


HELD_PREFIX = "held."


@dataclass(frozen=True)
class QuarantinedMail:
    # `<received>.<ses message id>.<department>`: sortable, newest first; `held.` before it for
    # machine mail held back
    id: str
    reason: str
    received: EmailReceived  # what it would have announced
    released_at: datetime | None = None
    released_by: str | None = None


def quarantine_reason(
    verdicts: MailVerdicts,
    channel: Channel | None,
    threaded: bool,
    unknown_address: UnknownAddressPolicy,
) -> str | None:
    if verdicts.virus == "FAIL":
        return "SES found a virus"
    if threaded:
        return None  # a reply to a ticket of ours is judged by the ticket's people
    if verdicts.spam == "FAIL" and (channel is None or channel.quarantine_spam):
        return "SES judged it spam"
    if channel is None and unknown_address == "quarantine":
        return "sent to no address of ours"
    return None


def quarantine_id(received: EmailReceived, held: bool) -> str:
    moment = datetime.fromisoformat(received.received_at).strftime("%Y%m%dT%H%M%S")
    base = f"{moment}.{received.ses_message_id}.{received.department_id or NO_KEY}"
    return HELD_PREFIX + base if held else base


def is_held(quarantine_id_: str) -> bool:
    return quarantine_id_.startswith(HELD_PREFIX)
