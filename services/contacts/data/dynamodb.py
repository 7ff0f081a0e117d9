"""The contacts repository on DynamoDB (pynamodb): the only module that touches the table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from services.contacts.data.tables import (
    DIRECTORY,
    SERVICE,
    ContactItem,
    ContactsOutbox,
    ContactsTable,
    CrmItem,
    DepartmentsItem,
    EmailItem,
    SearchItem,
    TicketItem,
)
from services.contacts.logic.contact import (
    SEARCH_PREFIX_LENGTH,
    Bounce,
    Contact,
    Crm,
    CrmUnlinked,
    TicketSummary,
    search_form,
)
from services.contacts.logic.repository import (
    Commit,
    CrmTaken,
    EmailTaken,
    StaleContact,
    TicketAlreadyLinked,
    Write,
)
from shared.clock import Clock
from shared.department_store import DIRECTORY_KEY, DynamoDepartmentStore, directory_of
from shared.departments import Directory
from shared.events.outbox import add_to_outbox
from shared.storage import (
    ItemKey,
    Page,
    bind_table,
    decode_key_cursor,
    encode_cursor,
    failed_conditions,
    transaction,
)

CONTACT_SK, EMAIL_SK, CRM_SK, TICKET_SK = "CONTACT", "EMAIL", "CRM", "TICKET"


@dataclass(frozen=True)
class Step:
    """One item of a write transaction, and what it means when its condition fails."""

    key: ItemKey
    action: Callable[[TransactWrite], None]
    failure: Exception | None = None


def contact_key(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


def address_key(address: str) -> str:
    return f"EMAIL#{address}"


def crm_item_key(key: str) -> str:
    return f"CRM#{key}"


def ticket_key(ticket_id: str) -> str:
    return f"TICKET#{ticket_id}"


def search_key(term: str) -> tuple[str, str]:
    return f"SEARCH#{term[:SEARCH_PREFIX_LENGTH]}", term


def _sort_key(term: str) -> str:
    """Where a term's items sort among the others (`<term>#<contact id>`)."""
    return f"{term}#"


def department_store() -> DynamoDepartmentStore:
    """The departments the tickets service announced, in this service's table."""
    bind_table(ContactsTable, SERVICE)
    return DynamoDepartmentStore(DepartmentsItem)


class DynamoContactRepository:
    def __init__(self, clock: Clock) -> None:
        bind_table(ContactsTable, SERVICE)
        self._clock = clock

    # --- writes --------------------------------------------------------------------------------

    def commit(self, commit: Commit) -> None:
        """One transaction; each step remembers what its failed condition means."""
        steps: list[Step] = []
        if commit.link_ticket is not None:
            steps.append(_link_ticket(commit.link_ticket))
        steps += _address_steps(commit.writes)
        steps += _crm_steps(commit.writes)
        for write in commit.writes:
            steps.append(_save_contact(write))
            steps += _search_steps(write)
        write_all = transaction(ContactsTable)
        try:
            with write_all:
                for step in steps:
                    step.action(write_all)
                add_to_outbox(write_all, ContactsOutbox, commit.events, self._clock.now())
        except TransactWriteError as error:
            failed = failed_conditions(write_all, error)
            failures = [step.failure for step in steps if step.failure and step.key in failed]
            # A repeated event is told so first: it has nothing more to do.
            failures.sort(key=lambda failure: not isinstance(failure, TicketAlreadyLinked))
            if failures:
                raise failures[0] from None
            raise

    def move_tickets(self, ticket_ids: list[str], contact_id: str) -> None:
        for ticket_id in ticket_ids:
            TicketItem(ticket_key(ticket_id), TICKET_SK).update(
                actions=[TicketItem.contact_id.set(contact_id)]
            )

    def project_department(self, ticket_id: str, department_id: str | None, at: datetime) -> None:
        department = TicketItem.department_id
        change = department.set(department_id) if department_id else department.remove()
        _project(ticket_id, [change], TicketItem.department_at, at)

    def project_ticket(self, ticket_id: str, changes: dict[str, str], at: datetime) -> None:
        actions = [getattr(TicketItem, name).set(value) for name, value in changes.items()]
        _project(ticket_id, actions, TicketItem.projected_at, at)

    # --- reads ---------------------------------------------------------------------------------

    def get(self, contact_id: str) -> Contact | None:
        try:
            return _contact(ContactItem.get(contact_key(contact_id), CONTACT_SK))
        except ContactItem.DoesNotExist:
            return None

    def get_with_departments(self, contact_id: str) -> tuple[Contact | None, Directory]:
        contact, directory = None, Directory()
        for item in ContactsTable.batch_get([(contact_key(contact_id), CONTACT_SK), DIRECTORY_KEY]):
            if isinstance(item, ContactItem):
                contact = _contact(item)
            elif isinstance(item, DepartmentsItem):
                directory = directory_of(item)
        return contact, directory

    def email_owners(self, addresses: list[str]) -> dict[str, str]:
        keys = [(address_key(address), EMAIL_SK) for address in addresses]
        return {
            item.pk.removeprefix("EMAIL#"): item.contact_id for item in EmailItem.batch_get(keys)
        }

    def by_email(self, address: str) -> Contact | None:
        try:
            owner = EmailItem.get(address_key(address), EMAIL_SK)
        except EmailItem.DoesNotExist:
            return None
        return self.get(owner.contact_id)

    def by_crm(self, crm_key: str) -> Contact | None:
        try:
            link = CrmItem.get(crm_item_key(crm_key), CRM_SK)
        except CrmItem.DoesNotExist:
            return None
        return self.get(link.contact_id)

    def by_phone(self, phone: str, limit: int, cursor: str | None) -> Page[Contact]:
        start = _start(cursor, {"pk", "sk", "phone", "name_key"}, ("phone", phone))
        results = ContactsTable.by_phone.query(phone, limit=limit, last_evaluated_key=start)
        return _page([_contact(item) for item in results], results.last_evaluated_key)

    def list_page(self, limit: int, cursor: str | None) -> Page[Contact]:
        start = _start(cursor, {"pk", "sk", "directory", "name_key"}, ("directory", DIRECTORY))
        results = ContactsTable.by_name.query(DIRECTORY, limit=limit, last_evaluated_key=start)
        return _page([_contact(item) for item in results], results.last_evaluated_key)

    def search(self, prefix: str, limit: int, cursor: str | None) -> Page[Contact]:
        partition, _ = search_key(prefix)
        start = _start(cursor, {"pk", "sk"}, ("pk", partition))
        results = SearchItem.query(
            partition, SearchItem.sk.startswith(prefix), limit=limit, last_evaluated_key=start
        )
        matches = [(item.sk.rpartition("#")[0], item.contact_id) for item in results]
        contact_ids = list(dict.fromkeys(contact_id for _, contact_id in matches))
        found = {
            item.id: _contact(item)
            for item in ContactItem.batch_get([(contact_key(i), CONTACT_SK) for i in contact_ids])
        }
        # One contact can match by several terms (its name, a word of it, an address): it is
        # shown at the first of them in the index's order, on whichever page that falls, and at
        # no other, so paging never shows it twice.
        contacts = []
        for term, contact_id in matches:
            contact = found.get(contact_id)
            terms = [t for t in contact.search_terms() if t.startswith(prefix)] if contact else []
            if contact is not None and terms and min(terms, key=_sort_key) == term:
                contacts.append(contact)
        return _page(contacts, results.last_evaluated_key)

    def tickets(self, contact_id: str, limit: int, cursor: str | None) -> Page[TicketSummary]:
        start = _start(
            cursor, {"pk", "sk", "contact_id", "created_key"}, ("contact_id", contact_id)
        )
        results = ContactsTable.by_contact.query(
            contact_id, scan_index_forward=False, limit=limit, last_evaluated_key=start
        )
        return _page([_ticket(item) for item in results], results.last_evaluated_key)

    def ticket_ids(self, contact_id: str) -> list[str]:
        return [
            item.ticket_id
            for item in ContactsTable.by_contact.query(
                contact_id, attributes_to_get=["ticket_id", "kind"]
            )
        ]


# --- the steps of a commit -------------------------------------------------------------------


def _ownership_steps(
    writes: Iterable[Write],
    values: Callable[[Contact], Iterable[str]],
    item_type: type[EmailItem] | type[CrmItem],
    key: Callable[[str], tuple[str, str]],
    taken: Callable[[str], Exception],
) -> list[Step]:
    """Claims and releases of unique values (addresses, CRM records) over the writes of a commit.

    A value one contact gives up and another takes (a merge) is one overwrite, conditioned on
    the old owner: a transaction may touch an item once.
    """
    claims: dict[str, str] = {}
    releases: dict[str, str] = {}
    for write in writes:
        before = set(values(write.previous)) if write.previous else set()
        after = set(values(write.contact))
        claims.update(dict.fromkeys(after - before, write.contact.id))
        releases.update(dict.fromkeys(before - after, write.contact.id))
    steps: list[Step] = []
    for value in sorted(claims.keys() | releases.keys()):
        item = item_type(*key(value), contact_id=claims.get(value, ""))
        if value in claims:
            condition = (
                item_type.contact_id == releases[value]
                if value in releases
                else item_type.pk.does_not_exist()
            )
            steps.append(
                Step(
                    (item.pk, item.sk),
                    lambda t, i=item, c=condition: t.save(i, condition=c),
                    taken(value),
                )
            )
        else:
            condition = item_type.contact_id == releases[value]
            owner = StaleContact(releases[value])
            steps.append(
                Step(
                    (item.pk, item.sk),
                    lambda t, i=item, c=condition: t.delete(i, condition=c),
                    owner,
                )
            )
    return steps


def _address_steps(writes: list[Write]) -> list[Step]:
    return _ownership_steps(
        writes, lambda c: c.emails, EmailItem, lambda a: (address_key(a), EMAIL_SK), EmailTaken
    )


def _crm_steps(writes: list[Write]) -> list[Step]:
    return _ownership_steps(
        writes,
        lambda c: [c.crm.key] if c.crm else [],
        CrmItem,
        lambda k: (crm_item_key(k), CRM_SK),
        CrmTaken,
    )


def _search_steps(write: Write) -> list[Step]:
    contact_id = write.contact.id
    before = write.previous.search_terms() if write.previous else set()
    after = write.contact.search_terms()
    steps: list[Step] = []
    for term in sorted(after - before):
        partition, term_key = search_key(term)
        item = SearchItem(partition, f"{term_key}#{contact_id}", contact_id=contact_id)
        steps.append(Step((item.pk, item.sk), lambda t, i=item: t.save(i)))
    for term in sorted(before - after):
        partition, term_key = search_key(term)
        item = SearchItem(partition, f"{term_key}#{contact_id}")
        steps.append(Step((item.pk, item.sk), lambda t, i=item: t.delete(i)))
    return steps


def _save_contact(write: Write) -> Step:
    item = _contact_item(write.contact)
    condition = (
        ContactItem.pk.does_not_exist()
        if write.previous is None
        else ContactItem.version == write.previous.version
    )
    return Step(
        (item.pk, item.sk),
        lambda t: t.save(item, condition=condition),
        StaleContact(write.contact.id),
    )


def _link_ticket(ticket: TicketSummary) -> Step:
    item = TicketItem(ticket_key(ticket.ticket_id), TICKET_SK)
    actions = [
        TicketItem.kind.set(TicketItem),
        TicketItem.ticket_id.set(ticket.ticket_id),
        TicketItem.number.set(ticket.number),
        TicketItem.created_at.set(ticket.created_at),
        TicketItem.contact_id.set(ticket.contact_id or ""),
        TicketItem.created_key.set(f"{ticket.created_at.isoformat()}#{ticket.ticket_id}"),
        # A change that arrived before the ticket's creation is newer: it is kept.
        TicketItem.subject.set(TicketItem.subject | ticket.subject),
        TicketItem.status.set(TicketItem.status | ticket.status),
        TicketItem.projected_at.set(TicketItem.projected_at | ticket.created_at),
        TicketItem.department_at.set(TicketItem.department_at | ticket.created_at),
    ]
    if ticket.department_id is not None:
        actions.append(
            TicketItem.department_id.set(TicketItem.department_id | ticket.department_id)
        )
    condition = TicketItem.contact_id.does_not_exist()
    return Step(
        (item.pk, item.sk),
        lambda t: t.update(item, actions=actions, condition=condition),
        TicketAlreadyLinked(),
    )


def _project(ticket_id: str, actions: list[Any], changed_at: Any, at: datetime) -> None:
    """Apply a ticket event's changes to its summary, unless `changed_at` (the time of the last
    change of those fields) is later: events arrive in any order, and an older one changes
    nothing."""
    try:
        TicketItem(ticket_key(ticket_id), TICKET_SK).update(
            actions=[
                *actions,
                changed_at.set(at),
                TicketItem.ticket_id.set(ticket_id),
                TicketItem.kind.set(TicketItem),
            ],
            condition=changed_at.does_not_exist() | (changed_at <= at),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


# --- mapping between items and the domain -------------------------------------------------------


def _contact_item(contact: Contact) -> ContactItem:
    listed = contact.active
    sort_name = search_form(contact.name or contact.primary_email or "")
    crm, unlinked = contact.crm, contact.crm_unlinked
    return ContactItem(
        contact_key(contact.id),
        CONTACT_SK,
        id=contact.id,
        name=contact.name,
        emails=contact.emails or None,
        phone=contact.phone,
        organisation=contact.organisation,
        notes=contact.notes,
        tags=set(contact.tags) or None,
        crm=crm.model_dump() if crm else None,
        crm_unlinked=unlinked.model_dump() if unlinked else None,
        bounced={a: b.model_dump(mode="json") for a, b in contact.bounced.items()} or None,
        origin=contact.origin,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
        version=contact.version,
        merged_into=contact.merged_into,
        erased_at=contact.erased_at,
        directory=DIRECTORY if listed else None,
        name_key=f"{sort_name}#{contact.id}" if listed else None,
    )


def _contact(item: ContactItem) -> Contact:
    crm, unlinked = item.crm, item.crm_unlinked
    return Contact(
        id=item.id,
        name=item.name,
        emails=list(item.emails or ()),
        phone=item.phone,
        organisation=item.organisation,
        notes=item.notes,
        tags=sorted(item.tags or ()),
        crm=Crm(provider=crm.provider, id=crm.id, url=crm.url, updated_at=crm.updated_at)
        if crm
        else None,
        crm_unlinked=CrmUnlinked(provider=unlinked.provider, id=unlinked.id, at=unlinked.at)
        if unlinked
        else None,
        bounced={
            address: Bounce.model_validate(bounce)
            for address, bounce in (item.bounced.as_dict() if item.bounced else {}).items()
        },
        origin=item.origin,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version),
        merged_into=item.merged_into,
        erased_at=item.erased_at,
    )


def _ticket(item: TicketItem) -> TicketSummary:
    return TicketSummary(
        ticket_id=item.ticket_id,
        number=item.number or "",
        subject=item.subject or "",
        status=item.status or "",
        created_at=item.created_at,
        contact_id=item.contact_id,
        department_id=item.department_id,
    )


# --- cursors -----------------------------------------------------------------------------------


def _page(items: list[Any], last_key: dict[str, Any] | None) -> Page[Any]:
    return Page(items, encode_cursor(last_key) if last_key else None)


def _start(
    cursor: str | None, attributes: set[str], fixed: tuple[str, str]
) -> dict[str, Any] | None:
    """The read position a cursor holds, refused unless it is one given out for this very list."""
    if cursor is None:
        return None
    name, value = fixed
    return decode_key_cursor(cursor, attributes, {name: value})
