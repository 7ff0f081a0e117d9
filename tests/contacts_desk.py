"""The contacts service's use cases as agents and other services reach them, on whichever storage
the test gives: agents' requests, and the events of tickets, the CRM sync and mail delivery, with
the service's own ContactMerged applied as its consumer would. Also the events other services
announce, as the service suites put them on the bus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.contacts.logic.bounces import flag_bounced
from services.contacts.logic.contact import Contact, TicketSummary
from services.contacts.logic.crm import delete_from_crm, merge_from_crm, upsert_from_crm
from services.contacts.logic.dependencies import Dependencies
from services.contacts.logic.manage_contacts import (
    ContactFields,
    create_contact,
    erase_contact,
    find_contact,
    list_contacts,
    search_contacts,
    tickets_of_contact,
    update_contact,
)
from services.contacts.logic.merge import merge_by_hand, move_tickets
from services.contacts.logic.requesters import (
    link_requester,
    ticket_status_changed,
    ticket_updated,
)
from shared.clock import FixedClock
from shared.departments import Department
from shared.events.catalogue import (
    ContactMerged,
    CrmContactDeleted,
    CrmContactMerged,
    CrmContactUpserted,
    EmailBounced,
    FieldChange,
    Person,
    RecipientOutcome,
    TicketCreated,
    TicketStatusChanged,
    TicketUpdated,
)
from shared.events.envelope import OutgoingEvent
from shared.identity import Caller
from tests.fakes.contacts import FakeContactRepository

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = Caller("alice@example.com", "agent")
ADMIN = Caller("admin@example.com", "admin")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ticket_created(
    email: str,
    name: str | None = None,
    *,
    ticket_id: str | None = None,
    number: int = 1,
    created_at: datetime = T0,
    subject: str = "Cannot log in",
    department_id: str | None = None,
) -> TicketCreated:
    """TicketCreated as the tickets service announces it."""
    return TicketCreated(
        ticket_id=ticket_id or str(uuid.uuid4()),
        number=f"TKT-{number:04d}",
        subject=subject,
        status="open",
        priority="medium",
        department_id=department_id,
        requester=Person(email=email, name=name),
        created_at=iso(created_at),
    )


def ticket_updated_event(
    ticket: TicketCreated, at: datetime, **changes: tuple[Any, Any]
) -> TicketUpdated:
    """TicketUpdated of `ticket`: each change as `field=(old, new)`."""
    return TicketUpdated(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        changes=[FieldChange(field=f, old=old, new=new) for f, (old, new) in changes.items()],
        actor="alice@example.com",
        version=2,
        updated_at=iso(at),
    )


def status_changed(ticket: TicketCreated, old: str, new: str, at: datetime) -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        old=old,
        new=new,
        priority="medium",
        department_id=ticket.department_id,
        reason="agent",
        changed_at=iso(at),
    )


def crm_record(crm_id: str = "501", *, minutes: int = 0, **fields: Any) -> CrmContactUpserted:
    """A CRM record as the CRM sync service announces it, changed `minutes` after T0."""
    values: dict[str, Any] = {
        "provider": "hubspot",
        "crm_id": crm_id,
        "url": f"https://app.hubspot.com/contacts/1/record/0-1/{crm_id}",
        "emails": ["dana@client.example.org"],
        "name": "Dana Scully",
        "phone": "+1 202 555 0143",
        "organisation": "FBI",
        "updated_at": iso(T0 + timedelta(minutes=minutes)),
    }
    return CrmContactUpserted(**{**values, **fields})


class Desk:
    """The contacts service on the in-memory storage, at a fixed time."""

    def __init__(self, triage_department: str | None = None) -> None:
        self.repository = FakeContactRepository()
        self.deps = Dependencies(self.repository, FixedClock(T0), triage_department)
        self._delivered = 0  # how much of the outbox the service's own consumer has seen

    # --- agents -----------------------------------------------------------------------------------

    def create(self, caller: Caller = AGENT, **fields: Any) -> Contact:
        return create_contact(ContactFields(**fields), caller, self.deps)

    def update(self, contact_id: str, caller: Caller = AGENT, **fields: Any) -> Contact:
        return update_contact(contact_id, ContactFields(**fields), caller, self.deps)

    def get(self, contact_id: str) -> Contact:
        return find_contact(contact_id, self.deps)

    def erase(self, contact_id: str) -> Contact:
        return erase_contact(contact_id, ADMIN, self.deps)

    def merge(self, merged_id: str, into: str) -> Contact:
        survivor = merge_by_hand(merged_id, into, ADMIN, self.deps, None)
        self.deliver()
        return survivor

    def find(
        self,
        *,
        email: str | None = None,
        q: str | None = None,
        phone: str | None = None,
        limit: int = 25,
    ) -> list[Contact]:
        """The first page a search (by `email`, `q` or `phone`) finds, or of the list without."""
        if email is None and q is None and phone is None:
            return list_contacts(self.deps, limit, None).items
        found = search_contacts(self.deps, email=email, q=q, phone=phone, limit=limit, cursor=None)
        return found.items

    def find_one(
        self, *, email: str | None = None, q: str | None = None, phone: str | None = None
    ) -> Contact:
        [found] = self.find(email=email, q=q, phone=phone)
        return found

    def tickets(
        self, contact_id: str, caller: Caller = ADMIN, limit: int = 100
    ) -> list[TicketSummary]:
        return tickets_of_contact(contact_id, caller, self.deps, limit, None).items

    # --- other services' events -------------------------------------------------------------------

    def ticket(self, *events: TicketCreated | TicketUpdated | TicketStatusChanged) -> None:
        for event in events:
            if isinstance(event, TicketCreated):
                link_requester(event, self.deps, str(uuid.uuid4()))
            elif isinstance(event, TicketUpdated):
                ticket_updated(event, self.deps)
            else:
                ticket_status_changed(event, self.deps)

    def crm(self, *events: CrmContactUpserted | CrmContactDeleted | CrmContactMerged) -> None:
        for event in events:
            if isinstance(event, CrmContactUpserted):
                upsert_from_crm(event, self.deps, str(uuid.uuid4()))
            elif isinstance(event, CrmContactDeleted):
                delete_from_crm(event, self.deps, str(uuid.uuid4()))
            else:
                merge_from_crm(event, self.deps, str(uuid.uuid4()))
        self.deliver()

    def bounce(self, address: str, kind: str = "bounce", permanent: bool = True) -> list[str]:
        event = EmailBounced(
            ticket_id="t1",
            ticket_message_id="m1",
            ticket_message_at=iso(T0),
            message_id="reply-1@example.com",
            recipients=[RecipientOutcome(email=address, detail="smtp; 550 5.1.1 user unknown")],
            at=iso(T0 + timedelta(minutes=1)),
            kind=kind,
            permanent=permanent,
        )
        return flag_bounced(event, self.deps)

    def department(self, department_id: str, *members: str) -> None:
        """The tickets service announced the department's members."""
        self.repository.departments.record(
            Department(id=department_id, members=list(members), changed_at=T0)
        )

    def deliver(self) -> None:
        """Apply the service's own ContactMerged events, as its consumer does."""
        for event in self.repository.outbox[self._delivered :]:
            if event.detail_type == ContactMerged.event_name:
                merged = ContactMerged.model_validate(event.envelope.data)
                move_tickets(merged.merged_contact_id, merged.surviving_contact_id, self.deps)
        self._delivered = len(self.repository.outbox)

    # --- what it announced ------------------------------------------------------------------------

    def announced(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The data of every event in the outbox (of one kind), oldest first."""
        return [e.envelope.data for e in self.events() if kind in (None, e.detail_type)]

    def events(self) -> list[OutgoingEvent]:
        return list(self.repository.outbox)
