"""The local gateway over real HTTP as API Gateway behaves: many clients at once, each answered,
and methods no route declares refused with a 405 problem rather than the standard library's page."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.flow.conftest import RunningStack, start_stack

pytestmark = pytest.mark.flow
TICKETS = 200
CLIENTS = 32
STOP_SECONDS = 10


@pytest.fixture(scope="module")
def busy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own: the events of hundreds of tickets keep its consumers busy for minutes,
    longer than a stop waits for them, so it is killed when a Ctrl-C does not end it soon."""
    folder = tmp_path_factory.mktemp("busy-stack")
    running = start_stack(folder / "state", folder / "stack.log")
    yield running
    running.process.send_signal(signal.SIGINT)
    try:
        running.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()


def _raw(
    stack: RunningStack,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", stack.http, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def _open_ticket(stack: RunningStack, token: str, n: int) -> str:
    # The services answer one request at a time each, as one Lambda instance would: a client
    # may wait for 31 others, longer than the usual helper's timeout.
    document = {
        "subject": f"Load {n}",
        "body": "Opened with many others at once.",
        "requester": {"email": f"client{n}@example.org"},
    }
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, _, body = _raw(stack, "POST", "/tickets", headers, json.dumps(document).encode())
    assert status == 201, body
    return str(json.loads(body)["number"])


def test_64_clients_connecting_at_once_are_all_answered_at_once(stack: RunningStack) -> None:
    start = threading.Barrier(64)

    def client(_: int) -> int:
        start.wait()
        # A connection the server's backlog had no room for waits for the SYN to be sent again
        # (a second or more) or is reset: either breaks this bound.
        connection = http.client.HTTPConnection("127.0.0.1", stack.http, timeout=0.9)
        try:
            connection.request("GET", "/health")
            return connection.getresponse().status
        finally:
            connection.close()

    with ThreadPoolExecutor(64) as pool:
        assert list(pool.map(client, range(64))) == [200] * 64


def test_tickets_opened_by_many_clients_at_once_get_gapless_numbers(
    busy_stack: RunningStack,
) -> None:
    stack = busy_stack
    token = stack.token()
    start = threading.Barrier(CLIENTS)

    def client(worker: int) -> list[str]:
        start.wait()  # every client connects at the same moment
        return [_open_ticket(stack, token, n) for n in range(worker, TICKETS, CLIENTS)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        numbers = [number for batch in pool.map(client, range(CLIENTS)) for number in batch]
    # Every request was answered, and the counter gave each ticket its own number, none skipped
    values = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    assert values == list(range(values[0], values[0] + TICKETS)), values


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "CONNECT", "PROPFIND", "PUT"])
@pytest.mark.parametrize("path", ["/tickets", "/tickets/TKT-0001", "/health", "/local/token"])
def test_a_method_no_route_declares_is_a_405_problem(
    stack: RunningStack, method: str, path: str
) -> None:
    status, content_type, body = _raw(stack, method, path)
    assert (status, content_type) == (405, "application/problem+json"), body
    assert b"method-not-allowed" in body


def test_a_content_length_that_is_no_number_is_a_400_problem(stack: RunningStack) -> None:
    status, content_type, _ = _raw(stack, "POST", "/tickets", {"Content-Length": "-1"})
    assert (status, content_type) == (400, "application/problem+json")
