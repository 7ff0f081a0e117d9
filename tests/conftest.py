"""Fixtures shared by the suites: emulated AWS in-process, the services wired as in Lambda, and an
HTTP client that goes through the same gateway code as the local stack."""

from __future__ import annotations

import email
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from local_stack.environment import in_process_emulator

in_process_emulator(stage="test", log_level="WARNING")

from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from infra.least_privilege import AwsCall, Refusal, describe, service_refusals
from local_stack.aws_calls import record_aws_calls
from local_stack.files import LocalFiles
from local_stack.gateway import Gateway
from local_stack.mail import LocalMailReports
from local_stack.provision import local_parameters
from local_stack.system import LocalSystem
from local_stack.tokens import DevTokens
from shared.aws import reset_process_state
from shared.clock import get_clock
from shared.settings import Settings, get_settings
from tests.emulator_session import provisioned

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"

# Every AWS call the services' functions make in this process, with the settings they ran with.
RECORDED_CALLS: list[tuple[AwsCall, Settings]] = []
record_aws_calls(lambda call: RECORDED_CALLS.append((call, get_settings())))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class HttpClient:
    """Calls the services as a frontend would, through the local gateway code, in-process."""

    def __init__(self, gateway: Gateway, tokens: DevTokens) -> None:
        self._gateway = gateway
        self._tokens = tokens

    def token(self, email: str = "admin@example.com", role: str = "admin") -> str:
        return self._tokens.issue(email, role)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        as_: tuple[str, str] | None = ("admin@example.com", "admin"),
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if as_ is not None:
            sent["Authorization"] = f"Bearer {self.token(*as_)}"
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response = self._gateway.handle(method, path, sent, data)
        parsed = json.loads(response.body) if response.body else None
        return Answer(response.status, response.headers, parsed)

    def expect(
        self,
        status: int,
        method: str,
        path: str,
        body: Any = None,
        *,
        as_: tuple[str, str] | None = ("admin@example.com", "admin"),
    ) -> Any:
        """Call, insist on `status`, and return the answer's body."""
        answer = self.call(method, path, body, as_=as_)
        assert answer.status == status, (answer.status, answer.body)
        return answer.body

    def fetch(self, url: str, method: str = "GET", form: dict[str, str] | None = None) -> Fetched:
        """Follow a link to the edge (a file's, a rating page's), as a browser does: no token,
        the bytes back; `form`: send it as a page's form is sent."""
        edge = get_settings().edge_url or ""
        assert url.startswith(f"{edge}/"), url
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        body = urlencode(form).encode() if form is not None else b""
        response = self._gateway.handle(method, url.removeprefix(edge), headers, body)
        body = b"".join(response.stream) if response.stream is not None else response.body
        return Fetched(response.status, response.headers, body)


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    content: bytes


def sent_mail() -> list[email.message.EmailMessage]:
    """Every mail the emulator's SES sent, oldest first, parsed."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][get_settings().region]
    return [
        email.message_from_bytes(
            m.raw_data.encode() if isinstance(m.raw_data, str) else m.raw_data,
            policy=policy.default,
        )
        for m in backend.sent_messages
    ]


class Delivery:
    """Steps events through streams, the bus and queues until nothing moves."""

    def __init__(self, system: LocalSystem) -> None:
        self.streams = system.stream_sources()
        self.queues = system.queue_sources()
        self.mail_reports = LocalMailReports.of(system.settings)

    def run(self, rounds: int = 10) -> int:
        moved_total = 0
        for _ in range(rounds):
            moved = self.mail_reports.publish_once()
            moved += sum(stream.poll_once() for stream in self.streams)
            moved += sum(queue.poll_once() for queue in self.queues)
            moved_total += moved
            if not moved:
                break
        return moved_total


@pytest.fixture(autouse=True)
def aws_calls_are_granted(request: pytest.FixtureRequest) -> Iterator[None]:
    """The emulator checks no permissions: each AWS call a function made during the test must be
    granted by its service's IAM policy, or the test fails. A test that makes a call on purpose
    which IAM would refuse in AWS says so (`refused_by_iam(service, action)`), and fails if the
    policy would grant it."""
    RECORDED_CALLS.clear()
    yield
    refused = refused_calls(RECORDED_CALLS)
    RECORDED_CALLS.clear()
    expected = {tuple(m.args) for m in request.node.iter_markers("refused_by_iam")}
    unexpected = [r for r in refused if (r.service, r.permission.action) not in expected]
    if unexpected:
        pytest.fail(describe(unexpected), pytrace=False)
    missing = expected - {(r.service, r.permission.action) for r in refused}
    if missing:
        pytest.fail(f"IAM would have granted what the test expects it to refuse: {missing}")


def refused_calls(recorded: Iterable[tuple[AwsCall, Settings]]) -> list[Refusal]:
    """Each call held against its service's policy as the local stack's parameters and the
    settings the function ran with render it."""
    by_settings: dict[Settings, list[AwsCall]] = {}
    for call, settings in recorded:
        by_settings.setdefault(settings, []).append(call)
    return [
        refusal
        for settings, calls in by_settings.items()
        for refusal in service_refusals(calls, settings, local_parameters(settings))
    ]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        reset_process_state()
        yield
    reset_process_state()
    get_clock.cache_clear()  # a test may have moved the clock the services read


@pytest.fixture
def system(aws: None) -> LocalSystem:
    provisioned(get_settings())
    return LocalSystem(get_settings())


@pytest.fixture
def delivery(system: LocalSystem) -> Delivery:
    return Delivery(system)


@pytest.fixture
def http(system: LocalSystem, tmp_path: Path) -> HttpClient:
    tokens = DevTokens(tmp_path / "key")
    return HttpClient(Gateway(system.apps, tokens, {}, files=LocalFiles(get_settings())), tokens)


def open_billing(http: HttpClient) -> None:
    """The Billing department and its channel, billing@example.com, as an admin makes them."""
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert http.call("POST", "/channels", channel).status == 201


def run_schedule(system: LocalSystem, name: str, after: timedelta) -> dict[str, int]:
    """Move the one clock `after` on, then run an every-minute schedule as EventBridge would."""
    get_clock().advance(after)
    (schedule,) = [s for s in system.schedules() if s.name == name]
    assert schedule.aws_every == timedelta(minutes=1)
    report: dict[str, int] = schedule.run()
    return report
