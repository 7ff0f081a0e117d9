"""The crm_sync service's table.

| item | pk | sk |
|---|---|---|
| what the helpdesk was told of a CRM record | `CRM#<provider>#<crm id>` | `LINK` |
| where the sync stands | `SYNC#<provider>` | `CHECKPOINT` |
| the last run | `SYNC#<provider>` | `RUN` |
| the run under way (a lease) | `SYNC#<provider>` | `LEASE` |
| a record matched by address to several contacts | `AMBIGUOUS#<provider>` | `<crm id>` |
| webhook event already queued (expires) | `HOOK#<provider>#<event id>` | `SEEN` |
| a helpdesk contact, from its events | `CONTACT#<contact id>` | `CONTACT` |
| address → contact, from those events | `EMAIL#<address>` | `<contact id>` |
| a ticket whose requester is in the CRM | `TICKET#<ticket id>` | `TICKET` |
| note added to a CRM record for a ticket | `NOTE#<ticket id>` | `<what happened>` |
| outbox event | `OUTBOX#<event id>` | `OUTBOX` |
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.models import Model

from shared.events.outbox import outbox_model

SERVICE = "crm_sync"


class CrmSyncTable(Model):
    class Meta:
        table_name = SERVICE  # logical name; `bind_table` sets the physical one at first use
        billing_mode = PAY_PER_REQUEST_BILLING_MODE
        stream_view_type = "NEW_IMAGE"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class LinkItem(CrmSyncTable):
    crm_id = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute()
    archived = BooleanAttribute(default=False)
    merged_into = UnicodeAttribute(null=True)


class StateItem(CrmSyncTable):
    """The checkpoint or the last run, as a JSON document: read and written whole."""

    state = JSONAttribute()


class LeaseItem(CrmSyncTable):
    """Held by the one run under way; a run that dies holding it loses it at `until`."""

    holder = UnicodeAttribute()
    until = UTCDateTimeAttribute()  # fixed-width UTC text, so it compares in time order


class AmbiguityItem(CrmSyncTable):
    emails = ListAttribute[str](of=UnicodeAttribute)
    contact_ids = ListAttribute[str](of=UnicodeAttribute)
    seen_at = UTCDateTimeAttribute()


class SeenHookItem(CrmSyncTable):
    expires_at = TTLAttribute()


class ContactItem(CrmSyncTable):
    contact_id = UnicodeAttribute()
    emails = ListAttribute[str](of=UnicodeAttribute)
    version = NumberAttribute()
    name = UnicodeAttribute(null=True)
    crm_provider = UnicodeAttribute(null=True)
    crm_id = UnicodeAttribute(null=True)


class EmailItem(CrmSyncTable):
    contact_id = UnicodeAttribute()


class TicketItem(CrmSyncTable):
    crm_id = UnicodeAttribute()
    number = UnicodeAttribute()
    subject = UnicodeAttribute()


class NoteItem(CrmSyncTable):
    note_id = UnicodeAttribute()
    added_at = UTCDateTimeAttribute()


CrmSyncOutbox = outbox_model(CrmSyncTable)
