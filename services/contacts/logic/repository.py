"""The unit of work a contacts use case hands to storage: contacts as they were and as they are
to be, the ticket to link, and the events, written all or nothing; and why storage refuses one."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.contacts.logic.contact import Contact, TicketSummary
from shared.events.envelope import OutgoingEvent


@dataclass(frozen=True)
class Write:
    """One contact, new (`previous` None) or changed from `previous` (which must still be the
    stored version). Its address, CRM and search entries follow from the difference."""

    contact: Contact
    previous: Contact | None


@dataclass
class Commit:
    writes: list[Write]
    events: list[OutgoingEvent] = field(default_factory=list)
    link_ticket: TicketSummary | None = None  # linked to its `contact_id`, if not linked yet


class EmailTaken(Exception):
    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address


class CrmTaken(Exception):
    """Another contact is linked to that CRM record."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class StaleContact(Exception):
    """The contact changed since it was read."""


class TicketAlreadyLinked(Exception):
    """The ticket is linked to a contact already (a repeated event)."""
