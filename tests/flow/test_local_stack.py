"""The whole system as `make run` starts it: a subprocess on free ports, driven over HTTP and SMTP.

One stack is started for the module (it takes a few seconds) and stopped at the end; the restart
test starts a second one on the same state folder.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack.stack import free_port
from tests.conftest import REPO

pytestmark = pytest.mark.flow
STARTUP_SECONDS = 60


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    http: int
    smtp: int
    aws: int
    state: Path
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        request = urllib.request.Request(self.base + path, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        data = None if body is None else json.dumps(body).encode()
        try:
            with urllib.request.urlopen(request, data, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def token(self, email: str = "admin@example.com", role: str = "admin") -> str:
        status, body = self.call("POST", "/local/token", {"email": email, "role": role})
        assert status == 200, body
        return str(body["token"])

    def stop(self) -> float:
        """Ctrl-C, as a person would; returns the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        return time.monotonic() - started


def start_stack(state: Path, log: Path) -> RunningStack:
    http, smtp, aws = free_port(), free_port(), free_port()
    environment = {
        **os.environ,
        "HELPDESK_PORT": str(http),
        "HELPDESK_SMTP_PORT": str(smtp),
        "HELPDESK_AWS_PORT": str(aws),
        "HELPDESK_STATE_DIR": str(state),
        "HELPDESK_STAGE": "local",
    }
    environment.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack"],
        cwd=REPO,
        env=environment,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    stack = RunningStack(process, http, smtp, aws, state, log)
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


def eventually(fetch: Any, done: Any = bool, seconds: float = 15) -> Any:
    """Fetch until `done(result)` or the time is up; returns the last result."""
    deadline = time.monotonic() + seconds
    while True:
        result = fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("stack")
    running = start_stack(folder / "state", folder / "stack.log")
    yield running
    if running.process.poll() is None:
        running.stop()


def test_health_openapi_and_refusals(stack: RunningStack) -> None:
    assert stack.call("GET", "/health") == (200, {"status": "ok"})
    status, document = stack.call("GET", "/openapi.json")
    assert status == 200
    assert "/tickets" in document["paths"]
    assert stack.call("GET", "/tickets/TKT-0001")[0] == 401
    assert stack.call("POST", "/local/token", {"role": "root"})[0] == 422


def test_http_to_event_to_consumer(stack: RunningStack) -> None:
    # Given an admin's token
    token = stack.token()
    # When they open a ticket over HTTP
    status, ticket = stack.call(
        "POST",
        "/tickets",
        {"subject": "Flow", "body": "Through the bus", "requester": {"email": "r@x.org"}},
        token,
    )
    assert status == 201, ticket
    # Then the SLA service hears of it through EventBridge and its queue
    timer = eventually(
        lambda: stack.call("GET", f"/sla/tickets/{ticket['id']}", token=token),
        done=lambda answer: answer[0] == 200,
    )
    assert timer[0] == 200, timer
    assert timer[1]["ticket_id"] == ticket["id"]


def test_the_clock_moves_forward_only(stack: RunningStack) -> None:
    _, before = stack.call("POST", "/local/clock", {"advance_minutes": 0})
    status, after = stack.call("POST", "/local/clock", {"advance_minutes": 90})
    assert status == 200
    assert after["now"] > before["now"]
    assert stack.call("POST", "/local/clock", {"advance_minutes": -5})[0] == 422


def test_smtp_mail_is_stored_as_ses_stores_it(stack: RunningStack) -> None:
    raw = "From: Dana <dana@example.org>\r\nTo: support@example.com\r\nSubject: Hi\r\n\r\nHello\r\n"
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("dana@example.org", ["support@example.com"], raw.encode())
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws}")
    listed = eventually(
        lambda: s3.list_objects_v2(Bucket="helpdesk-local-mail", Prefix="inbound/").get("Contents")
    )
    assert listed, "the raw mail is not in the bucket"


def test_mail_the_system_sends_is_readable(stack: RunningStack) -> None:
    ses = boto3.client("ses", endpoint_url=f"http://127.0.0.1:{stack.aws}")
    raw = (
        "From: support@example.com\r\nTo: r@x.org\r\nSubject: [TKT-0001] Re: Flow\r\n"
        "Message-ID: <out-1@example.com>\r\nIn-Reply-To: <in-1@x.org>\r\n\r\nOn it.\r\n"
    )
    ses.send_raw_email(RawMessage={"Data": raw.encode()})
    status, outbox = stack.call("GET", "/local/outbox")
    assert status == 200
    sent = outbox[-1]
    assert (sent["subject"], sent["in_reply_to"]) == ("[TKT-0001] Re: Flow", "<in-1@x.org>")
    assert "On it." in sent["text"]
    assert (stack.state / "outbox" / sent["file"]).exists()


def test_state_survives_a_restart_and_ctrl_c_is_quick(stack: RunningStack, tmp_path: Path) -> None:
    # Given a ticket in the running stack
    token = stack.token()
    _, ticket = stack.call(
        "POST",
        "/tickets",
        {"subject": "Keep me", "body": "b", "requester": {"email": "k@x.org"}},
        token,
    )
    # When the stack is stopped with Ctrl-C and started again on the same state
    seconds = stack.stop()
    assert seconds < 10, f"Ctrl-C took {seconds:.1f}s"
    again = start_stack(stack.state, tmp_path / "again.log")
    try:
        # Then the ticket is still there, and numbering continues
        status, found = again.call("GET", f"/tickets/{ticket['number']}", token=again.token())
        assert (status, found["id"]) == (200, ticket["id"])
        _, next_ticket = again.call(
            "POST",
            "/tickets",
            {"subject": "Next", "body": "b", "requester": {"email": "k@x.org"}},
            again.token(),
        )
        assert next_ticket["number"] > ticket["number"]
    finally:
        again.stop()
