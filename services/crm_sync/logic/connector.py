"""What the sync engine needs from a CRM: a connector translates one CRM's API to these shapes.

A connector only translates: it never decides what to apply, never stores anything and never
retries. Matching, checkpoints, retries and idempotency belong to the engine (`logic.sync`), so a
second CRM is one new module in `data/` that implements `logic.dependencies.Connector`, and
nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


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
class CrmPage:
    """One page of a CRM's answer, with the CRM's own cursor of the rest."""

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
