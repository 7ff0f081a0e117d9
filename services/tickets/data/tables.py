"""The tickets service's table: one DynamoDB table, several kinds of item.

| item | pk | sk |
|---|---|---|
| ticket | `TICKET#<id>` | `TICKET` |
| message | `TICKET#<id>` | `MSG#<created_at>#<id>` |
| number counter | `COUNTER#ticket-number` | `COUNTER` |
| outbox event | `OUTBOX#<event id>` | `OUTBOX` |

A ticket's messages share its partition, so the ticket and its first page of messages are one
Query. The `by_number` index finds a ticket by its human number. The infrastructure templates are
rendered from these classes, so keys and indexes are declared only here.
"""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.events.outbox import outbox_model

SERVICE = "tickets"


class ByNumber(GlobalSecondaryIndex["TicketItem"]):
    class Meta:
        index_name = "by_number"
        projection = AllProjection()

    number = UnicodeAttribute(hash_key=True)


class TicketsTable(Model):
    class Meta:
        table_name = SERVICE  # logical name; `bind_table` sets the physical one at first use
        billing_mode = PAY_PER_REQUEST_BILLING_MODE
        stream_view_type = "NEW_IMAGE"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # Indexes hang on the table class, not on an entity: every entity shares the table's cached
    # connection, whose description of the table must know all of its indexes.
    by_number = ByNumber()


class PersonAttribute(MapAttribute[str, str]):
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)


class TicketItem(TicketsTable):
    id = UnicodeAttribute()
    number = UnicodeAttribute()
    subject = UnicodeAttribute()
    status = UnicodeAttribute()
    priority = UnicodeAttribute()
    department_id = UnicodeAttribute(null=True)
    assignee = UnicodeAttribute(null=True)
    requester = PersonAttribute()
    contact_id = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    cc = ListAttribute[str](of=UnicodeAttribute, null=True)
    channel_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class MessageItem(TicketsTable):
    id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    visibility = UnicodeAttribute()
    author = MapAttribute[str, str]()
    body = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class CounterItem(TicketsTable):
    value = NumberAttribute(default=0)


TicketsOutbox = outbox_model(TicketsTable)
