"""Fixtures shared by the suites: emulated AWS in-process, the services wired as in Lambda, and an
HTTP client that goes through the same gateway code as the local stack."""

from __future__ import annotations

import email
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from pathlib import Path
from typing import Any

import pytest

from local_stack.environment import in_process_emulator

in_process_emulator(stage="test", log_level="WARNING")

from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from local_stack.gateway import Gateway
from local_stack.mail import LocalMailReports
from local_stack.provision import provision
from local_stack.stack import LOCAL_MAIL_DOMAIN
from local_stack.system import LocalSystem
from local_stack.tokens import DevTokens
from shared.aws import client, reset_process_state
from shared.settings import get_settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


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


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        reset_process_state()
        yield
    reset_process_state()


@pytest.fixture
def system(aws: None) -> LocalSystem:
    with warnings.catch_warnings():  # resources moto's CloudFormation skips
        warnings.simplefilter("ignore")
        provision(get_settings())
    client("ses").verify_domain_identity(Domain=LOCAL_MAIL_DOMAIN)  # as the local stack does
    return LocalSystem(get_settings())


@pytest.fixture
def delivery(system: LocalSystem) -> Delivery:
    return Delivery(system)


@pytest.fixture
def http(system: LocalSystem, tmp_path: Path) -> HttpClient:
    tokens = DevTokens(tmp_path / "key")
    return HttpClient(Gateway(system.apps, tokens, {}), tokens)
