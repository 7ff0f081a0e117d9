"""What the crm_sync use cases are given: the connected CRM's connector (`data.hubspot`), what
the service keeps (`data.dynamodb`), the work queue (`data.work_queue`), the sync engine, the clock
and the deployment's choices about the CRM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from services.crm_sync.logic.connector import (
    Change,
    CrmPage,
    CrmRecord,
    NewContact,
    Note,
    SignedRequest,
)
from services.crm_sync.logic.repository import (
    Ambiguity,
    Checkpoint,
    KnownContact,
    Link,
    LinkWrite,
    Run,
    TicketOfRecord,
)
from shared.clock import Clock

if TYPE_CHECKING:  # the engine is built on the Protocols below
    from services.crm_sync.logic.sync import SyncEngine


class Connector(Protocol):
    """One CRM's API in the shapes of `logic.connector`; it only translates."""

    provider: str  # "hubspot": the `provider` of every event about its records
    window_limit: int  # most records one `changes` query can page through

    def list_contacts(self, cursor: str | None, archived: bool = False) -> CrmPage:
        """One page of every record (or every archived one), in a stable order."""
        ...

    def changes(self, start: datetime, end: datetime, cursor: str | None) -> CrmPage:
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


class SyncRepository(Protocol):
    def links(self, provider: str, crm_ids: Sequence[str]) -> dict[str, Link]: ...

    def save_links(self, provider: str, writes: Sequence[LinkWrite]) -> None:
        """Store the links with their events, all or nothing, then clear the ambiguity reports of
        records linked for the first time; raises StaleLink when a `previous` is no longer what
        is stored."""
        ...

    def checkpoint(self, provider: str) -> Checkpoint: ...

    def save_checkpoint(self, provider: str, checkpoint: Checkpoint) -> None: ...

    def save_run(self, provider: str, run: Run) -> None: ...

    def take_lease(self, provider: str, holder: str, until: datetime) -> bool:
        """Become the one run under way, unless another holds a lease that has not run out."""
        ...

    def release_lease(self, provider: str, holder: str) -> None:
        """Give the lease up, if `holder` still holds it."""
        ...

    def last_run(self, provider: str) -> Run | None: ...

    def report_ambiguity(self, provider: str, ambiguity: Ambiguity) -> None: ...

    def ambiguities(self, provider: str, limit: int) -> list[Ambiguity]: ...

    def email_owners(self, emails: Sequence[str]) -> dict[str, set[str]]:
        """The contacts that hold each address (normally one; more while events are in flight)."""
        ...


class PushBackRepository(Protocol):
    def contact_by_email(self, email: str) -> KnownContact | None: ...

    def remember_ticket(self, ticket: TicketOfRecord) -> None: ...

    def ticket(self, ticket_id: str) -> TicketOfRecord | None: ...

    def note_added(self, ticket_id: str, what: str) -> bool: ...

    def record_note(self, ticket_id: str, what: str, note_id: str) -> None: ...


class DeliveriesSeen(Protocol):
    def unseen(self, provider: str, event_ids: Sequence[str]) -> list[str]: ...

    def mark_seen(self, provider: str, event_ids: Sequence[str], until: datetime) -> None: ...


class KnownContacts(Protocol):
    """The helpdesk's contacts as the contacts service's events announce them."""

    def remember_contact(self, contact: KnownContact) -> bool: ...

    def forget_contact(self, contact_id: str, version: int) -> None: ...


class CrmSyncRepository(
    SyncRepository, PushBackRepository, DeliveriesSeen, KnownContacts, Protocol
):
    """Everything the service keeps."""


class WorkQueue(Protocol):
    def send(self, bodies: Sequence[str], delay_seconds: int = 0) -> None: ...


@dataclass(frozen=True)
class Dependencies:
    """`connector` and `engine` are None when no CRM is connected (`provider` None)."""

    connector: Connector | None
    repository: CrmSyncRepository
    engine: SyncEngine | None
    queue: WorkQueue
    clock: Clock
    provider: str | None
    push_back: bool  # contacts made here and tickets are written back to the CRM
