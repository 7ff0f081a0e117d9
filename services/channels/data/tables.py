"""The channels service's table.

| item | pk | sk |
|---|---|---|
| received mail (one per SES message and department) | `INBOUND#<ses message id>` | `<department>` |
| received mail, by its sender (to erase it with them) | `SENDER#<address>` | `<ses message id>` |
| Message-ID seen for a department | `MSGID#<Message-ID>` | `<department>` |
| what channels knows of a ticket | `THREAD#<ticket id>` | `THREAD` |
| ticket number → ticket | `NUMBER#<number>` | `REF` |
| Message-ID of mail sent or received → ticket | `MID#<Message-ID>` | `REF` |
| acknowledgements to a sender in an hour | `ACKS#<sender>` | `<yyyy-mm-ddThh>` |
| acknowledgements from a channel in an hour | `CHANNEL_ACKS#<channel id>` | `<yyyy-mm-ddThh>` |
| tickets a sender opened by mail in an hour | `OPENED#<sender>` | `<yyyy-mm-ddThh>` |
| quarantined mail | `QUARANTINE` | `<received_at>.<ses message id>.<department>` |
| machine mail held back | `HELD` | `held.<received_at>.<ses message id>.<department>` |
| mail sent for a ticket's message | `OUTBOUND#<ticket message id>` | `OUTBOUND` |
| a ticket's acknowledgement, sent | `OUTBOUND#ack-<ticket id>` | `OUTBOUND` |
| SES message id → that mail | `SES#<ses message id>` | `REF` |
| channel (an inbound address) | `CHANNELS` | `CHANNEL#<id>` |
| address → channel (unique) | `ADDRESS#<address>` | `ADDRESS` |
| outbox event | `OUTBOX#<event id>` | `OUTBOX` |
| the departments the tickets service announced | `DEPARTMENTS` | `DEPARTMENTS` |
| a ticket as notifications follow it | `WATCH#<ticket id>` | `WATCH` |
| the admins' defaults of notifications | `NOTIFY_PREFS` | `DEFAULTS` |
| an agent's own choices of notifications | `NOTIFY_PREFS#<agent>` | `OWN` |
| an agent's last notification on a ticket, what waits | `NOTIFY_WINDOW#<agent>` | `<ticket id>` |
| a window with notices due | `NOTIFY_DUE` | `<due at>#<agent>#<ticket id>` |
| an event claimed for an agent | `NOTIFIED#<event id>` | `<agent>` |
| a notification we mailed, by its Message-ID | `NOTIFICATION#<Message-ID>` | `REF` |
| a ticket's latest resolution to rate, and latest re-open | `RATING#<ticket id>` | `RATING` |
| a rating mail due after the delay | `RATING_DUE` | `<due at>#<ticket id>` |
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.models import Model

from shared.department_store import DirectoryAttributes
from shared.events.outbox import outbox_model

SERVICE = "channels"


class ChannelsTable(Model):
    class Meta:
        table_name = SERVICE  # logical name; `bind_table` sets the physical one at first use
        billing_mode = PAY_PER_REQUEST_BILLING_MODE
        stream_view_type = "NEW_IMAGE"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class InboundItem(ChannelsTable):
    """That a mail was received, so SES delivering it again records nothing. Who sent it and
    what it says are in the mail itself and the ticket: not kept here as well."""

    ses_message_id = UnicodeAttribute()
    raw_key = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()
    held = UnicodeAttribute(null=True)  # why it was kept back instead of announced


class SenderMailItem(ChannelsTable):
    """A mail received from an address, so erasing the person deletes its raw MIME and its
    attachments; goes with them."""

    received_at = UTCDateTimeAttribute()


class ThreadItem(ChannelsTable):
    ticket_id = UnicodeAttribute()
    number = UnicodeAttribute()
    subject = UnicodeAttribute()
    requester = UnicodeAttribute()
    cc = ListAttribute[str](of=UnicodeAttribute, null=True)
    department_id = UnicodeAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)
    message_ids = ListAttribute[str](of=UnicodeAttribute, null=True)


class TicketRefItem(ChannelsTable):
    """A ticket number or a Message-ID, pointing at its ticket."""

    ticket_id = UnicodeAttribute()


class MessageIdItem(ChannelsTable):
    """A Message-ID seen for a department: the same mail is applied once per department.
    It also remembers whether the ticket it opens is to be acknowledged, and whether it was."""

    acknowledge = BooleanAttribute(null=True)
    acknowledged = BooleanAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)


class QuarantineItem(ChannelsTable):
    """A mail kept back for an admin to look at; `event` is what it would have announced."""

    ses_message_id = UnicodeAttribute()
    department_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute()
    sender = UnicodeAttribute()
    subject = UnicodeAttribute()
    raw_key = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()
    event = UnicodeAttribute()
    released_at = UTCDateTimeAttribute(null=True)
    released_by = UnicodeAttribute(null=True)


class HourlyCountItem(ChannelsTable):
    """What one sender or channel did in one hour (acknowledgements, tickets opened); expires
    after two."""

    count = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


class OutboundItem(ChannelsTable):
    """The mail for one message of a ticket (or its acknowledgement): its attempts, and what
    became of it."""

    ticket_id = UnicodeAttribute()
    ticket_message_id = UnicodeAttribute(null=True)  # none for an acknowledgement
    ticket_message_at = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute()
    recipients = ListAttribute[str](of=UnicodeAttribute)
    attempts = NumberAttribute(default=0)
    state = UnicodeAttribute()
    ses_message_id = UnicodeAttribute(null=True)


class SesMessageItem(ChannelsTable):
    """SES's id of a mail we sent, pointing at it: SES's reports name only this id."""

    outbound = UnicodeAttribute()  # the key of the mail's OutboundItem


class ChannelItem(ChannelsTable):
    id = UnicodeAttribute()
    address = UnicodeAttribute()
    department_id = UnicodeAttribute()
    acknowledge = BooleanAttribute(default=False)
    acknowledge_template = UnicodeAttribute(null=True)
    signature = UnicodeAttribute(null=True)
    quarantine_spam = BooleanAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class AddressItem(ChannelsTable):
    channel_id = UnicodeAttribute()


class DepartmentsItem(ChannelsTable, DirectoryAttributes):
    """What the tickets service announced of its departments (`shared.department_store`)."""


class WatchItem(ChannelsTable):
    """A ticket as notifications follow it. Each part is set on its own, newest wins: the
    events that change them can arrive in any order."""

    number = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)
    department_id = UnicodeAttribute(null=True)
    department_version = NumberAttribute(null=True)
    assignee = UnicodeAttribute(null=True)
    assignee_version = NumberAttribute(null=True)
    # The change that gave it `assignee`: its notice waits here when it came before the ticket.
    assigned_by = UnicodeAttribute(null=True)
    assigned_at = UTCDateTimeAttribute(null=True)
    assigned_in = UnicodeAttribute(null=True)  # the event's id
    client_words = UnicodeAttribute(null=True)
    client_words_at = UTCDateTimeAttribute(null=True)


class PreferencesItem(ChannelsTable):
    kinds = UnicodeAttribute()  # JSON: kind -> on or off


class WindowItem(ChannelsTable):
    sent_at = UTCDateTimeAttribute()
    version = NumberAttribute()
    pending = ListAttribute[str](of=UnicodeAttribute, null=True)  # JSON notices, oldest first
    due_at = UTCDateTimeAttribute(null=True)
    failed_sends = NumberAttribute(null=True)  # of what waits, by the sweep
    expires_at = TTLAttribute(null=True)


class DueItem(ChannelsTable):
    agent = UnicodeAttribute()
    ticket_id = UnicodeAttribute()


class ClaimItem(ChannelsTable):
    expires_at = TTLAttribute()


class NotificationRefItem(ChannelsTable):
    agent = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    expires_at = TTLAttribute()


class RatingTicketItem(ChannelsTable):
    """What decides whether a rating mail that waited still goes: the resolution it is for must
    be the ticket's latest, and no re-open may have followed it. Times as the events name them."""

    resolved_at = UnicodeAttribute(null=True)
    reopened_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class RatingDueItem(ChannelsTable):
    ticket_id = UnicodeAttribute()
    resolved_at = UnicodeAttribute()


ChannelsOutbox = outbox_model(ChannelsTable)
