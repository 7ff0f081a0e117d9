"""The local stack as `make run` starts it, in a process of its own on free ports, driven over
HTTP and SMTP: for flow and browser tests, and benchmarks that need the whole system."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from local_stack.aws_calls import RECORD_ENVIRONMENT
from local_stack.stack import free_port
from shared.settings import Settings

REPO = Path(__file__).resolve().parents[1]

STARTUP_SECONDS = 60


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    http: int
    smtp: int
    aws: int
    state: Path
    log: Path
    settings: Settings  # the stack's, as its environment gives them
    aws_calls: Path  # every AWS call its functions made, one JSON line each

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        # Always the stack's own http address.
        request = urllib.request.Request(self.base + path, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        data = None if body is None else json.dumps(body).encode()
        try:
            with urllib.request.urlopen(request, data, timeout=10) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def token(self, email: str = "admin@example.com", role: str = "admin") -> str:
        status, body = self.call("POST", "/local/token", {"email": email, "role": role})
        assert status == 200, body
        return str(body["token"])

    def open_tickets(self, count: int, subject: str) -> None:
        """`count` tickets opened by the default admin, `<subject> <n>` each: a full queue."""
        admin = self.token()
        for number in range(count):
            status, body = self.call(
                "POST",
                "/tickets",
                {
                    "subject": f"{subject} {number}",
                    "body": "A ticket of a full queue.",
                    "priority": "medium",
                    "requester": {"email": f"queue{number}@example.org"},
                },
                admin,
            )
            assert status == 201, body

    def settle(self, count: int, seconds: float = 120) -> None:
        """Wait until the newest `count` tickets' events were handled (contacts linked, SLA timers
        running): a queue measured as an agent finds it, not while the stack works through a
        burst."""
        admin = self.token()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status, page = self.call("GET", f"/tickets?limit={count}", token=admin)
            assert status == 200, page
            items = page["items"]
            if len(items) == count and all(t["contact_id"] and t["sla"]["state"] for t in items):
                return
            time.sleep(0.5)
        raise AssertionError(f"the tickets' events were not all handled within {seconds}s")

    def stop(self) -> float:
        """Ctrl-C, as a person would; returns the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        return time.monotonic() - started


def start_stack(
    state: Path,
    log: Path,
    settings: dict[str, str] | None = None,
    started: Callable[[RunningStack], None] | None = None,
) -> RunningStack:
    """Start `python -m local_stack` and wait for its health. `settings`: more environment for
    the stack (a suite's own `HELPDESK_*` settings); `started` is told of the stack at once."""
    http, smtp, aws = free_port(), free_port(), free_port()
    aws_calls = log.with_suffix(".aws-calls.jsonl")
    environment = {
        **os.environ,
        **(settings or {}),
        "HELPDESK_PORT": str(http),
        "HELPDESK_SMTP_PORT": str(smtp),
        "HELPDESK_AWS_PORT": str(aws),
        "HELPDESK_STATE_DIR": str(state),
        "HELPDESK_STAGE": "local",
        RECORD_ENVIRONMENT: str(aws_calls),
    }
    environment.pop("AWS_ENDPOINT_URL", None)
    with mock.patch.dict(os.environ, environment, clear=True):
        stack_settings = Settings()
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack"],
        cwd=REPO,
        env=environment,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    stack = RunningStack(process, http, smtp, aws, state, log, stack_settings, aws_calls)
    if started is not None:
        started(stack)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the local stack exited early:\n{log.read_text()[-3000:]}")
        try:
            if stack.call("GET", "/health")[0] == 200:
                return stack
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"no /health within {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")
