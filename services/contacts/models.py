"""The contacts API's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from services.contacts.logic.contact import CRM_OWNED, MAX_EMAILS, Contact, TicketSummary
from shared.api import RequestModel, ResponseModel
from shared.text import MultiLine, SingleLine

Tag = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
NAME = Field(None, max_length=200)
PHONE = Field(None, max_length=40, description="any common form; stored in E.164")
ORGANISATION = Field(None, max_length=200)
NOTES = Field(None, max_length=10_000, description="for the team; never shown to the contact")


class ContactIn(RequestModel):
    name: SingleLine | None = NAME
    emails: list[EmailStr] = Field(
        default_factory=list, max_length=MAX_EMAILS, description="the first is the primary"
    )
    phone: SingleLine | None = PHONE
    organisation: SingleLine | None = ORGANISATION
    notes: MultiLine | None = NOTES
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class ContactPatchIn(RequestModel):
    """Only the fields sent change; null clears one."""

    name: SingleLine | None = NAME
    emails: list[EmailStr] | None = Field(None, max_length=MAX_EMAILS)
    phone: SingleLine | None = PHONE
    organisation: SingleLine | None = ORGANISATION
    notes: MultiLine | None = NOTES
    tags: list[Tag] | None = Field(None, max_length=50)


class MergeIn(RequestModel):
    into: SingleLine = Field(
        min_length=1, max_length=100, description="the id of the contact that stays"
    )


class ContactsQuery(RequestModel):
    email: EmailStr | None = Field(None, description="the contact with exactly this address")
    q: str | None = Field(
        None, max_length=100, description="start of a name, a word of it, or of an address"
    )
    phone: str | None = Field(None, max_length=40, description="the contacts with this number")
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = None


class PageQuery(RequestModel):
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = None


class CrmOut(ResponseModel):
    provider: str
    id: str
    url: str | None


class CrmUnlinkedOut(ResponseModel):
    provider: str
    id: str
    at: datetime = Field(description="when the record was deleted in the CRM")


class BounceOut(ResponseModel):
    at: datetime
    detail: str | None = Field(None, description="the receiving server's answer")


class ContactOut(ResponseModel):
    id: str
    name: str | None
    emails: list[str]
    primary_email: str | None
    phone: str | None
    organisation: str | None
    notes: str | None
    tags: list[str]
    crm: CrmOut | None
    crm_unlinked: CrmUnlinkedOut | None = Field(
        description="the CRM record this contact was linked to was deleted there"
    )
    bounced: dict[str, BounceOut] = Field(
        description="addresses whose mail came back for good (hard bounces), by address"
    )
    read_only: list[str] = Field(description="fields kept in the CRM, not changeable here")
    origin: str = Field(description="`agent`, `ticket` (a new requester) or `crm`")
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls.model_validate(
            {
                **contact.model_dump(),
                "primary_email": contact.primary_email,
                "read_only": list(CRM_OWNED) if contact.crm else [],
            }
        )


class ContactPage(ResponseModel):
    items: list[ContactOut]
    next_cursor: str | None


class ContactTicketOut(ResponseModel):
    id: str
    number: str
    subject: str
    status: str
    department_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, ticket: TicketSummary) -> ContactTicketOut:
        return cls(
            id=ticket.ticket_id,
            number=ticket.number,
            subject=ticket.subject,
            status=ticket.status,
            department_id=ticket.department_id,
            created_at=ticket.created_at,
        )


class ContactTicketPage(ResponseModel):
    items: list[ContactTicketOut]
    next_cursor: str | None
