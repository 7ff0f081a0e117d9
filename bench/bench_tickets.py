"""Tickets: DynamoDB round trips per operation and in-process latency against moto, beside a bare
put_item in the same run (machines are noisy; the ratio means more than the milliseconds).

Every operation is made by an agent of the ticket's department, the common case, which includes
the membership check that decides what the agent may see.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import DynamoCalls, Row, bare_writes_ms, emulated_system, median_ms
from local_stack.gateway import Gateway
from local_stack.tokens import DevTokens
from shared.settings import get_settings

REPEAT = 30
AGENT = "bench@example.com"
TARGETS = {"create": 3, "get with first page of messages": 2, "list": 2, "reply": 2, "patch": 2}


def run() -> list[Row]:
    with emulated_system() as system, tempfile.TemporaryDirectory() as folder:
        tokens = DevTokens(Path(folder) / "key")
        gateway = Gateway(system.apps, tokens, {})

        def call(method: str, path: str, body: Any = None, role: str = "agent") -> Any:
            email = AGENT if role == "agent" else "admin@example.com"
            headers = {
                "Authorization": f"Bearer {tokens.issue(email, role)}",
                "Content-Type": "application/json",
            }
            answer = gateway.handle(
                method, path, headers, json.dumps(body).encode() if body else b""
            )
            assert answer.status < 300, answer.body
            return json.loads(answer.body)

        call("POST", "/departments", {"name": "Bench"}, role="admin")
        call("POST", "/departments/bench/members", {"email": AGENT}, role="admin")
        new = {
            "subject": "Bench",
            "body": "Body",
            "department_id": "bench",
            "requester": {"email": "b@x.org"},
        }
        ticket = call("POST", "/tickets", new)
        for number in range(20):
            call(
                "POST",
                f"/tickets/{ticket['id']}/messages",
                {"body": f"message {number}", "visibility": "internal"},
            )
        for _ in range(30):
            call("POST", "/tickets", new)

        priorities = itertools.cycle(["high", "low"])  # every patch really changes the ticket
        operations: dict[str, Callable[[], Any]] = {
            "create": lambda: call("POST", "/tickets", new),
            "get with first page of messages": lambda: call(
                "GET", f"/tickets/{ticket['id']}/messages?limit=25"
            ),
            "list": lambda: call("GET", "/tickets?department_id=bench&status=open&limit=25"),
            "reply": lambda: call(
                "POST",
                f"/tickets/{ticket['id']}/messages",
                {"body": "reply", "visibility": "internal"},
            ),
            "patch": lambda: call(
                "PATCH", f"/tickets/{ticket['id']}", {"priority": next(priorities)}
            ),
        }
        table = get_settings().table_name("tickets")
        bare, bare_transaction = bare_writes_ms(table, 4, REPEAT)
        rows = [
            Row("tickets: bare moto put_item median", f"{bare:.2f} ms", "baseline"),
            Row(
                "tickets: bare moto 4-put transaction median",
                f"{bare_transaction:.2f} ms",
                "baseline",
            ),
        ]
        for name, action in operations.items():
            with DynamoCalls() as calls:
                action()
            latency = median_ms(action, REPEAT)
            rows.append(
                Row(
                    f"tickets {name}: DynamoDB round trips",
                    str(len(calls.operations)),
                    f"<= {TARGETS[name]}",
                )
            )
            rows.append(
                Row(
                    f"tickets {name}: median (x bare put / x bare transaction)",
                    f"{latency:.2f} ms ({latency / bare:.1f}x / {latency / bare_transaction:.1f}x)",
                    "-",
                )
            )
        return rows
