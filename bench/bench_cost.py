"""What the helpdesk costs a month on AWS, from what a ticket's life makes each service do.

Tickets live their lives through the whole system in-process (mail in through SES's path, the
API through the gateway, every event through streams, the bus and queues), under a meter of what
AWS bills (bench.harness.Meter), in a department whose members are mailed what needs them (new
ticket, assigned to them, the client replied) as the channels service does. The averages per
operation, per console poll and per run of each schedule are priced for three sizes by
bench/costs.py, beside a per-agent SaaS price.
"""

from __future__ import annotations

import contextlib
import email
import json
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from bench.costs import (
    FREE_TIER_NOTE,
    HOURS_A_MONTH,
    PRICES_AS_OF,
    SAAS,
    SIZES,
    Measured,
    Size,
    Usage,
    monthly_cost,
)
from bench.harness import Meter, Row, emulated_system, item_size
from local_stack.delivery import Function
from local_stack.gateway import Gateway
from local_stack.mail import MailReceiver
from local_stack.provision import LOCAL_MAIL_DOMAIN
from local_stack.system import LocalSystem
from local_stack.tokens import DevTokens
from services.channels.logic.notifications import GROUP_WINDOW
from shared.aws import client
from shared.clock import get_clock
from shared.settings import get_settings

TICKETS = 3  # lives measured; each figure is their average
CLIENT = "client{}@client.example.org"
ADDRESS = "support@example.com"
HEADER_BYTES = 400  # response headers, beside the measured body
ADMIN = "admin@example.com"
# Support's members: each hears of every new ticket, and each ticket is given to one of them.
AGENTS = ("agent1@example.com", "agent2@example.com", "agent3@example.com")
CLIENT_ANSWERS_AFTER = timedelta(hours=1)  # past the assignee's window: their mail goes at once
DIGESTS = "send_grouped_notifications"


class MeteredSystem(LocalSystem):
    """Every function the event sources and schedules run is metered."""

    def __init__(self, system: LocalSystem, meter: Meter) -> None:
        super().__init__(system.settings)
        self._meter = meter

    def function(self, service: str, name: str) -> Function:
        return self._meter.function(super().function(service, name))


def run() -> list[Row]:
    measured = measure()
    rows = [
        Row("cost: prices", f"eu-west-1 list prices of {PRICES_AS_OF}", "free tier not counted"),
        Row("cost: free tier", FREE_TIER_NOTE, "-"),
        Row(
            "cost: Lambda durations",
            "in-process time per invocation against the emulator",
            "an estimate",
        ),
    ]
    for name in (
        "opened_by_mail",
        "view",
        "assign",
        "agent_reply",
        "client_reply",
        "note",
        "change",
    ):
        rows.append(_measured_row(name.replace("_", " "), getattr(measured, name)))
    rows.append(_measured_row("resolve", measured.resolve))
    rows.append(_measured_row("console poll", measured.poll))
    for name, (usage, runs) in measured.schedules.items():
        rows.append(_measured_row(f"schedule {name} ({runs:,.0f}/month)", usage))
    rows.append(
        Row(
            "cost measured: DynamoDB stored per ticket",
            f"{measured.stored_bytes_per_ticket:,.0f} B",
            "-",
        )
    )
    for size in SIZES:
        rows += _size_rows(measured, size)
    return rows


def _measured_row(what: str, usage: Usage) -> Row:
    return Row(
        f"cost measured: {what}",
        f"{usage.read_units:.1f} RRU, {usage.write_units:.1f} WRU, "
        f"{usage.lambda_invocations:.1f} invocations {usage.lambda_gb_seconds:.3f} GB-s, "
        f"{usage.api_requests:.0f} API, {usage.events:.1f} events, {usage.sqs_requests:.1f} SQS, "
        f"{usage.mail_sent:.0f} sent, {usage.s3_puts:.0f} PUT {usage.s3_gets:.0f} GET",
        "-",
    )


def _size_rows(measured: Measured, size: Size) -> list[Row]:
    costs = monthly_cost(measured, size)
    total = sum(costs.values())
    name = f"cost {size.name}"
    rows = [Row(f"{name}: assumptions", size.describe(), "-")]
    rows += [Row(f"{name}: {service}", f"${usd:,.2f}/month", "-") for service, usd in costs.items()]
    saas = ", ".join(f"{vendor} ${price * size.agents:,.0f}" for vendor, price in SAAS.items())
    rows.append(Row(f"{name}: AWS total", f"${total:,.2f}/month", f"SaaS: {saas}"))
    rows.append(Row(f"{name}: per ticket", f"${total / size.tickets:.4f}", "-"))
    return rows


def measure() -> Measured:
    with emulated_system() as system, tempfile.TemporaryDirectory() as folder:
        client("ses").verify_domain_identity(Domain=LOCAL_MAIL_DOMAIN)
        tokens = DevTokens(Path(folder) / "key")
        gateway = Gateway(system.apps, tokens, {})
        headers = {
            "Authorization": f"Bearer {tokens.issue(ADMIN, 'admin')}",
            "Content-Type": "application/json",
        }
        meter = Meter()
        metered = MeteredSystem(system, meter)
        sources = [*metered.stream_sources(), *metered.queue_sources()]

        def deliver() -> None:
            for _ in range(10):
                if not sum(source.poll_once() for source in sources):
                    return

        def call(method: str, path: str, body: Any = None) -> Any:
            data = json.dumps(body).encode() if body is not None else b""
            answer = meter.invoked(lambda: gateway.handle(method, path, headers, data))
            assert answer.status < 300, answer.body
            meter.add(Usage(api_requests=1, response_bytes=len(answer.body) + HEADER_BYTES))
            return json.loads(answer.body) if answer.body else None

        receiver = MailReceiver(
            get_settings().mail_bucket,
            lambda event: metered.invoke("channels", "receive_mail", event),
        )

        def mail(raw: str, sender: str) -> None:
            receiver.receive(raw.encode(), sender, [ADDRESS])
            meter.add(Usage(mail_received=1))

        call("POST", "/departments", {"name": "Support"})
        for agent in AGENTS:
            call("POST", "/departments/support/members", {"email": agent})
        call(
            "POST", "/channels", {"address": ADDRESS, "department_id": "support", "signature": "S"}
        )
        deliver()
        [digests] = [s for s in metered.schedules() if s.name == DIGESTS]
        usage: dict[str, Usage] = {}

        def measured(what: str, action: Callable[[], Any]) -> Any:
            with meter:
                before = meter.usage
                result = action()
                deliver()
                usage[what] = usage.get(what, Usage()) + (meter.usage + before * -1) * (1 / TICKETS)
            return result

        for number in range(TICKETS):
            sender = CLIENT.format(number)
            measured(
                "opened_by_mail",
                lambda sender=sender, number=number: mail(
                    f"From: Client <{sender}>\r\nTo: {ADDRESS}\r\nSubject: Invoice {number}\r\n"
                    f"Message-ID: <{uuid.uuid4()}@client.example.org>\r\n\r\n"
                    "I was charged twice for my order, please look into it.\r\n",
                    sender,
                ),
            )
            [ticket] = [
                t
                for t in call("GET", "/tickets?department_id=support&limit=50")["items"]
                if t["requester"]["email"] == sender
            ]
            path = f"/tickets/{ticket['id']}"

            def view(path: str = path) -> None:
                shown = call("GET", path)
                call("GET", f"{path}/messages")
                call("GET", f"/sla{path}")
                if shown.get("contact_id"):
                    call("GET", f"/contacts/{shown['contact_id']}")

            def assign(path: str = path, agent: str = AGENTS[number % len(AGENTS)]) -> None:
                # Given right after the "New ticket" mail, the notice waits in the window that
                # mail opened, and the sweep mails it as a digest once the window ends.
                call("PATCH", path, {"assignee": agent})
                deliver()
                get_clock().advance(GROUP_WINDOW)
                digests.run()

            measured("view", view)
            measured("assign", assign)
            measured("change", lambda path=path: call("PATCH", path, {"status": "in_progress"}))
            measured(
                "note",
                lambda path=path: call(
                    "POST", f"{path}/messages", {"body": "Checked.", "visibility": "internal"}
                ),
            )
            measured(
                "agent_reply",
                lambda path=path: call("POST", f"{path}/messages", {"body": "Refund sent."}),
            )
            last = _last_sent(to=sender)
            get_clock().advance(CLIENT_ANSWERS_AFTER)
            measured(
                "client_reply",
                lambda last=last, sender=sender: mail(
                    f"From: Client <{sender}>\r\nTo: {ADDRESS}\r\nSubject: Re: {last['Subject']}"
                    f"\r\nMessage-ID: <{uuid.uuid4()}@client.example.org>\r\n"
                    f"In-Reply-To: {last['Message-ID']}\r\n\r\nThank you.\r\n",
                    sender,
                ),
            )
            measured("resolve", lambda path=path: call("PATCH", path, {"status": "resolved"}))

        # The console's poll: the first page of the queue and the counts of each queue shown.
        for _ in range(TICKETS):
            measured(
                "poll",
                lambda: [
                    call("GET", "/tickets?status=open&sort=updated&limit=50"),
                    call("GET", "/departments/support/counts"),
                    call("GET", "/departments/none/counts"),
                ],
            )
        # The first automations run after an upgrade files the desk's tickets under the
        # deployment's timings, once; the months priced are made of the runs after it.
        for schedule in system.schedules():
            if schedule.name == "run_automations":
                schedule.run()
        schedules = {}
        for schedule in metered.schedules():
            every = schedule.aws_every.total_seconds()  # locally the settings may run it faster
            measured(schedule.name, lambda schedule=schedule: _tolerant(schedule.run))
            schedules[schedule.name] = (
                usage.pop(schedule.name) * TICKETS,
                HOURS_A_MONTH * 3600 / every,
            )
        # The sweeps that mailed the digests are priced as runs of the schedule already: the
        # ticket bears only what they did beyond an idle run (nothing waits once the lives end).
        idle_sweep, _ = schedules[DIGESTS]
        return Measured(
            opened_by_mail=usage["opened_by_mail"],
            assign=usage["assign"] + idle_sweep * -1,
            agent_reply=usage["agent_reply"],
            client_reply=usage["client_reply"],
            note=usage["note"],
            change=usage["change"],
            resolve=usage["resolve"],
            view=usage["view"],
            poll=usage["poll"],
            schedules=schedules,
            stored_bytes_per_ticket=_stored_bytes() / TICKETS,
            queues=len(metered.queue_sources()),
        )


def _tolerant(run: Callable[[], Any]) -> None:
    """A schedule that needs what the emulator lacks (the CRM) still costs its invocation."""
    with contextlib.suppress(Exception):  # its cost is what is measured, not its outcome
        run()


def _last_sent(to: str) -> email.message.EmailMessage:
    """The last mail SES sent to `to` (agents' notifications go out beside the client's mail)."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][get_settings().region]
    for sent in reversed(backend.sent_messages):
        if to.lower() in (address.lower() for address in sent.destinations):
            raw = sent.raw_data
            return email.message_from_bytes(
                raw.encode() if isinstance(raw, str) else raw, policy=policy.default
            )
    raise LookupError(f"no mail was sent to {to}")


def _stored_bytes() -> int:
    """Every item of every table, with DynamoDB's 100 bytes of overhead each."""
    dynamodb = client("dynamodb")
    total = 0
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            total += sum(item_size(item) + 100 for item in page["Items"])
    return total


if __name__ == "__main__":
    from bench.harness import print_table

    print_table(run())
