"""What admins do with the sync: read where it stands, start a run or a full re-sync."""

from __future__ import annotations

from dataclasses import dataclass

from services.crm_sync.logic.dependencies import SyncRepository, WorkQueue
from services.crm_sync.logic.repository import Ambiguity, Checkpoint, Run
from services.crm_sync.logic.work import SyncRequest, sync_message
from shared.errors import Conflict, Forbidden
from shared.identity import Caller

AMBIGUITIES_SHOWN = 50


@dataclass(frozen=True)
class SyncStatus:
    provider: str | None
    checkpoint: Checkpoint | None
    last_run: Run | None
    ambiguous: list[Ambiguity]


def _require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("Only admins manage the CRM sync.")


def sync_status(caller: Caller, provider: str | None, repository: SyncRepository) -> SyncStatus:
    _require_admin(caller)
    if provider is None:
        return SyncStatus(None, None, None, [])
    return SyncStatus(
        provider,
        repository.checkpoint(provider),
        repository.last_run(provider),
        repository.ambiguities(provider, AMBIGUITIES_SHOWN),
    )


def request_sync(caller: Caller, provider: str | None, full: bool, queue: WorkQueue) -> SyncRequest:
    """Queue a run; the function reading the queue does it, a bounded number of pages at a time."""
    _require_admin(caller)
    if provider is None:
        raise Conflict("No CRM is connected: set HELPDESK_CRM_PROVIDER first.")
    request = SyncRequest(full=full, requested_by=caller.email)
    queue.send([sync_message(request)])
    return request
