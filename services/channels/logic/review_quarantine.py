"""Admins review the quarantine: list the mail kept back, and release one into a ticket, once."""

from __future__ import annotations

from services.channels.logic.dependencies import Dependencies
from services.channels.logic.quarantine import QuarantinedMail
from shared.errors import Conflict, Forbidden, not_found
from shared.identity import Caller


def _admin_only(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("Only admins see the quarantine.")


def list_quarantine(
    held: bool, limit: int, cursor: str | None, caller: Caller, deps: Dependencies
) -> tuple[list[QuarantinedMail], str | None]:
    _admin_only(caller)
    return deps.quarantine.quarantined(held, limit, cursor)


def release_mail(
    quarantine_id: str, department_id: str | None, caller: Caller, deps: Dependencies
) -> QuarantinedMail:
    """Let a quarantined mail through: it opens its ticket as if it had just arrived."""
    _admin_only(caller)
    mail = deps.quarantine.get_quarantined(quarantine_id)
    if mail is None:
        raise not_found("quarantined mail", quarantine_id)
    received = mail.received
    if department_id is not None:
        received = received.model_copy(update={"department_id": department_id, "channel_id": None})
    if mail.released_at is not None or not deps.quarantine.release(mail, received, caller.email):
        raise Conflict(f"{quarantine_id} was released already.")
    released = deps.quarantine.get_quarantined(quarantine_id)
    assert released is not None  # just written
    return released
