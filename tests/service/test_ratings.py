"""Clients' ratings through HTTP, in-process on the emulator: the rating page records nothing,
the form records (and changes) the rating on the ticket, a forged or expired link or a bad form
answers a page that says so, and the CSAT report counts per department and agent, for what the
caller may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.clock import get_clock, isoformat
from shared.rating_links import Rating, rating_link, rating_token
from shared.settings import get_settings
from tests.conftest import Fetched, HttpClient

pytestmark = pytest.mark.service

ALICE = ("alice@example.com", "agent")
BOB = ("bob@example.com", "agent")


def _department(http: HttpClient, name: str, member: tuple[str, str]) -> str:
    department = http.expect(201, "POST", "/departments", {"name": name})
    http.expect(200, "POST", f"/departments/{department['id']}/members", {"email": member[0]})
    return str(department["id"])


def _resolved(http: HttpClient, department_id: str, assignee: str) -> tuple[dict[str, Any], str]:
    """A ticket assigned and resolved, with its rating link's token."""
    opened = http.expect(
        201,
        "POST",
        "/tickets",
        {
            "subject": "Invoice twice",
            "body": "Charged twice.",
            "department_id": department_id,
            "requester": {"email": "client@example.org"},
        },
    )
    ticket = http.expect(
        200, "PATCH", f"/tickets/{opened['id']}", {"assignee": assignee, "status": "resolved"}
    )
    secret = get_settings().reply_token_secret
    assert secret is not None
    # As the channels service names the resolution: the time of its event.
    resolved_at = isoformat(datetime.fromisoformat(ticket["resolved_at"]))
    return ticket, rating_token(secret, ticket["id"], resolved_at, get_clock().now())


def _link(token: str, choice: Rating = "good") -> str:
    return rating_link(get_settings().edge_url or "", token, choice)


def _page(fetched: Fetched) -> str:
    assert fetched.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in fetched.headers["Content-Security-Policy"]
    return fetched.content.decode()


def test_the_page_records_nothing_and_the_form_records(http: HttpClient) -> None:
    billing = _department(http, "Billing", ALICE)
    ticket, token = _resolved(http, billing, ALICE[0])
    shown = http.fetch(_link(token, "bad"))
    assert shown.status == 200
    page = _page(shown)
    assert 'value="bad" required checked' in page
    assert ticket["number"] in page
    assert http.expect(200, "GET", f"/tickets/{ticket['id']}")["satisfaction"] is None

    thanked = http.fetch(_link(token), "POST", {"choice": "good", "comment": "Quick."})
    assert thanked.status == 200
    assert "Thank you" in _page(thanked)
    rated = http.expect(200, "GET", f"/tickets/{ticket['id']}")
    assert rated["satisfaction"]["rating"] == "good"
    assert rated["satisfaction"]["comment"] == "Quick."
    assert rated["version"] == ticket["version"]
    history = http.expect(200, "GET", f"/tickets/{ticket['id']}/history")["items"]
    assert [e["new"] for e in history if e["field"] == "satisfaction"] == [
        {"rating": "good", "comment": "Quick."}
    ]

    # Changed while the link is valid; the report counts the latest rating only.
    assert http.fetch(_link(token), "POST", {"choice": "bad"}).status == 200
    report = http.expect(200, "GET", "/reports/csat")
    assert report["total"] == {"good": 0, "bad": 1, "share_good": 0.0}
    assert report["agents"] == [{"agent": ALICE[0], "good": 0, "bad": 1, "share_good": 0.0}]


def test_forged_and_expired_links_and_bad_forms_answer_a_clear_page(http: HttpClient) -> None:
    billing = _department(http, "Billing", ALICE)
    ticket, token = _resolved(http, billing, ALICE[0])
    forged = http.fetch(_link(token[:-4] + "AAAA"))
    assert forged.status == 404
    assert "not valid" in _page(forged)
    no_choice = http.fetch(_link(token), "POST", {"comment": "hm"})
    assert no_choice.status == 400
    assert "Choose good or bad" in _page(no_choice)
    too_long = http.fetch(_link(token), "POST", {"choice": "good", "comment": "x" * 2001})
    assert too_long.status == 422
    assert "comment" in _page(too_long)
    get_clock().advance(timedelta(days=14, minutes=1))
    expired = http.fetch(_link(token), "POST", {"choice": "good"})
    assert expired.status == 410
    assert "expired" in _page(expired)
    assert http.expect(200, "GET", f"/tickets/{ticket['id']}")["satisfaction"] is None


def test_the_report_per_department_and_agent_for_what_the_caller_sees(http: HttpClient) -> None:
    billing = _department(http, "Billing", ALICE)
    technical = _department(http, "Technical", BOB)
    _, alice_token = _resolved(http, billing, ALICE[0])
    _, bob_token = _resolved(http, technical, BOB[0])
    assert http.fetch(_link(alice_token), "POST", {"choice": "good"}).status == 200
    assert http.fetch(_link(bob_token), "POST", {"choice": "bad"}).status == 200

    everything = http.expect(200, "GET", "/reports/csat")
    by_department = {d["department_id"]: (d["good"], d["bad"]) for d in everything["departments"]}
    assert by_department[billing] == (1, 0)
    assert by_department[technical] == (0, 1)
    assert {a["agent"] for a in everything["agents"]} == {ALICE[0], BOB[0]}

    alices = http.expect(200, "GET", "/reports/csat", as_=ALICE)
    assert [d["department_id"] for d in alices["departments"]] == [billing]
    assert alices["agents"] == [{"agent": ALICE[0], "good": 1, "bad": 0, "share_good": 1.0}]
    assert http.call("GET", f"/reports/csat?department_id={technical}", as_=ALICE).status == 404
    today = get_clock().now().date()
    earlier = (today - timedelta(days=5)).isoformat()
    old = http.expect(200, "GET", f"/reports/csat?from={earlier}&to={earlier}")
    assert old["total"] == {"good": 0, "bad": 0, "share_good": None}
