"""Tickets: DynamoDB round trips per operation and in-process latency against moto, beside a bare
put_item in the same run (machines are noisy; the ratio means more than the milliseconds).

Every operation is made by an agent of the ticket's department, the common case, which includes
the membership check that decides what the agent may see.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import (
    BENCH_TICKET,
    BenchDesk,
    DynamoCalls,
    Row,
    bare_writes_ms,
    emulated_system,
    median_ms,
)
from shared.settings import get_settings

REPEAT = 30
TARGETS = {"create": 3, "get with first page of messages": 2, "list": 2, "reply": 2, "patch": 2}


def run() -> list[Row]:
    with emulated_system() as system, tempfile.TemporaryDirectory() as folder:
        call = BenchDesk(system, Path(folder)).call
        new = BENCH_TICKET
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
