"""The tickets service's table: one DynamoDB table, several kinds of item.

| item | pk | sk |
|---|---|---|
| ticket | `TICKET#<id>` | `#TICKET` |
| message | `TICKET#<id>` | `MSG#<created_at>#<id>` |
| history entry | `HIST#<ticket id>` | `<at>#<n>#<id>` |
| department | `DEPTS` | `DEPT#<id>` |
| membership | `MEMBER#<agent email>` | `DEPT#<department id>` |
| counts per status | `COUNTS#<department id or -none->` | `COUNTS` |
| agent's availability and open tickets | `AGENT#<agent email>` | `LOAD` |
| department's turns | `ROTATION#<department id>` | `ROTATION` |
| number counter | `COUNTER#ticket-number` | `COUNTER` |
| merge's copy job | `MERGE#<source ticket id>` | `MERGE` |
| timings the tickets are filed under for the automations | `AUTOMATIONS` | `FILING` |
| macro | `MACRO#<id>` | `MACRO` |
| macro listed by name | `MACROS#<owner; -none- if shared>` | `NAME#<name, case-folded>` |
| clients' ratings of a day | `RATINGS#<department id or -none->` | `<day>#<agent or -none->` |
| outbox event | `OUTBOX#<event id>` | `OUTBOX` |

`#TICKET` sorts before `MSG#`, so a ticket and the first page of its conversation are one Query.
Lists read indexes keyed by queue (`<department>#<status>`) or by assignee, each sorted by a time,
and by contact: every list is a Query, never a Scan. `by_automation` (`automation_bucket`,
`automation_due`) is sparse: only tickets with a pending automatic step (an auto-close, a reminder,
a resolution after waiting) have its keys; the automations' run queries each bucket for
`automation_due <= now`. The infrastructure templates are rendered from
these classes, so keys and indexes are declared only here.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
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

from shared.events.outbox import outbox_model

SERVICE = "tickets"


def _index(name: str, hash_key: str, range_key: str | None) -> type[GlobalSecondaryIndex[Model]]:
    """A GSI projecting whole tickets (lists show whole tickets, so no second read is needed)."""
    attributes: dict[str, object] = {
        "Meta": type("Meta", (), {"index_name": name, "projection": AllProjection()}),
        hash_key: UnicodeAttribute(hash_key=True),
    }
    if range_key is not None:
        attributes[range_key] = UnicodeAttribute(range_key=True)
    return type(name, (GlobalSecondaryIndex,), attributes)


# name: (hash key attribute, range key attribute)
INDEXES: dict[str, tuple[str, str | None]] = {
    "by_number": ("number", None),
    "by_queue_updated": ("queue", "updated_key"),
    "by_queue_created": ("queue", "created_key"),
    "by_queue_sla": ("queue", "sla_due_key"),
    "by_assignee": ("assignee_queue", "updated_key"),
    "by_contact": ("contact_id", "created_key"),
    "by_automation": ("automation_bucket", "automation_due"),
}


class TicketsTable(Model):
    class Meta:
        table_name = SERVICE  # logical name; `bind_table` sets the physical one at first use
        billing_mode = PAY_PER_REQUEST_BILLING_MODE
        stream_view_type = "NEW_IMAGE"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # Which entity an item is: queries on the table or an index answer with the right class.
    kind = DiscriminatorAttribute()
    # Indexes hang on the table class, not on an entity: every entity shares the table's cached
    # connection, whose description of the table must know all of its indexes.
    by_number = _index("by_number", *INDEXES["by_number"])()
    by_queue_updated = _index("by_queue_updated", *INDEXES["by_queue_updated"])()
    by_queue_created = _index("by_queue_created", *INDEXES["by_queue_created"])()
    by_queue_sla = _index("by_queue_sla", *INDEXES["by_queue_sla"])()
    by_assignee = _index("by_assignee", *INDEXES["by_assignee"])()
    by_contact = _index("by_contact", *INDEXES["by_contact"])()
    by_automation = _index("by_automation", *INDEXES["by_automation"])()


class PersonAttribute(MapAttribute[str, str]):
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)


class SlaAttribute(MapAttribute[str, object]):
    state = UnicodeAttribute(null=True)
    first_response_due_at = UTCDateTimeAttribute(null=True)
    resolution_due_at = UTCDateTimeAttribute(null=True)
    sequence = NumberAttribute(null=True)


class SatisfactionAttribute(MapAttribute[str, object]):
    rating = UnicodeAttribute()
    comment = UnicodeAttribute(null=True)
    rated_at = UTCDateTimeAttribute()
    resolved_at = UnicodeAttribute()
    agent = UnicodeAttribute(null=True)
    department_id = UnicodeAttribute(null=True)


class TicketItem(TicketsTable, discriminator="ticket"):
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
    sla = SlaAttribute(null=True)
    first_response_at = UTCDateTimeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    reminded_at = UTCDateTimeAttribute(null=True)
    merged_into = UnicodeAttribute(null=True)
    follow_up_of = UnicodeAttribute(null=True)
    possible_follow_up_of = UnicodeAttribute(null=True)
    satisfaction = SatisfactionAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute()
    revision = NumberAttribute(null=True)  # null on tickets written before it existed
    # Index keys, derived from the fields above whenever the ticket is written.
    queue = UnicodeAttribute()
    assignee_queue = UnicodeAttribute()
    updated_key = UnicodeAttribute()
    created_key = UnicodeAttribute()
    sla_due_key = UnicodeAttribute(null=True)
    automation_bucket = UnicodeAttribute(null=True)
    automation_due = UnicodeAttribute(null=True)  # when the pending step is due


class AttachmentAttribute(MapAttribute[str, object]):
    name = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    key = UnicodeAttribute()
    content_id = UnicodeAttribute(null=True)


class MessageItem(TicketsTable, discriminator="message"):
    id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    visibility = UnicodeAttribute()
    author = MapAttribute[str, str]()
    body = UnicodeAttribute()
    html = UnicodeAttribute(null=True)
    attachments = ListAttribute[AttachmentAttribute](of=AttachmentAttribute, null=True)
    attachments_omitted = NumberAttribute(null=True)
    mail_message_id = UnicodeAttribute(null=True)
    # recipient -> {state, detail, at, rank}: what became of the mail of a public reply
    delivery = MapAttribute[str, Any](null=True)
    created_at = UTCDateTimeAttribute()


class HistoryItem(TicketsTable, discriminator="history"):
    ticket_id = UnicodeAttribute()
    field = UnicodeAttribute()
    old = UnicodeAttribute(null=True)  # JSON of the old value
    new = UnicodeAttribute(null=True)  # JSON of the new value
    actor = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    reason = UnicodeAttribute(null=True)


class DepartmentItem(TicketsTable, discriminator="department"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    members = UnicodeSetAttribute(null=True)
    archived = BooleanAttribute(default=False)
    assignment = UnicodeAttribute(null=True)  # null on departments written before it existed
    open_limit = NumberAttribute(null=True)


class MemberItem(TicketsTable, discriminator="member"):
    email = UnicodeAttribute()
    department_id = UnicodeAttribute()


class CountsItem(TicketsTable, discriminator="counts"):
    open = NumberAttribute(default=0)
    in_progress = NumberAttribute(default=0)
    waiting_on_client = NumberAttribute(default=0)
    resolved = NumberAttribute(default=0)
    closed = NumberAttribute(default=0)


class AgentLoadItem(TicketsTable, discriminator="agent_load"):
    """Whether an agent takes tickets by turns, and how many open tickets they are assigned (kept
    by every commit that changes a ticket's assignee or status, never below zero; counted again
    from the assignee index when a department turns assignment by turns on)."""

    available = BooleanAttribute(null=True)
    open_tickets = NumberAttribute(null=True)


class RotationItem(TicketsTable, discriminator="rotation"):
    """A department's turns: each ticket assigned by turns counts one, on the condition that the
    count is still the one read."""

    turns = NumberAttribute(default=0)
    last = UnicodeAttribute(null=True)


class RatingTallyItem(TicketsTable, discriminator="rating_tally"):
    """How many clients rated good and bad on one day, for one department and agent."""

    good = NumberAttribute(default=0)
    bad = NumberAttribute(default=0)


class CounterItem(TicketsTable, discriminator="counter"):
    value = NumberAttribute(default=0)


class MergeCopyItem(TicketsTable, discriminator="merge_copy"):
    """The copy of a merged ticket's conversation into its target, and how far it got."""

    source_id = UnicodeAttribute()
    target_id = UnicodeAttribute()
    last_copied = UnicodeAttribute(null=True)  # sort key of the last source message copied
    copied = NumberAttribute(default=0)
    status = UnicodeAttribute()  # pending, then done
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class AutomationFilingItem(TicketsTable, discriminator="automation_filing"):
    """The timings every ticket is filed under in `by_automation`, and where a refile under new
    ones stands (timings as JSON: microseconds per step, null when off)."""

    filed = UnicodeAttribute(null=True)  # null: not known
    refiling = UnicodeAttribute(null=True)
    # Not `queue`: that attribute keys the queue indexes.
    refile_queue = UnicodeAttribute(null=True)
    refile_cursor = UnicodeAttribute(null=True)
    revision = NumberAttribute()


class MacroItem(TicketsTable, discriminator="macro"):
    """A macro, stored under its id and again in its owner's list (whose keys keep names unique)."""

    id = UnicodeAttribute()
    scope = UnicodeAttribute()
    owner = UnicodeAttribute(null=True)
    name = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    visibility = UnicodeAttribute()
    changes = UnicodeAttribute()  # JSON of the changes it makes, and only those
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    revision = NumberAttribute()


TicketsOutbox = outbox_model(TicketsTable)
