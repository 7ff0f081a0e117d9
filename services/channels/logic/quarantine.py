"""Quarantine: mail kept back for an admin instead of opening a ticket, never dropped.

SES's virus verdict FAIL always quarantines; its spam verdict FAIL does when the channel says so
(the default); mail to no known address does when the deployment says so. Admins list what waits
and release a mail into a ticket (optionally choosing the department), once.

Machine mail that answers no ticket of ours (a bounce of a mail we never sent, an autoreply to
nobody) opens no ticket either: it is held, listed apart (`?held=true`) so the quarantine does not
drown in it, and can be released the same way if a person was behind it after all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from services.channels.logic.channel import Channel
from shared.errors import Conflict, Forbidden, not_found
from shared.events.catalogue import EmailReceived, MailVerdicts
from shared.identity import Caller

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


class QuarantineRepository(Protocol):
    def quarantined(
        self, held: bool, limit: int, cursor: str | None
    ) -> tuple[list[QuarantinedMail], str | None]: ...

    def get_quarantined(self, quarantine_id: str) -> QuarantinedMail | None: ...

    def release(self, mail: QuarantinedMail, received: EmailReceived, by: str) -> bool:
        """Mark it released and announce `received`, in one write; False if released before."""
        ...


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
    base = f"{moment}.{received.ses_message_id}.{received.department_id or '-none-'}"
    return HELD_PREFIX + base if held else base


def is_held(quarantine_id_: str) -> bool:
    return quarantine_id_.startswith(HELD_PREFIX)


def _admin_only(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("Only admins see the quarantine.")


def list_quarantine(
    caller: Caller, repository: QuarantineRepository, held: bool, limit: int, cursor: str | None
) -> tuple[list[QuarantinedMail], str | None]:
    _admin_only(caller)
    return repository.quarantined(held, limit, cursor)


def release_mail(
    quarantine_id_: str,
    department_id: str | None,
    caller: Caller,
    repository: QuarantineRepository,
) -> QuarantinedMail:
    """Let a quarantined mail through: it opens its ticket as if it had just arrived."""
    _admin_only(caller)
    mail = repository.get_quarantined(quarantine_id_)
    if mail is None:
        raise not_found("quarantined mail", quarantine_id_)
    received = mail.received
    if department_id is not None:
        received = received.model_copy(update={"department_id": department_id, "channel_id": None})
    if mail.released_at is not None or not repository.release(mail, received, caller.email):
        raise Conflict(f"{quarantine_id_} was released already.")
    released = repository.get_quarantined(quarantine_id_)
    assert released is not None  # just written
    return released
