"""The CRM sync API's request and response shapes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import Field

from services.crm_sync.logic.crm_status import SyncStatus
from shared.api import RequestModel, ResponseModel


class SyncIn(RequestModel):
    full: bool = Field(False, description="read every CRM record again, not only the changes")


class SyncOut(ResponseModel):
    queued: bool
    full: bool


class WebhookOut(ResponseModel):
    queued: int = Field(description="changes queued to be applied")
    duplicates: int = Field(description="events delivered before, ignored")


class CountsOut(ResponseModel):
    upserted: int
    deleted: int
    merged: int
    unchanged: int
    ambiguous: int
    pages: int


class RunOut(ResponseModel):
    kind: str = Field(description="`sync` (changes since the checkpoint) or `full`")
    started_at: datetime
    finished_at: datetime | None
    outcome: str = Field(
        description="`ok`, `more` (continues behind the queue), `rate_limited`, "
        "`daily_limit`, `unavailable` (the CRM did not answer; the next run catches up), `failed`"
    )
    counts: CountsOut
    error: str | None


class WindowOut(ResponseModel):
    start: datetime
    end: datetime


class CheckpointOut(ResponseModel):
    full_pass: str = Field(description="`live`, `archived` (records being read) or `done`")
    full_pass_started_at: datetime | None
    changes_read_until: datetime | None = Field(
        description="every change before this was read (each poll re-reads the overlap)"
    )
    window: WindowOut | None = Field(description="the changes being read now")
    paused_until: datetime | None = Field(description="the CRM's daily limit was reached")


class AmbiguityOut(ResponseModel):
    crm_id: str
    emails: list[str]
    contact_ids: list[str] = Field(description="the helpdesk contacts holding those addresses")
    seen_at: datetime


class StatusOut(ResponseModel):
    enabled: bool
    provider: str | None
    checkpoint: CheckpointOut | None
    last_run: RunOut | None
    ambiguous: list[AmbiguityOut] = Field(
        description="CRM records not linked: their addresses belong to several contacts"
    )

    @classmethod
    def of(cls, status: SyncStatus) -> StatusOut:
        checkpoint = status.checkpoint
        return cls(
            enabled=status.provider is not None,
            provider=status.provider,
            checkpoint=None
            if checkpoint is None
            else CheckpointOut(
                full_pass=checkpoint.phase,
                full_pass_started_at=checkpoint.pass_started_at,
                changes_read_until=checkpoint.mark,
                window=None
                if checkpoint.window is None
                else WindowOut(start=checkpoint.window.start, end=checkpoint.window.end),
                paused_until=checkpoint.resume_after,
            ),
            last_run=None
            if status.last_run is None
            else RunOut.model_validate(asdict(status.last_run)),
            ambiguous=[AmbiguityOut.model_validate(asdict(a)) for a in status.ambiguous],
        )
