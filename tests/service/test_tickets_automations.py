"""The tickets' automatic steps through the HTTP API, the scheduled function run in-process and the
one clock moved: a resolved ticket closes by itself; a ticket waiting on its client gets one
reminder mail in its thread, then is resolved; every answer with a ticket says which step is
pending and when; tickets are filed again when the timings change, a batch per run. The rules
themselves are held on the in-memory storage (tests/unit/test_tickets_automations.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from local_stack.system import LocalSystem
from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.handlers.automations import AUTOMATIONS_FUNCTION
from services.tickets.logic import refile_steps
from services.tickets.logic.repository import FiledStep
from shared.settings import get_settings
from shared.storage import Page
from tests.conftest import Delivery, HttpClient, open_billing, run_schedule, sent_mail

pytestmark = pytest.mark.service

CLIENT = "carol@client.example.org"


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, http: HttpClient) -> Iterator[None]:
    """Billing with its channel; reminders after 2 days, resolution after 5 days of waiting."""
    monkeypatch.setenv("HELPDESK_REMIND_AFTER", "2")
    monkeypatch.setenv("HELPDESK_CLOSE_AFTER_WAITING", "5")
    get_settings.cache_clear()
    open_billing(http)
    yield
    get_settings.cache_clear()


def run_automations(system: LocalSystem, days: float) -> dict[str, int]:
    return run_schedule(system, AUTOMATIONS_FUNCTION, timedelta(days=days))


def auto_close_after(monkeypatch: pytest.MonkeyPatch, days: float) -> None:
    """The deployment's setting changes (a redeploy with it)."""
    monkeypatch.setenv("HELPDESK_AUTO_CLOSE_AFTER", str(days))
    get_settings.cache_clear()


def resolved_tickets(http: HttpClient, count: int) -> list[str]:
    ids = [open_ticket(http)["id"] for _ in range(count)]
    for ticket_id in ids:
        http.expect(200, "PATCH", f"/tickets/{ticket_id}", {"status": "resolved"})
    return ids


def open_ticket(http: HttpClient) -> dict[str, Any]:
    ticket = {
        "subject": "Invoice twice",
        "body": "Charged twice.",
        "department_id": "billing",
        "requester": {"email": CLIENT},
    }
    opened = http.call("POST", "/tickets", ticket)
    assert opened.status == 201, opened.body
    return dict(opened.body)


def mail_to_client() -> list[Any]:
    return [m for m in sent_mail() if m["To"] == CLIENT]


@pytest.mark.usefixtures("desk")
def test_a_resolved_ticket_closes_automatically(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    ticket = open_ticket(http)
    resolved = http.call("PATCH", f"/tickets/{ticket['id']}", {"status": "resolved"})
    assert resolved.status == 200, resolved.body
    assert run_automations(system, 3.9)["closed"] == 0
    assert run_automations(system, 0.2)["closed"] == 1
    closed = http.expect(200, "GET", f"/tickets/{ticket['id']}")
    assert closed["status"] == "closed"
    assert closed["version"] == resolved.body["version"] + 1
    history = http.expect(200, "GET", f"/tickets/{ticket['id']}/history")["items"]
    (entry,) = [e for e in history if e["field"] == "status" and e["new"] == "closed"]
    assert entry["actor"] == "system"
    assert entry["reason"].startswith("closed automatically")
    assert run_automations(system, 1)["read"] == 0


@pytest.mark.usefixtures("desk")
def test_a_waiting_client_is_reminded_once_in_the_thread_then_resolved(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    ticket = open_ticket(http)
    reply = {"body": "Which invoice number?"}
    assert http.call("POST", f"/tickets/{ticket['id']}/messages", reply).status == 201
    delivery.run()
    (answer,) = mail_to_client()
    assert run_automations(system, 2)["reminded"] == 1
    delivery.run()
    assert run_automations(system, 0.5)["read"] == 0
    delivery.run()
    (_, reminder) = mail_to_client()  # one reminder, however often the schedule runs
    assert reminder["Auto-Submitted"] == "auto-generated"
    assert reminder["From"].addresses[0].addr_spec == "billing@example.com"
    assert reminder["In-Reply-To"] == answer["Message-ID"]  # in the ticket's thread
    assert reminder["Subject"] == f"[{ticket['number']}] Invoice twice"
    assert "Reply to this mail" in reminder.get_content()
    history = http.expect(200, "GET", f"/tickets/{ticket['id']}/history")["items"]
    assert [e["actor"] for e in history if e["field"] == "reminder"] == ["system"]

    assert run_automations(system, 2.6)["resolved"] == 1
    delivery.run()
    resolved = http.expect(200, "GET", f"/tickets/{ticket['id']}")
    assert resolved["status"] == "resolved"
    messages = http.expect(200, "GET", f"/tickets/{ticket['id']}/messages")["items"]
    note = messages[-1]
    assert (note["visibility"], note["author"]["type"]) == ("internal", "system")
    # The note is no mail: what follows the reminder is only the request to rate the resolution
    (*_, rating_request) = mail_to_client()
    assert len(mail_to_client()) == 3
    assert "How did we do?" in rating_request.get_content()


def automation(ticket: dict[str, Any]) -> tuple[str, datetime] | None:
    """The ticket's pending step as the API shows it: (step, due at), or None."""
    pending = ticket["automation"]
    return None if pending is None else (pending["step"], parse_time(pending["due_at"]))


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.usefixtures("desk")
def test_a_resolved_ticket_says_when_it_closes_wherever_it_is_shown(http: HttpClient) -> None:
    ticket = open_ticket(http)
    assert ticket["automation"] is None  # open: nothing is automatic

    resolved = http.expect(200, "PATCH", f"/tickets/{ticket['id']}", {"status": "resolved"})

    # The clock starts at the ticket's last change: here, its resolution.
    closes = ("close", parse_time(resolved["updated_at"]) + timedelta(days=4))
    assert automation(resolved) == closes
    assert automation(http.expect(200, "GET", f"/tickets/{ticket['id']}")) == closes
    (listed,) = http.expect(200, "GET", "/tickets?status=resolved")["items"]
    assert automation(listed) == closes
    conversation = http.expect(200, "GET", f"/tickets/{ticket['id']}/messages")
    assert automation(conversation["ticket"]) == closes


@pytest.mark.usefixtures("desk")
def test_a_waiting_tickets_step_moves_on_as_each_is_taken(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    ticket = open_ticket(http)
    posted = http.expect(201, "POST", f"/tickets/{ticket['id']}/messages", {"body": "Which one?"})
    waiting = posted["ticket"]
    assert waiting["status"] == "waiting_on_client"
    since = parse_time(waiting["updated_at"])
    assert automation(waiting) == ("remind", since + timedelta(days=2))

    assert run_automations(system, 2)["reminded"] == 1
    reminded = http.expect(200, "GET", f"/tickets/{ticket['id']}")
    assert automation(reminded) == ("resolve", since + timedelta(days=5))

    assert run_automations(system, 3)["resolved"] == 1
    resolved = http.expect(200, "GET", f"/tickets/{ticket['id']}")
    assert automation(resolved) == ("close", parse_time(resolved["updated_at"]) + timedelta(4))

    assert run_automations(system, 4)["closed"] == 1
    assert http.expect(200, "GET", f"/tickets/{ticket['id']}")["automation"] is None


def test_with_the_automatic_steps_off_a_ticket_has_none_pending(
    http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "HELPDESK_AUTO_CLOSE_AFTER",
        "HELPDESK_REMIND_AFTER",
        "HELPDESK_CLOSE_AFTER_WAITING",
    ):
        monkeypatch.setenv(name, "0")
    get_settings.cache_clear()
    try:
        http.expect(201, "POST", "/departments", {"name": "Billing"})
        ticket = open_ticket(http)
        path = f"/tickets/{ticket['id']}"

        waiting = http.expect(200, "PATCH", path, {"status": "waiting_on_client"})
        resolved = http.expect(200, "PATCH", path, {"status": "resolved"})

        assert (waiting["automation"], resolved["automation"]) == (None, None)
    finally:
        get_settings.cache_clear()


@pytest.mark.usefixtures("desk")
def test_tickets_resolved_while_the_auto_close_was_off_close_once_it_is_on(
    http: HttpClient, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    auto_close_after(monkeypatch, 0)
    long_ago = resolved_tickets(http, 2)
    assert run_automations(system, 10)["closed"] == 0
    (lately,) = resolved_tickets(http, 1)

    auto_close_after(monkeypatch, 4)

    # The next run files them under the new setting, and closes those resolved long enough ago
    report = run_automations(system, 1)
    assert (report["refile_read"], report["refiled"], report["closed"]) == (3, 3, 2)
    for ticket_id in long_ago:
        history = http.expect(200, "GET", f"/tickets/{ticket_id}/history")["items"]
        reasons = [e["reason"] for e in history if e["field"] == "status" and e["new"] == "closed"]
        assert reasons == ["closed automatically: resolved for 11 days without an answer"]
    assert http.expect(200, "GET", f"/tickets/{lately}")["status"] == "resolved"
    assert run_automations(system, 3)["closed"] == 1
    assert http.expect(200, "GET", f"/tickets/{lately}")["status"] == "closed"


@pytest.mark.usefixtures("desk")
def test_a_refile_of_more_tickets_than_a_batch_completes_over_several_runs(
    http: HttpClient, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    auto_close_after(monkeypatch, 0)
    resolved_tickets(http, 5)
    run_automations(system, 0)  # the timings the tickets are filed under are recorded
    monkeypatch.setattr(refile_steps, "REFILE_BATCH", 2)

    auto_close_after(monkeypatch, 1)
    runs = [run_automations(system, 2) for _ in range(6)]

    # Two tickets read at most per run (an empty queue's read counts), until all five are filed
    assert [run["refile_read"] for run in runs] == [1, 2, 2, 0, 0, 0]
    assert sum(run["refiled"] for run in runs) == sum(run["closed"] for run in runs) == 5
    assert [run["closed"] for run in runs] == [1, 2, 2, 0, 0, 0]


@pytest.mark.usefixtures("desk")
def test_a_change_of_timings_during_a_refile_starts_it_over(
    http: HttpClient, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    auto_close_after(monkeypatch, 0)
    resolved_tickets(http, 5)
    run_automations(system, 0)
    monkeypatch.setattr(refile_steps, "REFILE_BATCH", 2)
    auto_close_after(monkeypatch, 30)
    assert run_automations(system, 0)["refiled"] == 1  # filed to close in 30 days

    auto_close_after(monkeypatch, 1)
    runs = [run_automations(system, 2) for _ in range(4)]

    # Begun again over both statuses (the tickets are filed under a mix): the first run reads
    # two empty queues. Every ticket, the one filed under the 30 days too, closes all the same.
    assert [run["refile_read"] for run in runs] == [0, 2, 2, 1]
    assert sum(run["closed"] for run in runs) == 5


@pytest.mark.usefixtures("desk")
def test_a_ticket_changed_during_the_refile_is_not_overwritten(
    http: HttpClient, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    auto_close_after(monkeypatch, 0)
    first, second = resolved_tickets(http, 2)
    run_automations(system, 0)
    read_queue = DynamoTicketRepository.filed_steps

    def reopened_once_read(
        repository: DynamoTicketRepository, queue: str, limit: int, cursor: str | None
    ) -> Page[FiledStep]:
        page = read_queue(repository, queue, limit, cursor)
        if any(filed.ticket.id == second for filed in page.items):
            # An agent reopens it between the read and the refile
            http.expect(200, "PATCH", f"/tickets/{second}", {"status": "open"})
        return page

    monkeypatch.setattr(DynamoTicketRepository, "filed_steps", reopened_once_read)
    auto_close_after(monkeypatch, 4)
    report = run_automations(system, 0)
    assert (report["refile_read"], report["refiled"]) == (2, 1)

    # Only the first is filed to close: the reopened one is not in the index, and stays open
    report = run_automations(system, 4)
    assert (report["read"], report["closed"]) == (1, 1)
    assert http.expect(200, "GET", f"/tickets/{first}")["status"] == "closed"
    assert http.expect(200, "GET", f"/tickets/{second}")["status"] == "open"


@pytest.mark.usefixtures("desk")
def test_with_unchanged_timings_a_run_does_no_refile_reads(
    http: HttpClient, system: LocalSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved_tickets(http, 1)
    # The first run files the tickets under timings never recorded: they are filed right already
    first = run_automations(system, 0)
    assert (first["refile_read"], first["refiled"]) == (1, 0)
    queues_read: list[str] = []
    read_queue = DynamoTicketRepository.filed_steps

    def counted(
        repository: DynamoTicketRepository, queue: str, limit: int, cursor: str | None
    ) -> Page[FiledStep]:
        queues_read.append(queue)
        return read_queue(repository, queue, limit, cursor)

    monkeypatch.setattr(DynamoTicketRepository, "filed_steps", counted)
    reports = [run_automations(system, 1) for _ in range(3)]
    assert [report["refile_read"] for report in reports] == [0, 0, 0]
    assert queues_read == []
