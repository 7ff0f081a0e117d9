"""What the helpdesk costs a month on AWS: list prices, the sizes we price, and the arithmetic.

The measured part (what one ticket's life and one console poll make each service do) comes from
bench/bench_cost.py; everything here is plain arithmetic on it, so tests can check it by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from infra.console_upload import POLL_SECONDS
from infra.stacks import LAMBDA_MEMORY_MB

# AWS list prices for eu-west-1 (Ireland), USD, without free tiers, as published in 2025 on each
# service's pricing page named beside it (DynamoDB after its on-demand price cut of 2024-11-01).
PRICES_AS_OF = "2025-06"
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.7068  # aws.amazon.com/dynamodb/pricing/on-demand/
DYNAMODB_PER_MILLION_READ_UNITS = 0.1415  # aws.amazon.com/dynamodb/pricing/on-demand/
DYNAMODB_PER_GB_MONTH = 0.283  # aws.amazon.com/dynamodb/pricing/on-demand/ (Standard class)
LAMBDA_PER_GB_SECOND = 0.0000166667  # aws.amazon.com/lambda/pricing/ (x86, first 6 bn GB-s)
LAMBDA_PER_MILLION_REQUESTS = 0.20  # aws.amazon.com/lambda/pricing/
API_GATEWAY_PER_MILLION_REQUESTS = 3.50  # aws.amazon.com/api-gateway/pricing/ (REST, first 333 M)
EVENTBRIDGE_PER_MILLION_EVENTS = 1.00  # aws.amazon.com/eventbridge/pricing/ (custom events)
SQS_PER_MILLION_REQUESTS = 0.40  # aws.amazon.com/sqs/pricing/ (standard queues)
SES_PER_THOUSAND_SENT = 0.10  # aws.amazon.com/ses/pricing/ (per recipient)
SES_PER_THOUSAND_RECEIVED = 0.10  # aws.amazon.com/ses/pricing/
SES_PER_THOUSAND_RECEIVED_CHUNKS = 0.09  # aws.amazon.com/ses/pricing/ (256 KB each)
S3_PER_GB_MONTH = 0.023  # aws.amazon.com/s3/pricing/ (Standard, first 50 TB)
S3_PER_THOUSAND_PUTS = 0.005  # aws.amazon.com/s3/pricing/
S3_PER_THOUSAND_GETS = 0.0004  # aws.amazon.com/s3/pricing/
CLOUDFRONT_PER_GB = 0.085  # aws.amazon.com/cloudfront/pricing/ (Europe, first 10 TB)
CLOUDFRONT_PER_TEN_THOUSAND_REQUESTS = 0.012  # aws.amazon.com/cloudfront/pricing/ (HTTPS)
COGNITO_PER_MAU = 0.015  # aws.amazon.com/cognito/pricing/ (Essentials, the default tier)
LOGS_PER_GB_INGESTED = 0.57  # aws.amazon.com/cloudwatch/pricing/ (Standard log class)
# Always-free allowances (Lambda 1 M requests and 400k GB-s, SQS 1 M requests, DynamoDB 25 GB,
# CloudFront 1 TB and 10 M requests, Cognito 10,000 MAU a month) are left out.
FREE_TIER_NOTE = "always-free allowances left out (Lambda, SQS, DynamoDB 25 GB, Cognito 10k MAU)"

# Per-agent SaaS prices, USD a month billed annually, from each vendor's pricing page.
SAAS = {
    "Zendesk Suite Team": 55.0,  # zendesk.com/pricing, 2025
    "Freshdesk Growth": 15.0,  # freshworks.com/freshdesk/pricing, 2025
}

GB = 1024**3
LAMBDA_MEMORY_GB = LAMBDA_MEMORY_MB / 1024  # every function has the same
LOG_BYTES_PER_INVOCATION = 1_000  # Lambda's START/END/REPORT lines and one JSON line of ours
MAIL_BYTES = 30_000  # an average mail as received or sent: text, HTML and quoted thread
ATTACHMENT_BYTES = 250_000
SES_CHUNK_BYTES = 256 * 1024
CONSOLE_LOAD_BYTES = 200_000  # the console's first load (its budget), once a working day
CONSOLE_LOAD_REQUESTS = 10
HOURS_A_MONTH = 730
WORKING_HOURS_A_MONTH = 8 * 22
# Lambda reads each SQS queue with five long polls (20 s) at a time, whether or not it is idle.
SQS_IDLE_REQUESTS_PER_QUEUE = 5 * 3 * 60 * HOURS_A_MONTH


@dataclass(frozen=True)
class Usage:
    """What something makes AWS do: requests, units and bytes, before prices."""

    api_requests: float = 0
    response_bytes: float = 0
    lambda_invocations: float = 0
    lambda_gb_seconds: float = 0
    read_units: float = 0
    write_units: float = 0
    events: float = 0
    sqs_requests: float = 0
    mail_sent: float = 0
    mail_received: float = 0
    s3_puts: float = 0
    s3_gets: float = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __mul__(self, factor: float) -> Usage:
        return Usage(*(getattr(self, f.name) * factor for f in fields(self)))


@dataclass(frozen=True)
class Size:
    """A helpdesk of a size, and what we assume about how its tickets are worked."""

    name: str
    tickets: int  # a month, each opened by mail
    agents: int
    agent_replies: float  # per ticket, each mailed to the client
    client_replies: float  # per ticket, by mail
    notes: float  # internal notes per ticket
    changes: float  # other status or assignee changes per ticket, besides assigning and resolving
    views: float  # times an agent opens the ticket
    attachments: float  # per ticket, kept in S3 with the mail
    retention_months: int  # mail, attachments and tickets kept this long
    assignments: float = 1  # times someone gives the ticket to an agent, who is told by mail

    @property
    def messages(self) -> float:
        return 1 + self.agent_replies + self.client_replies

    def describe(self) -> str:
        return (
            f"{self.agents} agents, {self.messages:g} mails/ticket "
            f"({self.agent_replies:g} agent, {self.client_replies:g} client replies), "
            f"{self.notes:g} notes, {self.attachments:g} attachments, "
            f"{self.retention_months} months kept"
        )


# The assignment is one of the changes these sizes always assumed, now measured on its own.
SIZES = (
    Size("1,000 tickets/month", 1_000, 3, 2, 1, 0.5, 1, 4, 0.3, 12, assignments=1),
    Size("50,000 tickets/month", 50_000, 25, 2, 1, 0.5, 1, 4, 0.3, 12, assignments=1),
    Size("1,000,000 tickets/month", 1_000_000, 300, 1.5, 0.5, 0.3, 0, 3, 0.2, 12, assignments=1),
)


@dataclass(frozen=True)
class Measured:
    """Usage measured in the emulator: per operation of a ticket's life (with the mail it makes
    the channels service send agents), per console poll, per run of each schedule, and the
    DynamoDB bytes a worked ticket leaves stored."""

    opened_by_mail: Usage
    agent_reply: Usage
    client_reply: Usage
    note: Usage
    change: Usage
    resolve: Usage
    view: Usage
    poll: Usage
    schedules: dict[str, tuple[Usage, float]]  # name -> one run, runs a month
    stored_bytes_per_ticket: float
    queues: int
    assign: Usage = Usage()  # giving the ticket to an agent, with their "Assigned to you" mail


def ticket_usage(measured: Measured, size: Size) -> Usage:
    return (
        measured.opened_by_mail
        + measured.agent_reply * size.agent_replies
        + measured.client_reply * size.client_replies
        + measured.note * size.notes
        + measured.assign * size.assignments
        + measured.change * size.changes
        + measured.resolve
        + measured.view * size.views
    )


def fixed_usage(measured: Measured, size: Size) -> Usage:
    """What a month costs with no ticket at all: agents' consoles open, schedules, idle queues."""
    polls = size.agents * WORKING_HOURS_A_MONTH * 3600 / POLL_SECONDS
    loads = size.agents * 22
    console = Usage(
        api_requests=loads * CONSOLE_LOAD_REQUESTS, response_bytes=loads * CONSOLE_LOAD_BYTES
    )
    schedules = Usage()
    for run, runs in measured.schedules.values():
        schedules += run * runs
    idle_queues = Usage(sqs_requests=measured.queues * SQS_IDLE_REQUESTS_PER_QUEUE)
    return measured.poll * polls + console + schedules + idle_queues


def monthly_cost(measured: Measured, size: Size) -> dict[str, float]:
    """USD a month per AWS service at steady state (retention full)."""
    used = ticket_usage(measured, size) * size.tickets + fixed_usage(measured, size)
    kept = size.retention_months * size.tickets
    s3_gb = kept * (size.messages * MAIL_BYTES + size.attachments * ATTACHMENT_BYTES) / GB
    dynamodb_gb = kept * measured.stored_bytes_per_ticket / GB
    # The console's API requests go through CloudFront to API Gateway; its files only CloudFront.
    api_requests = used.api_requests - size.agents * 22 * CONSOLE_LOAD_REQUESTS
    chunks = used.mail_received * math.ceil(MAIL_BYTES / SES_CHUNK_BYTES)
    return {
        "DynamoDB": used.write_units * DYNAMODB_PER_MILLION_WRITE_UNITS / 1e6
        + used.read_units * DYNAMODB_PER_MILLION_READ_UNITS / 1e6
        + dynamodb_gb * DYNAMODB_PER_GB_MONTH,
        "Lambda": used.lambda_gb_seconds * LAMBDA_PER_GB_SECOND
        + used.lambda_invocations * LAMBDA_PER_MILLION_REQUESTS / 1e6,
        "API Gateway": api_requests * API_GATEWAY_PER_MILLION_REQUESTS / 1e6,
        "CloudFront": used.api_requests * CLOUDFRONT_PER_TEN_THOUSAND_REQUESTS / 1e4
        + used.response_bytes / GB * CLOUDFRONT_PER_GB,
        "EventBridge": used.events * EVENTBRIDGE_PER_MILLION_EVENTS / 1e6,
        "SQS": used.sqs_requests * SQS_PER_MILLION_REQUESTS / 1e6,
        "SES": used.mail_sent * SES_PER_THOUSAND_SENT / 1e3
        + used.mail_received * SES_PER_THOUSAND_RECEIVED / 1e3
        + chunks * SES_PER_THOUSAND_RECEIVED_CHUNKS / 1e3,
        "S3": s3_gb * S3_PER_GB_MONTH
        + used.s3_puts * S3_PER_THOUSAND_PUTS / 1e3
        + used.s3_gets * S3_PER_THOUSAND_GETS / 1e3,
        "Cognito": size.agents * COGNITO_PER_MAU,
        "CloudWatch Logs": used.lambda_invocations
        * LOG_BYTES_PER_INVOCATION
        / GB
        * LOGS_PER_GB_INGESTED,
    }
