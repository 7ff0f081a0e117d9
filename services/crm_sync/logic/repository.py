"""What the sync engine keeps (`data.dynamodb` implements it): per CRM record, the state last
applied; per provider, the checkpoints and the last run; and a projection of the helpdesk's
contacts (addresses, CRM links) read from the contacts service's events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from shared.events.envelope import OutgoingEvent


@dataclass(frozen=True)
class Link:
    """What the helpdesk was last told about one CRM record. `version` guards concurrent writes."""

    crm_id: str
    updated_at: datetime  # the CRM's change time of the state last announced
    version: int
    archived: bool = False  # deleted in the CRM (or merged away)
    merged_into: str | None = None


@dataclass(frozen=True)
class Window:
    """An incremental query in progress: records changed in [start, end], read up to `cursor`."""

    start: datetime
    end: datetime
    cursor: str | None = None


Phase = Literal["live", "archived", "done"]


@dataclass(frozen=True)
class Checkpoint:
    """Where the sync stands. Saved after every page, so a crash resumes from the last page."""

    phase: Phase = "live"  # the full pass: live records, then archived ones, then done
    cursor: str | None = None  # of the full pass
    pass_started_at: datetime | None = None
    mark: datetime | None = None  # every change before it was read (less the overlap)
    window: Window | None = None
    target: datetime | None = None  # the end of the incremental span being worked through
    resume_after: datetime | None = None  # the CRM's daily limit was reached


RunOutcome = Literal["ok", "more", "rate_limited", "daily_limit", "unavailable", "failed", "busy"]


@dataclass
class Counts:
    upserted: int = 0
    deleted: int = 0
    merged: int = 0
    unchanged: int = 0
    ambiguous: int = 0
    pages: int = 0


@dataclass
class Run:
    kind: str  # "sync", "full", "webhooks"
    started_at: datetime
    finished_at: datetime | None = None
    outcome: RunOutcome = "ok"
    counts: Counts = field(default_factory=Counts)
    error: str | None = None


@dataclass(frozen=True)
class Ambiguity:
    """A CRM record whose addresses belong to several helpdesk contacts: not linked, reported."""

    crm_id: str
    emails: tuple[str, ...]
    contact_ids: tuple[str, ...]
    seen_at: datetime


@dataclass(frozen=True)
class KnownContact:
    """A helpdesk contact as the contacts service last announced it."""

    contact_id: str
    emails: tuple[str, ...]
    version: int
    crm_provider: str | None = None
    crm_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class LinkWrite:
    """A link, new (`previous` None) or replacing `previous`, with the events it announces."""

    link: Link
    previous: Link | None
    events: Sequence[OutgoingEvent] = ()


@dataclass(frozen=True)
class TicketOfRecord:
    """A ticket whose requester is a CRM record: its notes go there."""

    ticket_id: str
    crm_id: str
    number: str
    subject: str


class StaleLink(Exception):
    """The link changed since it was read."""
