"""Contacts: DynamoDB round trips per operation and in-process latency against moto, beside a
bare put_item in the same run (machines are noisy; the ratio means more than the milliseconds).

The contact read has twenty tickets (in the reading agent's department, so all are shown) and
shares the table with two hundred other contacts.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import DynamoCalls, Row, bare_writes_ms, emulated_system, median_ms
from local_stack.gateway import Gateway
from local_stack.tokens import DevTokens
from services.contacts.data.dynamodb import department_store
from services.contacts.handlers.wiring import dependencies
from services.contacts.logic.requesters import link_requester
from shared.aws import client
from shared.departments import Department
from shared.events.catalogue import Person, TicketCreated
from shared.settings import get_settings

REPEAT = 30
AGENT = "bench@example.com"
TARGETS = {
    "create": 1,
    "get": 1,
    "search by email": 2,
    "search by name prefix": 2,
    "tickets of a contact": 2,
}


def run() -> list[Row]:
    with emulated_system() as system, tempfile.TemporaryDirectory() as folder:
        tokens = DevTokens(Path(folder) / "key")
        gateway = Gateway(system.apps, tokens, {})
        headers = {
            "Authorization": f"Bearer {tokens.issue(AGENT, 'agent')}",
            "Content-Type": "application/json",
        }

        def call(method: str, path: str, body: Any = None) -> Any:
            answer = gateway.handle(
                method, path, headers, json.dumps(body).encode() if body else b""
            )
            assert answer.status < 300, answer.body
            return json.loads(answer.body)

        for number in range(200):
            call("POST", "/contacts", {"name": f"Person {number}", "emails": [f"p{number}@x.org"]})
        contact = call(
            "POST", "/contacts", {"name": "Dana Scully", "emails": ["dana@client.example.org"]}
        )
        department_store().record(
            Department(id="support", members=[AGENT], changed_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
        for number in range(20):
            ticket = TicketCreated(
                ticket_id=f"ticket-{number}",
                number=f"TKT-{number:04d}",
                subject="Bench",
                status="open",
                priority="low",
                department_id="support",
                requester=Person(email="dana@client.example.org"),
                created_at=datetime(2026, 1, 1, number, tzinfo=UTC).isoformat(),
            )
            link_requester(ticket, dependencies(), f"bench-{number}")

        def shown(page: Any) -> Any:
            assert len(page["items"]) == 20, "the agent should see every ticket"
            return page

        fresh = itertools.count()
        operations: dict[str, Callable[[], Any]] = {
            "create": lambda: call(
                "POST", "/contacts", {"name": "New", "emails": [f"new{next(fresh)}@x.org"]}
            ),
            "get": lambda: call("GET", f"/contacts/{contact['id']}"),
            "search by email": lambda: call("GET", "/contacts?email=dana@client.example.org"),
            "search by name prefix": lambda: call("GET", "/contacts?q=dana&limit=25"),
            "tickets of a contact": lambda: shown(
                call("GET", f"/contacts/{contact['id']}/tickets?limit=25")
            ),
        }
        table = get_settings().table_name("contacts")
        dynamodb = client("dynamodb")
        bare, bare_transaction = bare_writes_ms(table, 5, REPEAT)
        bare_query = median_ms(
            lambda: dynamodb.query(
                TableName=table,
                IndexName="by_contact",
                KeyConditionExpression="contact_id = :c",
                ExpressionAttributeValues={":c": {"S": contact["id"]}},
                Limit=25,
            ),
            REPEAT,
        )
        yardsticks = {"put": bare, "transaction": bare_transaction, "query": bare_query}
        rows = [
            Row("contacts: bare moto put_item median", f"{bare:.2f} ms", "baseline"),
            Row(
                "contacts: bare moto 5-put transaction median",
                f"{bare_transaction:.2f} ms",
                "baseline",
            ),
            Row("contacts: bare moto index query median", f"{bare_query:.2f} ms", "baseline"),
        ]
        for name, action in operations.items():
            with DynamoCalls() as calls:
                action()
            latency = median_ms(action, REPEAT)
            rows.append(
                Row(
                    f"contacts {name}: DynamoDB round trips",
                    str(len(calls.operations)),
                    f"<= {TARGETS[name]}",
                )
            )
            ratios = " / ".join(
                f"{latency / value:.1f}x {what}" for what, value in yardsticks.items()
            )
            rows.append(
                Row(f"contacts {name}: median (x bare)", f"{latency:.2f} ms ({ratios})", "-")
            )
        return rows


if __name__ == "__main__":
    from bench.harness import print_table

    print_table(run())
