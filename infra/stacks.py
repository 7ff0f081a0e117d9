"""The declaration of every stack: which tables, queues, rules and functions each service has.

Table keys and indexes come from each service's pynamodb table class and event subscriptions from
its consumer's registered handlers, so this file names things once and repeats nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pynamodb.models import Model

from shared.events.consumer import EventConsumer


def _load(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class ServiceStack:
    service: str
    table: str | None = None  # "module:TableClass" of the service's pynamodb table
    outbox: bool = False  # the table's stream feeds the outbox relay
    consumer: str | None = None  # "module:consumer" of its EventConsumer
    mail_function: str | None = None  # the function SES invokes for received mail
    report_function: str | None = None  # the function reading SES's delivery reports
    # The function reading the service's own work queue (`WORK_QUEUE`, with a DLQ): work its
    # functions hand to one another.
    work_function: str | None = None
    # The service reads secrets under this path of its deployment (SSM and Secrets Manager).
    secrets_path: str | None = None
    # DynamoDB actions on its table beyond reads, writes and transactions (batches, say).
    extra_table_actions: tuple[str, ...] = ()
    # Its functions manage the agents of the user pool (invite, disable, grant admin).
    manages_agents: bool = False
    # Its API signs download links to the files of messages, which the edge serves from the mail
    # bucket (it reads the signing key and the edge's address, never the files).
    serves_files: bool = False
    # Its API checks the rating links of clients, signed with the reply-token secret.
    checks_rating_links: bool = False
    # A scheduled function that must succeed regularly, and the metric it publishes when it did:
    # none for five minutes raises an alarm.
    heartbeat: str | None = None
    heartbeat_metric: str | None = None

    @property
    def app_module(self) -> str:
        return f"services.{self.service}.app"

    @property
    def app_name(self) -> str:
        return "helpdesk-" + self.service.replace("_", "-")

    @cached_property
    def table_class(self) -> type[Model] | None:
        return _load(self.table) if self.table else None

    @cached_property
    def event_consumer(self) -> EventConsumer | None:
        return _load(self.consumer) if self.consumer else None


SERVICES: tuple[ServiceStack, ...] = (
    ServiceStack(
        "tickets",
        table="services.tickets.data.tables:TicketsTable",
        outbox=True,
        consumer="services.tickets.handlers.events:consumer",
        extra_table_actions=("BatchWriteItem",),  # a merge copies the conversation in batches
        manages_agents=True,
        serves_files=True,
        checks_rating_links=True,
        heartbeat="run_automations",
        heartbeat_metric="TicketAutomationsCompleted",
    ),
    ServiceStack(
        "sla",
        table="services.sla.data.tables:SlaTable",
        outbox=True,
        consumer="services.sla.handlers.events:consumer",
        heartbeat="sweep_sla",
        heartbeat_metric="SlaSweepCompleted",
    ),
    ServiceStack(
        "channels",
        table="services.channels.data.tables:ChannelsTable",
        outbox=True,
        consumer="services.channels.handlers.events:consumer",
        mail_function="receive_mail",
        report_function="receive_delivery_reports",
    ),
    ServiceStack(
        "contacts",
        table="services.contacts.data.tables:ContactsTable",
        outbox=True,
        consumer="services.contacts.handlers.events:consumer",
    ),
    ServiceStack(
        "crm_sync",
        table="services.crm_sync.data.tables:CrmSyncTable",
        outbox=True,
        consumer="services.crm_sync.handlers.events:consumer",
        work_function="apply_crm_work",
        secrets_path="crm",
        extra_table_actions=("BatchWriteItem",),
    ),
)

# Tuning of functions and event delivery, the same in AWS and locally.
LAMBDA_TIMEOUT_SECONDS = 30
LAMBDA_MEMORY_MB = 512
# Six times the function's timeout, as AWS advises for SQS event sources: a batch still being
# worked (or retried by Lambda) never reappears to a second invocation.
QUEUE_VISIBILITY_SECONDS = 6 * LAMBDA_TIMEOUT_SECONDS
QUEUE_MAX_RECEIVES = 5  # then the event is parked in the dead-letter queue
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's longest: time to look and redrive
SQS_BATCH_SIZE = 10
WORK_QUEUE = "work"  # the purpose in a service's work queue name: `<prefix>-<stage>-<service>-work`
STREAM_BATCH_SIZE = 100
STREAM_MAX_RETRIES = 10


def service(name: str) -> ServiceStack:
    return next(stack for stack in SERVICES if stack.service == name)
