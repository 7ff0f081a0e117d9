"""What every contacts use case is given: storage (`data.dynamodb` implements it), the clock and
the deployment's triage department (who may see tickets without one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.contacts.logic.contact import Contact, TicketSummary
from services.contacts.logic.repository import Commit
from shared.clock import Clock
from shared.departments import Directory
from shared.storage import Page


class ContactRepository(Protocol):
    def commit(self, commit: Commit) -> None:
        """Store it all; raises EmailTaken, CrmTaken, StaleContact or TicketAlreadyLinked and
        then stores nothing."""
        ...

    def get(self, contact_id: str) -> Contact | None: ...

    def get_with_departments(self, contact_id: str) -> tuple[Contact | None, Directory]:
        """The contact, and the departments as the tickets service announced them (one read)."""
        ...

    def by_email(self, address: str) -> Contact | None:
        """The contact that owns the (normalised) address."""
        ...

    def email_owners(self, addresses: list[str]) -> dict[str, str]:
        """The id of the contact owning each of these addresses that has an owner."""
        ...

    def by_crm(self, crm_key: str) -> Contact | None: ...

    def by_phone(self, phone: str, limit: int, cursor: str | None) -> Page[Contact]: ...

    def search(self, prefix: str, limit: int, cursor: str | None) -> Page[Contact]:
        """Contacts with a search term starting with `prefix` (in search form, at least
        SEARCH_PREFIX_LENGTH characters), by term."""
        ...

    def list_page(self, limit: int, cursor: str | None) -> Page[Contact]:
        """Active contacts by name."""
        ...

    def tickets(self, contact_id: str, limit: int, cursor: str | None) -> Page[TicketSummary]:
        """The tickets the contact raised, newest first."""
        ...

    def ticket_ids(self, contact_id: str) -> list[str]: ...

    def move_tickets(self, ticket_ids: list[str], contact_id: str) -> None:
        """Point the summaries of these tickets at another contact (after a merge)."""
        ...

    def project_ticket(self, ticket_id: str, changes: dict[str, str], at: datetime) -> None:
        """Set fields of a ticket summary, unless a change at a later time was applied."""
        ...

    def project_department(self, ticket_id: str, department_id: str | None, at: datetime) -> None:
        """Set the ticket's department, unless a later move was applied (kept apart from the
        other fields: it decides who may see the ticket, so no other change may hide it)."""
        ...


@dataclass(frozen=True)
class Dependencies:
    repository: ContactRepository
    clock: Clock
    triage_department: str | None = None
