"""The SLA service's table.

| item | pk | sk |
|---|---|---|
| timer (one per ticket) | `TIMER#<ticket id>` | `TIMER` |
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.models import Model

SERVICE = "sla"


class SlaTable(Model):
    class Meta:
        table_name = SERVICE  # logical name; `bind_table` sets the physical one at first use
        billing_mode = PAY_PER_REQUEST_BILLING_MODE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class TimerItem(SlaTable):
    ticket_id = UnicodeAttribute()
    priority = UnicodeAttribute()
    started_at = UTCDateTimeAttribute()
    first_response_due_at = UTCDateTimeAttribute()
    resolution_due_at = UTCDateTimeAttribute()
    state = UnicodeAttribute()
