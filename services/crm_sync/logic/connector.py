"""What the sync engine needs from a CRM: a connector translates one CRM's API to these shapes.

A connector only translates: it never decides what to apply, never stores anything and never
retries. Matching, checkpoints, retries and idempotency belong to the engine (`logic.sync`), so a
second CRM is one new module in `data/` that implements `Connector`, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol


@dataclass(frozen=True)
class CrmRecord:
    """One contact record as the CRM holds it now."""

    crm_id: str
    emails: tuple[str, ...]  # the first is the primary address
    name: str | None
    phone: str | None
    organisation: str | None
    updated_at: datetime  # the CRM's own change time: updates are applied only forward in it
    archived: bool = False
    url: str | None = None
    merged_ids: tuple[str, ...] = ()  # records merged into this one


@dataclass(frozen=True)
class Page:
    records: list[CrmRecord]
    next_cursor: str | None
    total: int | None = None  # how many records the whole query holds, where the CRM says


ChangeKind = Literal["upsert", "delete", "merge"]


@dataclass(frozen=True)
class Change:
    """One thing a webhook announced. It names records; their state is read from the CRM when
    applied, since webhooks arrive out of order and carry only part of a record."""

    event_id: str
    kind: ChangeKind
    crm_id: str
    occurred_at: datetime
    merged_ids: tuple[str, ...] = ()  # for a merge: the records merged into `crm_id`


@dataclass(frozen=True)
class SignedRequest:
    """A webhook request as it reached us: what a signature may cover."""

    method: str
    url: str  # the public URL the CRM called, query string included
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class NewContact:
    """A contact made by hand in the helpdesk, to create in the CRM."""

    emails: tuple[str, ...]
    name: str | None = None
    phone: str | None = None
    organisation: str | None = None


@dataclass(frozen=True)
class Note:
    body: str
    at: datetime


class CrmError(Exception):
    """The CRM did not answer as expected: an outage, a refusal, a shape we do not know."""


class CrmUnavailable(CrmError):
    """A 5xx, a timeout, a connection refused: the next run catches up."""


class RateLimited(CrmError):
    """The CRM asks to wait `retry_after` seconds; `daily` when the day's quota is spent."""

    def __init__(self, retry_after: float, daily: bool = False) -> None:
        super().__init__(
            f"rate limited for {retry_after:.0f}s" + (" (daily limit)" if daily else "")
        )
        self.retry_after = retry_after
        self.daily = daily


class InvalidSignature(Exception):
    """A webhook request that is not signed by the CRM, or signed too long ago."""


class MalformedWebhook(Exception):
    """A signed webhook request whose body is not what the CRM documents."""


class Connector(Protocol):
    provider: str  # "hubspot": the `provider` of every event about its records
    window_limit: int  # most records one `changes` query can page through

    def list_contacts(self, cursor: str | None, archived: bool = False) -> Page:
        """One page of every record (or every archived one), in a stable order."""
        ...

    def changes(self, start: datetime, end: datetime, cursor: str | None) -> Page:
        """One page of the records changed in [start, end] (both inclusive), oldest first, with
        `total` set: the engine splits a window that holds more than `window_limit`."""
        ...

    def get_contacts(self, crm_ids: Sequence[str]) -> dict[str, CrmRecord]:
        """The current records of these ids, by requested id; a merged-away id answers with the
        surviving record; an id that is gone (or archived) is left out."""
        ...

    def find_by_email(self, email: str) -> CrmRecord | None: ...

    def parse_webhook(self, request: SignedRequest, now: datetime) -> list[Change]:
        """The changes a webhook request announces; raises InvalidSignature, changing nothing."""
        ...

    def create_contact(self, contact: NewContact) -> CrmRecord: ...

    def add_note(self, crm_id: str, note: Note) -> str:
        """Attach a note to the record; returns the note's id."""
        ...

    def record_url(self, crm_id: str) -> str | None: ...
