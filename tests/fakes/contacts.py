"""The contacts service's storage in memory, keeping the promises the DynamoDB repository keeps
(`tests/contracts/test_contacts_repositories.py` holds both to them): a commit is all or nothing,
each contact written only at the version it was read at, each address and CRM record owned by one
contact, a ticket linked once; lists come in their index's order, in bounded pages, behind cursors
that no other list accepts; a ticket's summary takes only changes newer than the last it took;
committed events land in `outbox`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from services.contacts.logic.contact import Contact, TicketSummary, search_form
from services.contacts.logic.repository import (
    Commit,
    CrmTaken,
    EmailTaken,
    StaleContact,
    TicketAlreadyLinked,
    Write,
)
from shared.departments import DepartmentStore, Directory
from shared.events.envelope import OutgoingEvent
from shared.storage import Page, bad_cursor, decode_cursor, encode_cursor
from tests.fakes.departments import FakeDepartmentStore

T = TypeVar("T")
V = TypeVar("V")


@dataclass
class _Ticket:
    """A ticket summary as its item holds it: fields stay unset until an event sets them."""

    ticket_id: str
    number: str | None = None
    subject: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    contact_id: str | None = None
    projected_at: datetime | None = None  # time of the latest change applied
    department_id: str | None = None
    department_at: datetime | None = None  # time of the latest move applied

    @property
    def listed(self) -> bool:
        """In the contact's list (DynamoDB's sparse index): linked and created."""
        return self.contact_id is not None and self.created_at is not None

    def summary(self) -> TicketSummary:
        assert self.created_at is not None
        return TicketSummary(
            ticket_id=self.ticket_id,
            number=self.number or "",
            subject=self.subject or "",
            status=self.status or "",
            created_at=self.created_at,
            contact_id=self.contact_id,
            department_id=self.department_id,
        )


class FakeContactRepository:
    def __init__(self, departments: DepartmentStore | None = None) -> None:
        self.departments = departments or FakeDepartmentStore()
        self._contacts: dict[str, str] = {}  # id -> JSON: a read is always a copy
        self._emails: dict[str, str] = {}  # address -> the contact that owns it
        self._crm: dict[str, str] = {}  # CRM key -> the contact linked to it
        self._tickets: dict[str, _Ticket] = {}
        self.outbox: list[OutgoingEvent] = []

    # --- writes -----------------------------------------------------------------------------------

    def commit(self, commit: Commit) -> None:
        # Every condition first, as the transaction checks them, and nothing written on a failure.
        failures = self._failures(commit)
        if failures:
            # A repeated event is told so first: it has nothing more to do.
            failures.sort(key=lambda failure: not isinstance(failure, TicketAlreadyLinked))
            raise failures[0]
        if commit.link_ticket is not None:
            self._link(commit.link_ticket)
        for owners, values in ((self._emails, _emails), (self._crm, _crm_keys)):
            claims, releases = _ownership(commit.writes, values)
            for value in releases.keys() - claims.keys():
                del owners[value]
            owners.update(claims)
        for write in commit.writes:
            self._contacts[write.contact.id] = write.contact.model_dump_json()
        self.outbox.extend(commit.events)

    def _failures(self, commit: Commit) -> list[Exception]:
        failures: list[Exception] = []
        link = commit.link_ticket
        if link is not None:
            ticket = self._tickets.get(link.ticket_id)
            if ticket is not None and ticket.contact_id is not None:
                failures.append(TicketAlreadyLinked())
        kinds: list[tuple[dict[str, str], Callable[[Contact], Iterable[str]], type[Exception]]] = [
            (self._emails, _emails, EmailTaken),
            (self._crm, _crm_keys, CrmTaken),
        ]
        for owners, values, taken in kinds:
            claims, releases = _ownership(commit.writes, values)
            for value in sorted(claims.keys() | releases.keys()):
                # A value given up by one contact and taken by another (a merge) is taken from
                # that contact; one only taken must be no one's.
                expected = releases.get(value)
                if owners.get(value) != expected:
                    failures.append(taken(value) if value in claims else StaleContact(expected))
        for write in commit.writes:
            stored = self.get(write.contact.id)
            expected_version = None if write.previous is None else write.previous.version
            if (None if stored is None else stored.version) != expected_version:
                failures.append(StaleContact(write.contact.id))
        return failures

    def _link(self, summary: TicketSummary) -> None:
        ticket = self._tickets.setdefault(summary.ticket_id, _Ticket(summary.ticket_id))
        ticket.number, ticket.created_at = summary.number, summary.created_at
        ticket.contact_id = summary.contact_id or ""
        # A change that arrived before the ticket's creation is newer: it is kept.
        ticket.subject = _kept(ticket.subject, summary.subject)
        ticket.status = _kept(ticket.status, summary.status)
        ticket.projected_at = _kept(ticket.projected_at, summary.created_at)
        ticket.department_at = _kept(ticket.department_at, summary.created_at)
        ticket.department_id = _kept(ticket.department_id, summary.department_id)

    def move_tickets(self, ticket_ids: list[str], contact_id: str) -> None:
        for ticket_id in ticket_ids:
            self._ticket(ticket_id).contact_id = contact_id

    def project_ticket(self, ticket_id: str, changes: dict[str, str], at: datetime) -> None:
        ticket = self._ticket(ticket_id)
        if ticket.projected_at is None or ticket.projected_at <= at:
            for name, value in changes.items():
                setattr(ticket, name, value)
            ticket.projected_at = at

    def project_department(self, ticket_id: str, department_id: str | None, at: datetime) -> None:
        ticket = self._ticket(ticket_id)
        if ticket.department_at is None or ticket.department_at <= at:
            ticket.department_id, ticket.department_at = department_id, at

    def _ticket(self, ticket_id: str) -> _Ticket:
        """The ticket's item, made by the first write of it (as DynamoDB's UpdateItem does)."""
        return self._tickets.setdefault(ticket_id, _Ticket(ticket_id))

    # --- reads ------------------------------------------------------------------------------------

    def get(self, contact_id: str) -> Contact | None:
        stored = self._contacts.get(contact_id)
        if stored is None:
            return None
        contact = Contact.model_validate_json(stored)
        contact.tags = sorted(set(contact.tags))  # a string set, read back in order
        return contact

    def get_with_departments(self, contact_id: str) -> tuple[Contact | None, Directory]:
        return self.get(contact_id), self.departments.load()

    def by_email(self, address: str) -> Contact | None:
        owner = self._emails.get(address)
        return None if owner is None else self.get(owner)

    def email_owners(self, addresses: list[str]) -> dict[str, str]:
        return {a: self._emails[a] for a in addresses if a in self._emails}

    def by_crm(self, crm_key: str) -> Contact | None:
        owner = self._crm.get(crm_key)
        return None if owner is None else self.get(owner)

    def by_phone(self, phone: str, limit: int, cursor: str | None) -> Page[Contact]:
        listed = [(_name_key(c), c) for c in self._active() if c.phone == phone]
        return _page(sorted(listed, key=_first), ("phone", phone), limit, cursor)

    def list_page(self, limit: int, cursor: str | None) -> Page[Contact]:
        listed = [(_name_key(c), c) for c in self._active()]
        return _page(sorted(listed, key=_first), ("name", ""), limit, cursor)

    def search(self, prefix: str, limit: int, cursor: str | None) -> Page[Contact]:
        # The search index: one entry per term and contact, by `<term>#<contact id>`.
        entries = sorted(
            (f"{term}#{contact.id}", term, contact)
            for contact in self._active()
            for term in contact.search_terms()
            if term.startswith(prefix)
        )
        page = _page(
            [(key, (term, contact)) for key, term, contact in entries],
            ("search", prefix[:2]),
            limit,
            cursor,
        )
        # A contact found by several terms is shown at the first of them only.
        shown = [
            contact
            for term, contact in page.items
            if term == min((t for t in contact.search_terms() if t.startswith(prefix)), key=_term)
        ]
        return Page(shown, page.cursor)

    def tickets(self, contact_id: str, limit: int, cursor: str | None) -> Page[TicketSummary]:
        listed = [
            (f"{s.created_at.isoformat()}#{s.ticket_id}", s) for s in self._summaries(contact_id)
        ]
        newest_first = sorted(listed, key=_first, reverse=True)
        return _page(newest_first, ("tickets", contact_id), limit, cursor, descending=True)

    def ticket_ids(self, contact_id: str) -> list[str]:
        return [summary.ticket_id for summary in self._summaries(contact_id)]

    def _summaries(self, contact_id: str) -> list[TicketSummary]:
        return [
            ticket.summary()
            for ticket in self._tickets.values()
            if ticket.listed and ticket.contact_id == contact_id
        ]

    def _active(self) -> list[Contact]:
        contacts = (self.get(contact_id) for contact_id in self._contacts)
        return [contact for contact in contacts if contact is not None and contact.active]


def _kept(stored: V, given: V) -> V:
    """DynamoDB's `if_not_exists`: what is stored, or else what is given."""
    return given if stored is None else stored


def _emails(contact: Contact) -> list[str]:
    return contact.emails


def _crm_keys(contact: Contact) -> list[str]:
    return [contact.crm.key] if contact.crm else []


def _ownership(
    writes: list[Write], values: Callable[[Contact], Iterable[str]]
) -> tuple[dict[str, str], dict[str, str]]:
    """The values (addresses, CRM keys) the writes take, and those they give up, with the
    contact taking or giving up each."""
    claims: dict[str, str] = {}
    releases: dict[str, str] = {}
    for write in writes:
        before = set(values(write.previous)) if write.previous else set()
        after = set(values(write.contact))
        claims.update(dict.fromkeys(after - before, write.contact.id))
        releases.update(dict.fromkeys(before - after, write.contact.id))
    return claims, releases


def _name_key(contact: Contact) -> str:
    return f"{search_form(contact.name or contact.primary_email or '')}#{contact.id}"


def _term(term: str) -> str:
    """Where a term's entries sort among the others."""
    return f"{term}#"


def _first(entry: tuple[str, object]) -> str:
    return entry[0]


def _page(
    entries: list[tuple[str, T]],
    which: tuple[str, str],
    limit: int,
    cursor: str | None,
    *,
    descending: bool = False,
) -> Page[T]:
    """A page of `entries` (in index order, by their keys) after the cursor's key. A cursor holds
    the list it was given for (`which`: its name and the partition read) and is refused by any
    other, as DynamoDB refuses a start key outside the partition it reads."""
    if cursor is not None:
        position = decode_cursor(cursor, list)
        if len(position) != 3 or position[:2] != list(which) or not isinstance(position[2], str):
            raise bad_cursor()
        after = position[2]
        entries = [e for e in entries if (e[0] < after if descending else e[0] > after)]
    page = entries[:limit]
    more = len(entries) > limit
    return Page(
        [item for _, item in page],
        encode_cursor([*which, page[-1][0]]) if more else None,
    )
