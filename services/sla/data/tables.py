"""The SLA service's table: one DynamoDB table, several kinds of item.

| item | pk | sk |
|---|---|---|
| timer (one per ticket) | `TIMER#<ticket id>` | `TIMER` |
| policy version | `POLICY` | `VERSION#<number, zero-padded>` |
| progress carrying a new policy to open timers | `POLICY` | `RETARGET` |
| the departments and their members (one item) | `DEPARTMENTS` | `DEPARTMENTS` |
| outbox event | `OUTBOX#<event id>` | `OUTBOX` |

Two sparse indexes, on timers only:
- `by_alarm` (`alarm_bucket`, `alarm_at`): present only while a timer has a warning or breach to
  announce; the sweep queries each bucket for `alarm_at <= now`, never a Scan.
- `by_department_started` (`report_department`, `started_key`): timers by department and start
  time, for reports.
"""

from __future__ import annotations

from pynamodb.attributes import (
    DiscriminatorAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.department_store import DirectoryAttributes
from shared.events.outbox import outbox_model

SERVICE = "sla"


class ByAlarm(GlobalSecondaryIndex[Model]):
    class Meta:
        index_name = "by_alarm"
        projection = AllProjection()  # the sweep reads whole timers: no second read per timer

    alarm_bucket = UnicodeAttribute(hash_key=True)
    alarm_at = UnicodeAttribute(range_key=True)


class ByDepartmentStarted(GlobalSecondaryIndex[Model]):
    class Meta:
        index_name = "by_department_started"
        projection = AllProjection()

    report_department = UnicodeAttribute(hash_key=True)
    started_key = UnicodeAttribute(range_key=True)


class SlaTable(Model):
    class Meta:
        table_name = SERVICE  # logical name; `bind_table` sets the physical one at first use
        billing_mode = PAY_PER_REQUEST_BILLING_MODE
        stream_view_type = "NEW_IMAGE"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    # On the table class: every entity shares the table's connection, which must know them.
    by_alarm = ByAlarm()
    by_department_started = ByDepartmentStarted()


class TimerItem(SlaTable, discriminator="timer"):
    ticket_id = UnicodeAttribute()
    version = NumberAttribute()
    body = UnicodeAttribute()  # the timer as JSON: facts, announcements and derived clocks
    alarm_bucket = UnicodeAttribute(null=True)
    alarm_at = UnicodeAttribute(null=True)
    report_department = UnicodeAttribute(null=True)
    started_key = UnicodeAttribute(null=True)


class PolicyItem(SlaTable, discriminator="policy"):
    version = NumberAttribute()
    body = UnicodeAttribute()  # the policy version as JSON


class RetargetItem(SlaTable, discriminator="retarget"):
    version = NumberAttribute()
    bucket = NumberAttribute()
    cursor = UnicodeAttribute(null=True)


class DepartmentsItem(SlaTable, DirectoryAttributes, discriminator="departments"):
    """What the tickets service announced of its departments (`shared.department_store`)."""


SlaOutbox = outbox_model(SlaTable)
