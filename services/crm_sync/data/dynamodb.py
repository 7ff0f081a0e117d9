"""The crm_sync repository on DynamoDB (pynamodb): the only module that touches the table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError

from services.crm_sync.data.tables import (
    SERVICE,
    AmbiguityItem,
    ContactItem,
    CrmSyncOutbox,
    CrmSyncTable,
    EmailItem,
    LeaseItem,
    LinkItem,
    NoteItem,
    SeenHookItem,
    StateItem,
    TicketItem,
)
from services.crm_sync.logic.repository import (
    Ambiguity,
    Checkpoint,
    Counts,
    KnownContact,
    Link,
    LinkWrite,
    Run,
    StaleLink,
    TicketOfRecord,
    Window,
)
from shared.clock import Clock
from shared.events.outbox import add_to_outbox
from shared.storage import bind_table, failed_conditions, transaction

LINK_SK = "LINK"
CHECKPOINT_SK, RUN_SK, LEASE_SK = "CHECKPOINT", "RUN", "LEASE"
CONTACT_SK, TICKET_SK, SEEN_SK = "CONTACT", "TICKET", "SEEN"
BATCH_GET_LIMIT = 100


def _link_key(provider: str, crm_id: str) -> str:
    return f"CRM#{provider}#{crm_id}"


def _state_key(provider: str) -> str:
    return f"SYNC#{provider}"


class DynamoSyncRepository:
    def __init__(self, clock: Clock) -> None:
        bind_table(CrmSyncTable, SERVICE)
        self._clock = clock

    # --- links --------------------------------------------------------------------------------

    def links(self, provider: str, crm_ids: Sequence[str]) -> dict[str, Link]:
        keys = [(_link_key(provider, i), LINK_SK) for i in dict.fromkeys(crm_ids)]
        found: dict[str, Link] = {}
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            for item in LinkItem.batch_get(keys[start : start + BATCH_GET_LIMIT]):
                found[item.crm_id] = Link(
                    item.crm_id,
                    item.updated_at,
                    int(item.version),
                    bool(item.archived),
                    item.merged_into,
                )
        return found

    def save_links(self, provider: str, writes: Sequence[LinkWrite]) -> None:
        transact = transaction(CrmSyncTable)
        try:
            with transact:
                for write in writes:
                    link, previous = write.link, write.previous
                    item = LinkItem(
                        _link_key(provider, link.crm_id),
                        LINK_SK,
                        crm_id=link.crm_id,
                        updated_at=link.updated_at,
                        version=link.version,
                        archived=link.archived,
                        merged_into=link.merged_into,
                    )
                    if previous is None:
                        transact.save(item, condition=LinkItem.pk.does_not_exist())
                    else:
                        transact.save(item, condition=LinkItem.version == previous.version)
                    add_to_outbox(transact, CrmSyncOutbox, write.events, self._clock.now())
        except TransactWriteError as error:
            if failed_conditions(transact, error):
                raise StaleLink(", ".join(w.link.crm_id for w in writes)) from error
            raise
        # A record linked at last is no longer ambiguous. Outside the transaction, which then
        # holds 50 records: the report is advice to a person, not state the sync depends on.
        with AmbiguityItem.batch_write() as reports:
            for write in writes:
                if write.previous is None:
                    reports.delete(AmbiguityItem(f"AMBIGUOUS#{provider}", write.link.crm_id))

    # --- checkpoint and runs ------------------------------------------------------------------

    def checkpoint(self, provider: str) -> Checkpoint:
        state = self._state(provider, CHECKPOINT_SK)
        if state is None:
            return Checkpoint()
        window = state.pop("window")
        return Checkpoint(
            **{k: _datetime(v) if k in _CHECKPOINT_TIMES else v for k, v in state.items()},
            window=None
            if window is None
            else Window(_moment(window["start"]), _moment(window["end"]), window["cursor"]),
        )

    def save_checkpoint(self, provider: str, checkpoint: Checkpoint) -> None:
        StateItem(_state_key(provider), CHECKPOINT_SK, state=_json(asdict(checkpoint))).save()

    def save_run(self, provider: str, run: Run) -> None:
        StateItem(_state_key(provider), RUN_SK, state=_json(asdict(run))).save()

    def take_lease(self, provider: str, holder: str, until: datetime) -> bool:
        try:
            LeaseItem(_state_key(provider), LEASE_SK, holder=holder, until=until).save(
                condition=LeaseItem.pk.does_not_exist() | (LeaseItem.until < self._clock.now())
            )
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release_lease(self, provider: str, holder: str) -> None:
        try:
            LeaseItem(_state_key(provider), LEASE_SK).delete(condition=LeaseItem.holder == holder)
        except DeleteError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise  # otherwise it ran out and another run holds it now: theirs to release

    def last_run(self, provider: str) -> Run | None:
        state = self._state(provider, RUN_SK)
        if state is None:
            return None
        return Run(
            kind=state["kind"],
            started_at=_moment(state["started_at"]),
            finished_at=_datetime(state["finished_at"]),
            outcome=state["outcome"],
            counts=Counts(**state["counts"]),
            error=state["error"],
        )

    @staticmethod
    def _state(provider: str, sk: str) -> dict[str, Any] | None:
        try:
            return dict(StateItem.get(_state_key(provider), sk).state)
        except StateItem.DoesNotExist:
            return None

    # --- ambiguity ----------------------------------------------------------------------------

    def report_ambiguity(self, provider: str, ambiguity: Ambiguity) -> None:
        AmbiguityItem(
            f"AMBIGUOUS#{provider}",
            ambiguity.crm_id,
            emails=list(ambiguity.emails),
            contact_ids=list(ambiguity.contact_ids),
            seen_at=ambiguity.seen_at,
        ).save()

    def ambiguities(self, provider: str, limit: int) -> list[Ambiguity]:
        return [
            Ambiguity(item.sk, tuple(item.emails), tuple(item.contact_ids), item.seen_at)
            for item in AmbiguityItem.query(f"AMBIGUOUS#{provider}", limit=limit)
        ]

    # --- webhook deliveries -------------------------------------------------------------------

    def unseen(self, provider: str, event_ids: Sequence[str]) -> list[str]:
        """Those of `event_ids` not queued before."""
        keys = [(f"HOOK#{provider}#{i}", SEEN_SK) for i in dict.fromkeys(event_ids)]
        seen: set[str] = set()
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            batch = keys[start : start + BATCH_GET_LIMIT]
            seen |= {item.pk.rsplit("#", 1)[1] for item in SeenHookItem.batch_get(batch)}
        return [i for i in dict.fromkeys(event_ids) if i not in seen]

    def mark_seen(self, provider: str, event_ids: Sequence[str], until: datetime) -> None:
        with SeenHookItem.batch_write() as write:
            for event_id in event_ids:
                write.save(SeenHookItem(f"HOOK#{provider}#{event_id}", SEEN_SK, expires_at=until))

    # --- the helpdesk's contacts --------------------------------------------------------------

    def email_owners(self, emails: Sequence[str]) -> dict[str, set[str]]:
        owners: dict[str, set[str]] = {}
        for address in dict.fromkeys(emails):
            for item in EmailItem.query(f"EMAIL#{address}"):
                owners.setdefault(address, set()).add(item.contact_id)
        return owners

    def contact_by_email(self, email: str) -> KnownContact | None:
        owners = self.email_owners([email]).get(email) or set()
        if len(owners) != 1:
            return None
        return self.contact(next(iter(owners)))

    def contact(self, contact_id: str) -> KnownContact | None:
        try:
            item = ContactItem.get(f"CONTACT#{contact_id}", CONTACT_SK)
        except ContactItem.DoesNotExist:
            return None
        return KnownContact(
            item.contact_id,
            tuple(item.emails),
            int(item.version),
            item.crm_provider,
            item.crm_id,
            item.name,
        )

    def remember_contact(self, contact: KnownContact) -> bool:
        """Keep what the contacts service announced, if newer than what is kept."""
        previous = self.contact(contact.contact_id)
        if previous is not None and previous.version >= contact.version:
            return False
        self._write_contact(contact, previous)
        return True

    def forget_contact(self, contact_id: str, version: int) -> None:
        """The contact's addresses are no one's any more (erased, or merged into another)."""
        previous = self.contact(contact_id)
        if previous is None or previous.version < version:
            self._write_contact(KnownContact(contact_id, (), version), previous)

    def _write_contact(self, contact: KnownContact, previous: KnownContact | None) -> None:
        gone = set(previous.emails if previous else ()) - set(contact.emails)
        with CrmSyncTable.batch_write() as write:
            write.save(
                ContactItem(
                    f"CONTACT#{contact.contact_id}",
                    CONTACT_SK,
                    contact_id=contact.contact_id,
                    emails=list(contact.emails),
                    version=contact.version,
                    name=contact.name,
                    crm_provider=contact.crm_provider,
                    crm_id=contact.crm_id,
                )
            )
            for address in gone:
                write.delete(EmailItem(f"EMAIL#{address}", contact.contact_id))
            for address in contact.emails:
                write.save(
                    EmailItem(f"EMAIL#{address}", contact.contact_id, contact_id=contact.contact_id)
                )

    # --- tickets and notes pushed back --------------------------------------------------------

    def remember_ticket(self, ticket: TicketOfRecord) -> None:
        TicketItem(
            f"TICKET#{ticket.ticket_id}",
            TICKET_SK,
            crm_id=ticket.crm_id,
            number=ticket.number,
            subject=ticket.subject,
        ).save()

    def ticket(self, ticket_id: str) -> TicketOfRecord | None:
        try:
            item = TicketItem.get(f"TICKET#{ticket_id}", TICKET_SK)
        except TicketItem.DoesNotExist:
            return None
        return TicketOfRecord(ticket_id, item.crm_id, item.number, item.subject)

    def note_added(self, ticket_id: str, what: str) -> bool:
        return NoteItem.count(f"NOTE#{ticket_id}", NoteItem.sk == what) > 0

    def record_note(self, ticket_id: str, what: str, note_id: str) -> None:
        NoteItem(f"NOTE#{ticket_id}", what, note_id=note_id, added_at=self._clock.now()).save()


_CHECKPOINT_TIMES = {"pass_started_at", "mark", "target", "resume_after"}


def _json(value: Any) -> Any:
    """Dataclass fields as JSON: datetimes as ISO strings."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else _moment(value)
