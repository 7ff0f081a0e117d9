"""Tickets: DynamoDB round trips per operation and in-process latency against moto, beside a bare
put_item in the same run (machines are noisy; the ratio means more than the milliseconds)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.harness import DynamoCalls, Row, emulated_system, median_ms
from local_stack.gateway import Gateway
from local_stack.tokens import DevTokens
from shared.aws import client
from shared.settings import get_settings

REPEAT = 50
TICKET = {"subject": "Bench", "body": "Body", "requester": {"email": "b@x.org"}}


def run() -> list[Row]:
    with emulated_system() as system, tempfile.TemporaryDirectory() as folder:
        tokens = DevTokens(Path(folder) / "key")
        gateway = Gateway(system.apps, tokens, {})
        headers = {
            "Authorization": f"Bearer {tokens.issue('bench@example.com', 'agent')}",
            "Content-Type": "application/json",
        }
        body = json.dumps(TICKET).encode()

        def create() -> dict[str, str]:
            answer = gateway.handle("POST", "/tickets", headers, body)
            return json.loads(answer.body)  # type: ignore[no-any-return]

        ticket = create()
        table = get_settings().table_name("tickets")
        dynamodb = client("dynamodb")

        def bare_put() -> None:
            dynamodb.put_item(TableName=table, Item={"pk": {"S": "BENCH"}, "sk": {"S": "x"}})

        rows = []
        bare = median_ms(bare_put, REPEAT)
        rows.append(Row("bare moto put_item median", f"{bare:.2f} ms", "baseline"))
        operations = {
            "create ticket": (create, "3"),
            "get ticket by id": (
                lambda: gateway.handle("GET", f"/tickets/{ticket['id']}", headers, b""),
                "2",
            ),
            "get ticket by number": (
                lambda: gateway.handle("GET", f"/tickets/{ticket['number']}", headers, b""),
                "2",
            ),
        }
        for name, (action, target) in operations.items():
            with DynamoCalls() as calls:
                action()
            latency = median_ms(action, REPEAT)
            rows.append(
                Row(f"{name}: DynamoDB round trips", str(len(calls.operations)), f"<= {target}")
            )
            rows.append(
                Row(f"{name}: median / bare put", f"{latency:.2f} ms / {latency / bare:.1f}x", "-")
            )
        return rows
