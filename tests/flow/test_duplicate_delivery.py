"""The same mail delivered several times opens one ticket, round after round, with every core of
the machine busy: deliveries overlap each other and the processing of the mail before them, as
they do when SES delivers a message again while the system is under load."""

from __future__ import annotations

import multiprocessing
import os
import smtplib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.flow.conftest import RunningStack, eventually

pytestmark = pytest.mark.flow
ROUNDS = 20
COPIES = 3
ADDRESS = "claims@example.com"
CLAIMS = "/tickets?department_id=claims&sort=created&limit=100"


def _spin(stop: Any) -> None:
    while not stop.is_set():
        sum(range(10_000))


@pytest.fixture
def busy_cores() -> Iterator[None]:
    """One process spinning per core while the test runs."""
    stop = multiprocessing.Event()
    spinners = [
        multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
        for _ in range(os.cpu_count() or 2)
    ]
    for spinner in spinners:
        spinner.start()
    yield
    stop.set()
    for spinner in spinners:
        spinner.join(timeout=5)
        if spinner.is_alive():
            spinner.kill()


def _deliver(stack: RunningStack, sender: str, subject: str, message_id: str) -> None:
    raw = (
        f"From: {sender}\r\nTo: {ADDRESS}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\n\r\nThe roof leaks.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=30) as smtp:
        smtp.sendmail(sender, [ADDRESS], raw.encode())


def _claims(stack: RunningStack, token: str) -> list[dict[str, Any]]:
    tickets: list[dict[str, Any]] = []
    page: dict[str, Any] = {"next_cursor": ""}
    while page["next_cursor"] is not None:
        query = f"{CLAIMS}&cursor={page['next_cursor']}" if page["next_cursor"] else CLAIMS
        status, page = stack.call("GET", query, None, token)
        assert status == 200, page
        tickets += page["items"]
    return tickets


def _one_round(stack: RunningStack, token: str, pool: ThreadPoolExecutor, round_: int) -> None:
    """Two copies of a mail at once, then one more once its ticket is there (a late
    redelivery)."""
    # A client each: one client opening twenty tickets an hour would be held as a flood
    sender = f"client-{round_}@client.example.org"
    subject, message_id = f"Water damage {round_}", f"claim-{round_}@client.example.org"
    list(pool.map(lambda _: _deliver(stack, sender, subject, message_id), range(COPIES - 1)))
    opened = eventually(lambda: [t for t in _claims(stack, token) if t["subject"] == subject])
    assert opened, f"no ticket for round {round_}"
    _deliver(stack, sender, subject, message_id)


def test_a_mail_delivered_three_times_opens_one_ticket_round_after_round(
    stack: RunningStack, busy_cores: None
) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Claims"}, admin)[0] == 201
    channel = {"address": ADDRESS, "department_id": "claims"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    with ThreadPoolExecutor(COPIES) as pool:
        for round_ in range(ROUNDS):
            _one_round(stack, admin, pool, round_)
    # When a last mail has made it through, everything delivered before it has too
    _deliver(stack, "last@client.example.org", "Last one", "last@client.example.org")
    tickets = eventually(
        lambda: _claims(stack, admin),
        done=lambda found: any(t["subject"] == "Last one" for t in found),
    )
    assert any(t["subject"] == "Last one" for t in tickets), "the last mail opened nothing"
    # Then each mail opened exactly one ticket, with its text once
    subjects = sorted(t["subject"] for t in tickets if t["subject"] != "Last one")
    assert subjects == sorted(f"Water damage {r}" for r in range(ROUNDS))
    for ticket in tickets:
        _, messages = stack.call("GET", f"/tickets/{ticket['id']}/messages", None, admin)
        assert [m["body"].strip() for m in messages["items"]] == ["The roof leaks."]
    # And no mail was announced twice: a second announcement would have drawn a ticket number
    # before finding its ticket taken, leaving a gap
    numbers = sorted(int(t["number"].split("-")[1]) for t in tickets)
    assert numbers == list(range(1, ROUNDS + 2))
