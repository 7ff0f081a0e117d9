"""The rating mail after the deployment's delay (`HELPDESK_CSAT_DELAY`), in-process on the
emulator: resolving a ticket over HTTP lists it, and the channels service's every-minute schedule,
run with the one clock moved, mails it once the delay has passed; re-opening the ticket before
then cancels it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from local_stack.system import LocalSystem
from services.channels.handlers.digests import DIGEST_FUNCTION
from shared.clock import get_clock
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, open_billing, run_schedule, sent_mail

pytestmark = pytest.mark.service

CLIENT = "carol@client.example.org"


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, http: HttpClient) -> Iterator[None]:
    """Billing with its channel; rating mail 30 minutes after a resolution."""
    monkeypatch.setenv("HELPDESK_CSAT_DELAY", "30")
    get_settings.cache_clear()
    open_billing(http)
    yield
    get_settings.cache_clear()


def sweep(system: LocalSystem, minutes: float) -> dict[str, int]:
    return run_schedule(system, DIGEST_FUNCTION, timedelta(minutes=minutes))


def change_status(http: HttpClient, ticket: dict[str, Any], status: str) -> None:
    changed = http.call("PATCH", f"/tickets/{ticket['id']}", {"status": status})
    assert changed.status == 200, changed.body


def open_ticket(http: HttpClient, delivery: Delivery) -> dict[str, Any]:
    ticket = {
        "subject": "Invoice twice",
        "body": "Charged twice.",
        "department_id": "billing",
        "requester": {"email": CLIENT},
    }
    opened = http.call("POST", "/tickets", ticket)
    assert opened.status == 201, opened.body
    delivery.run()
    return dict(opened.body)


def rating_mail() -> list[Any]:
    return [m for m in sent_mail() if m["To"] == CLIENT and "/ratings/" in m.get_content()]


@pytest.mark.usefixtures("desk")
def test_the_rating_mail_goes_once_the_delay_has_passed(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    ticket = open_ticket(http, delivery)
    change_status(http, ticket, "resolved")
    delivery.run()
    assert rating_mail() == []
    assert sweep(system, 29)["rating_requests"] == 0
    assert sweep(system, 1)["rating_requests"] == 1
    (mail,) = rating_mail()
    assert mail["Subject"] == f"[{ticket['number']}] Invoice twice"
    assert sweep(system, 1)["rating_requests"] == 0


@pytest.mark.usefixtures("desk")
def test_re_opening_the_ticket_before_then_cancels_it(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    ticket = open_ticket(http, delivery)
    change_status(http, ticket, "resolved")
    delivery.run()
    get_clock().advance(timedelta(minutes=10))
    change_status(http, ticket, "open")
    delivery.run()
    assert sweep(system, 30)["rating_requests"] == 0
    assert rating_mail() == []
