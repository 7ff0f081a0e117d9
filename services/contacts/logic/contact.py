"""A contact as the domain sees it, and the rules every path shares: how addresses and phone
numbers are normalised, which fields the CRM owns, and what a contact is found by."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.errors import DomainError, FieldError, Invalid
from shared.model import Model

MAX_EMAILS = 10
# The fields a CRM-linked contact takes from its CRM record; they are read-only here.
CRM_OWNED = ("name", "emails", "phone", "organisation")
SEARCH_PREFIX_LENGTH = 2  # search partitions are keyed by a term's first characters
MAX_NAME_WORDS = 4  # each word of a name is searchable; the rest of a long name is not

Origin = Literal["agent", "ticket", "crm"]


class Crm(Model):
    """The link of a contact to its CRM record. `updated_at` is the CRM's time of the record as
    last applied: older CRM events are ignored."""

    provider: str
    id: str
    url: str | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> str:
        return crm_key(self.provider, self.id)


class CrmUnlinked(Model):
    """The CRM record a contact was linked to was deleted there, at `at`."""

    provider: str
    id: str
    at: datetime


class Bounce(Model):
    """Mail to an address came back for good (a hard bounce): do not write to it until fixed."""

    at: datetime
    detail: str | None = None


class Contact(Model):
    id: str
    name: str | None = None
    emails: list[str] = Field(default_factory=list)  # lower-cased; the first is the primary
    phone: str | None = None  # E.164
    organisation: str | None = None
    notes: str | None = None
    tags: list[str] = Field(default_factory=list)
    crm: Crm | None = None
    crm_unlinked: CrmUnlinked | None = None
    bounced: dict[str, Bounce] = Field(default_factory=dict)  # by address, from hard bounces
    origin: Origin = "agent"
    created_at: datetime
    updated_at: datetime
    version: int = 1
    merged_into: str | None = None
    erased_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.merged_into is None and self.erased_at is None

    @property
    def primary_email(self) -> str | None:
        return self.emails[0] if self.emails else None

    def emptied(self, **marks: Any) -> Contact:
        """What stays of the contact when its data goes (erased, or merged into another): who it
        was and since when, plus `marks` saying what became of it."""
        return Contact(
            id=self.id,
            origin=self.origin,
            created_at=self.created_at,
            updated_at=self.updated_at,
            version=self.version,
            **marks,
        )

    def search_terms(self) -> set[str]:
        """What prefix search finds this contact by: the whole name, each word of it, and each
        address. An erased or merged-away contact is found by nothing."""
        if not self.active:
            return set()
        terms = set(self.emails)
        if self.name:
            name = search_form(self.name)
            terms.add(name)
            terms.update(name.split()[:MAX_NAME_WORDS])
        return {term for term in terms if len(term) >= SEARCH_PREFIX_LENGTH}


class TicketSummary(Model):
    """What the contacts service keeps of a ticket its contact raised, from ticket events."""

    ticket_id: str
    number: str
    subject: str
    status: str
    created_at: datetime
    contact_id: str | None = None
    department_id: str | None = None  # who may see it: the tickets service's rule


class ContactMoved(DomainError):
    """The contact was merged into another: the answer points at the survivor."""

    status, slug, title = 308, "contact-merged", "Contact merged"

    def __init__(self, contact_id: str, survivor: str) -> None:
        super().__init__(f"Contact {contact_id} was merged into {survivor}; use that one.")
        self.survivor = survivor

    def to_problem(self, instance: str | None = None) -> dict[str, object]:
        return {
            **super().to_problem(instance),
            "merged_into": self.survivor,
            "location": f"/contacts/{self.survivor}",
        }


class ContactErased(DomainError):
    status, slug, title = 410, "contact-erased", "Contact erased"


class CrmOwned(DomainError):
    """A change by hand to a field the CRM owns."""

    status, slug, title = 409, "crm-owned", "Field owned by the CRM"


def email_key(address: str) -> str:
    """Addresses compare case-insensitively, whole: the local part too, as people expect."""
    return address.strip().lower()


def crm_key(provider: str, crm_id: str) -> str:
    return f"{provider.lower()}#{crm_id}"


def search_form(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces single: `Zoë O'Neil` → `zoe oneil`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w@.+\- ]", "", plain).split())


class InvalidPhone(ValueError):
    pass


def e164(number: str) -> str:
    """The number in E.164 (`+442071838750`); InvalidPhone unless it is a valid one.

    The country code is required: a desk serves people of many countries, and a guess at theirs
    would store a wrong number rather than refuse it."""
    import phonenumbers  # ~30 ms to import: kept off the cold start of paths without a number

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_field(number: str, field: str = "phone") -> str:
    """`e164` for input from a person: a bad number is refused naming the field."""
    try:
        return e164(number)
    except InvalidPhone:
        message = "not a valid phone number; give it with its country code, like +44 20 7183 8750"
        raise Invalid(f"{field}: {message}", [FieldError(field, message)]) from None


def distinct_emails(addresses: list[str], field: str = "emails") -> list[str]:
    """Lower-cased, duplicates dropped, order (and so the primary) kept; at most MAX_EMAILS."""
    emails = list(dict.fromkeys(email_key(a) for a in addresses))
    if len(emails) > MAX_EMAILS:
        message = f"at most {MAX_EMAILS} addresses"
        raise Invalid(f"{field}: {message}", [FieldError(field, message)])
    return emails
