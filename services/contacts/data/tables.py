"""The contacts service's table: one DynamoDB table, several kinds of item.

| item | pk | sk |
|---|---|---|
| contact | `CONTACT#<id>` | `CONTACT` |
| address → contact (unique) | `EMAIL#<lower-cased address>` | `EMAIL` |
| CRM record → contact (unique) | `CRM#<provider>#<crm id>` | `CRM` |
| search term → contact | `SEARCH#<first two characters>` | `<term>#<contact id>` |
| ticket the contact raised | `TICKET#<ticket id>` | `TICKET` |
| the departments and their members (one item) | `DEPARTMENTS` | `DEPARTMENTS` |
| outbox event | `OUTBOX#<event id>` | `OUTBOX` |

An address item and a CRM item are written in the same transaction as their contact, on the
condition that they do not exist yet: that condition is what makes an address belong to one
contact only, however many requests race for it.

Search terms partition by their first two characters and are read with `begins_with` on the sort
key, so a prefix search is one Query on one partition that stops at the page size: its cost is
bounded by the page, never by the number of contacts.

Indexes (sparse: only the items that carry their keys are in them):
- `by_name`: every active contact under one key (`directory`), sorted by name; the list of all
  contacts. One partition serves thousands of reads a second, enough for a contact directory.
- `by_phone`: active contacts by E.164 phone (a number may be shared, like a switchboard).
- `by_contact`: the tickets of a contact, newest first.
"""

from __future__ import annotations

from pynamodb.attributes import (
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.department_store import DirectoryAttributes
from shared.events.outbox import outbox_model

SERVICE = "contacts"
DIRECTORY = "CONTACTS"  # the `by_name` key of every active contact


class ByName(GlobalSecondaryIndex[Model]):
    class Meta:
        index_name = "by_name"
        projection = AllProjection()

    directory = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True)


class ByPhone(GlobalSecondaryIndex[Model]):
    class Meta:
        index_name = "by_phone"
        projection = AllProjection()

    phone = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True)


class ByContact(GlobalSecondaryIndex[Model]):
    class Meta:
        index_name = "by_contact"
        projection = AllProjection()

    contact_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ContactsTable(Model):
    class Meta:
        table_name = SERVICE  # logical name; `bind_table` sets the physical one at first use
        billing_mode = PAY_PER_REQUEST_BILLING_MODE
        stream_view_type = "NEW_IMAGE"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    # On the table class, so the shared connection knows every index (as in the tickets table).
    by_name = ByName()
    by_phone = ByPhone()
    by_contact = ByContact()


class CrmAttribute(MapAttribute[str, object]):
    provider = UnicodeAttribute()
    id = UnicodeAttribute()
    url = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)


class CrmUnlinkedAttribute(MapAttribute[str, object]):
    provider = UnicodeAttribute()
    id = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class ContactItem(ContactsTable, discriminator="contact"):
    id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    emails = ListAttribute[str](of=UnicodeAttribute, null=True)
    phone = UnicodeAttribute(null=True)
    organisation = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    crm = CrmAttribute(null=True)
    crm_unlinked = CrmUnlinkedAttribute(null=True)
    bounced = MapAttribute[str, object](null=True)  # address -> {"at", "detail"}
    origin = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute()
    merged_into = UnicodeAttribute(null=True)
    erased_at = UTCDateTimeAttribute(null=True)
    # Index keys, derived from the fields above whenever the contact is written.
    directory = UnicodeAttribute(null=True)
    name_key = UnicodeAttribute(null=True)


class EmailItem(ContactsTable, discriminator="email"):
    contact_id = UnicodeAttribute()


class CrmItem(ContactsTable, discriminator="crm"):
    contact_id = UnicodeAttribute()


class SearchItem(ContactsTable, discriminator="search"):
    contact_id = UnicodeAttribute()


class TicketItem(ContactsTable, discriminator="ticket"):
    """A ticket as its events described it. Fields are null until TicketCreated arrives: an
    update can come first, and is kept."""

    ticket_id = UnicodeAttribute()
    number = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    created_key = UnicodeAttribute(null=True)
    projected_at = UTCDateTimeAttribute(null=True)  # time of the latest event applied
    department_id = UnicodeAttribute(null=True)
    department_at = UTCDateTimeAttribute(null=True)  # time of the latest move applied


class DepartmentsItem(ContactsTable, DirectoryAttributes, discriminator="departments"):
    """What the tickets service announced of its departments (`shared.department_store`)."""


ContactsOutbox = outbox_model(ContactsTable)
