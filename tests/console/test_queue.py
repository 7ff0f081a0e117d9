"""The queue, the console's home: new mail shows without a reload, tabs count and switch statuses,
filters narrow the list and stay in the URL, SLA trouble stands out in words, and an agent sees
only their departments' tickets."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.console.conftest import (
    VIEWPORT,
    screenshot,
    serious_violations,
    sign_in_with_dev_token,
)
from tests.flow.conftest import FAST_SLA, RunningStack, eventually, running_stack

ADMIN = ("admin@example.com", "admin")
POLL_SECONDS = 2
SLA_WAIT_MS = 60_000  # events cross several queues before a moved clock shows on a ticket


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    yield from running_stack(tmp_path_factory, "queue-stack", FAST_SLA)


def open_queue(page: Page, stack: RunningStack, email: str, role: str) -> None:
    """Sign in and wait for the queue's first rows. The queue polls as often as the deployment's
    config.json says; here every few seconds, so a test waits seconds rather than a quarter
    minute for what the poll brings."""

    def poll_quickly(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "poll_seconds": POLL_SECONDS})

    page.route("**/config.json", poll_quickly)
    sign_in_with_dev_token(page, stack, email, role)
    page.get_by_role("tablist", name="Tickets by status").wait_for()


def open_ticket(
    stack: RunningStack, token: str, subject: str, priority: str = "medium", **more: Any
) -> dict[str, Any]:
    body = {
        "subject": subject,
        "body": f"{subject}, please help.",
        "priority": priority,
        "requester": {"email": "carol@client.example.org", "name": "Carol Client"},
        **more,
    }
    status, ticket = stack.call("POST", "/tickets", body, token)
    assert status == 201, ticket
    return ticket  # type: ignore[no-any-return]


def change(stack: RunningStack, token: str, ticket: dict[str, Any], **fields: Any) -> None:
    """Change a ticket over its version as it stands (events may have moved it meanwhile)."""

    def attempt() -> int:
        current = stack.call("GET", f"/tickets/{ticket['id']}", token=token)[1]
        body = {**fields, "version": current["version"]}
        return stack.call("PATCH", f"/tickets/{ticket['id']}", body, token)[0]

    assert eventually(attempt, lambda answer: answer == 200, seconds=20) == 200


def department(stack: RunningStack, token: str, name: str, *members: str) -> str:
    status, created = stack.call("POST", "/departments", {"name": name}, token)
    assert status == 201, created
    for member in members:
        path = f"/departments/{created['id']}/members"
        added = stack.call("POST", path, {"email": member}, token)
        assert added[0] == 200, added
    return str(created["id"])


def row_of(page: Page, subject: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=subject, exact=True))


def assert_shown_whole(page: Page, badge: Locator) -> None:
    """The badge lies inside the table's visible area: the part of its scrolling region that is
    on the screen, with nothing cut off at either edge."""
    shown = badge.bounding_box()
    region = page.get_by_role("region", name="Tickets").bounding_box()
    assert shown is not None
    assert region is not None
    left = max(region["x"], 0)
    right = min(region["x"] + region["width"], VIEWPORT["width"])
    assert shown["x"] >= left, (shown, region)
    assert shown["x"] + shown["width"] <= right, (shown, region)


def test_mail_shows_in_an_open_queue_without_a_reload(page: Page, stack: RunningStack):
    open_queue(page, stack, *ADMIN)
    page.evaluate("window.sameDocument = true")
    tag_field = page.get_by_label("Tag", exact=True)
    tag_field.focus()
    raw = (
        "From: Dan Client <dan@client.example.org>\r\nTo: nobody-listens@example.com\r\n"
        "Subject: Cannot reset my password\r\nMessage-ID: <reset-1@client.example.org>\r\n\r\n"
        "The reset link says it expired.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("dan@client.example.org", ["nobody-listens@example.com"], raw.encode())

    expect(page.get_by_role("link", name="Cannot reset my password")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("status").filter(has_text="1 new ticket")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True  # no reload brought it
    expect(tag_field).to_be_focused()  # and the poll took no one's focus
    expect(page.get_by_role("tab", name=re.compile(r"^Open \d+$"))).to_be_visible()


def test_tabs_count_and_switch_statuses_and_filters_stay_in_the_url(
    page: Page, stack: RunningStack
):
    admin = stack.token()
    returns = department(stack, admin, "Returns")
    open_ticket(stack, admin, "Parcel never arrived", "high", department_id=returns)
    open_ticket(stack, admin, "Wrong size delivered", "low", department_id=returns)
    refund = open_ticket(stack, admin, "Refund for order 1182", department_id=returns)
    lamp = open_ticket(stack, admin, "Exchange a broken lamp", department_id=returns)
    change(stack, admin, refund, status="in_progress")
    change(stack, admin, lamp, status="waiting_on_client")

    open_queue(page, stack, *ADMIN)
    page.get_by_label("Department").select_option(label="Returns")
    tabs = page.get_by_role("tablist", name="Tickets by status")
    expect(tabs.get_by_role("tab", name="Open 2", exact=True)).to_be_visible()
    expect(tabs.get_by_role("tab", name="In progress 1", exact=True)).to_be_visible()
    expect(tabs.get_by_role("tab", name="Waiting on client 1", exact=True)).to_be_visible()
    expect(tabs.get_by_role("tab", name="Resolved 0", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Parcel never arrived")).to_be_visible()
    expect(page.get_by_role("link", name="Wrong size delivered")).to_be_visible()
    expect(page.get_by_role("link", name="Refund for order 1182")).to_have_count(0)

    in_progress = tabs.get_by_role("tab", name="In progress 1")
    in_progress.click()
    expect(in_progress).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("link", name="Refund for order 1182")).to_be_visible()
    expect(page.get_by_role("link", name="Parcel never arrived")).to_have_count(0)
    # The arrow keys move along the tabs, as in any tab list
    in_progress.press("ArrowRight")
    waiting = tabs.get_by_role("tab", name="Waiting on client 1")
    expect(waiting).to_be_focused()
    expect(waiting).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("link", name="Exchange a broken lamp")).to_be_visible()

    tabs.get_by_role("tab", name="Open 2").click()
    page.get_by_label("Priority").select_option("high")
    expect(page.get_by_role("link", name="Wrong size delivered")).to_have_count(0)
    expect(page.get_by_role("link", name="Parcel never arrived")).to_be_visible()

    page.reload()
    expect(page.get_by_label("Priority")).to_have_value("high")
    expect(page.get_by_label("Department")).to_have_value(returns)
    expect(page.get_by_role("tab", name="Open 2")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("link", name="Parcel never arrived")).to_be_visible()
    expect(page.get_by_role("link", name="Wrong size delivered")).to_have_count(0)
    assert "priority=high" in page.url
    assert f"department={returns}" in page.url

    # A page at a time: the next one comes below, and the keyboard goes on at its first ticket
    page.goto(f"{stack.base}/#/?department={returns}&limit=1")
    expect(page.get_by_text("Showing 1 ticket, more below")).to_be_visible()
    page.get_by_role("button", name="Show more").click()
    expect(page.get_by_text("Showing 2 tickets")).to_be_visible()
    expect(page.get_by_role("button", name="Show more")).to_have_count(0)
    expect(page.get_by_role("link", name="Parcel never arrived")).to_be_visible()
    expect(page.get_by_role("link", name="Wrong size delivered")).to_be_visible()
    expect(page.locator(":focus")).to_have_attribute("href", re.compile(r"^#/tickets/"))


@pytest.mark.axe
def test_tickets_at_risk_and_breached_stand_out_in_words(page: Page, stack: RunningStack):
    admin = stack.token()
    stack.call("POST", "/agents", {"email": "alice@example.com", "name": "Alice Archer"}, admin)
    support = department(stack, admin, "Support", "alice@example.com")
    down = open_ticket(stack, admin, "Checkout page is down", "urgent", department_id=support)
    late = open_ticket(
        stack, admin, "Invoices arrive a week late", "high", department_id=support, tags=["billing"]
    )
    open_ticket(stack, admin, "Add our VAT number to invoices", "low", department_id=support)
    change(stack, admin, late, assignee="alice@example.com")
    # The SLA service gives both their due times first (see tests/flow/test_sla_flow.py)
    for ticket in (down, late):
        eventually(
            lambda t=ticket: stack.call("GET", f"/tickets/{t['id']}", token=admin)[1]["sla"],
            lambda sla: sla["state"] is not None and sla["first_response_due_at"] is not None,
        )
    # Past the urgent ticket's hour, and past the warning at 3 of the high one's 4 hours
    stack.call("POST", "/local/clock", {"advance_minutes": 185}, admin)

    open_queue(page, stack, *ADMIN)
    breached = row_of(page, "Checkout page is down")
    expect(breached.get_by_text("SLA: Breached")).to_be_visible(timeout=SLA_WAIT_MS)
    expect(breached).to_have_class(re.compile(r"\brow-breached\b"))
    # Every column fits beside the selection checkboxes at the tests' width of 1280 px
    assert_shown_whole(page, breached.get_by_text("SLA: Breached"))
    at_risk = row_of(page, "Invoices arrive a week late")
    expect(at_risk.get_by_text("SLA: At risk")).to_be_visible(timeout=SLA_WAIT_MS)
    expect(at_risk).to_have_class(re.compile(r"\brow-at_risk\b"))
    expect(at_risk.get_by_role("cell", name="Alice Archer")).to_be_visible()
    calm = row_of(page, "Add our VAT number to invoices")
    expect(calm).not_to_have_class(re.compile(r"row-"))

    page.get_by_role("combobox", name="SLA", exact=True).select_option(label="Breached")
    expect(page.get_by_role("link", name="Invoices arrive a week late")).to_have_count(0)
    expect(page.get_by_role("link", name="Checkout page is down")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_role("link", name="Invoices arrive a week late")).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot(page, "queue")
    found = serious_violations(page)
    assert not found, found


def test_an_agent_never_sees_another_departments_tickets(page: Page, stack: RunningStack):
    admin = stack.token()
    grace = "grace@example.com"
    hardware = department(stack, admin, "Hardware", grace)
    legal = department(stack, admin, "Legal")
    open_ticket(stack, admin, "Laptop fan is loud", department_id=hardware)
    secret = open_ticket(stack, admin, "Contract clause question", department_id=legal)

    open_queue(page, stack, grace, "agent")
    expect(page.get_by_role("link", name="Laptop fan is loud")).to_be_visible()
    # Hardware's one open ticket, and nothing of Legal's or of tickets without a department
    expect(page.get_by_role("tab", name="Open 1", exact=True)).to_be_visible()
    expect(page.get_by_text("Contract clause question")).to_have_count(0)
    department_choices = page.get_by_label("Department").locator("option").all_inner_texts()
    assert "Hardware" in department_choices
    assert "Legal" not in department_choices

    page.goto(f"{stack.base}/#/tickets/{secret['id']}")
    page.locator("#page-title").wait_for()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Contract clause question")).to_have_count(0)
