"""Less clicking in the console: a shared macro previewed in the composer (its text filled in for
the ticket, its changes in words) and applied in one step, and a status set on several tickets
of the queue at once, then moved to another department with a tag taken off, in a real browser
against the local stack."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.console.conftest import sign_in_with_dev_token
from tests.flow.conftest import RunningStack, eventually

ALICE = "alice@example.com"


@pytest.fixture(scope="module")
def refunds(stack: RunningStack) -> str:
    """A Refunds department with its own address (replies are mailed from it), Alice in it."""
    admin = stack.token()
    status, created = stack.call("POST", "/departments", {"name": "Refunds"}, admin)
    assert status == 201, created
    added = stack.call("POST", f"/departments/{created['id']}/members", {"email": ALICE}, admin)
    assert added[0] == 200, added
    channel = {"address": "refunds@example.com", "department_id": created["id"]}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    return str(created["id"])


def _settled_ticket(
    stack: RunningStack, department: str, subject: str, **more: Any
) -> dict[str, Any]:
    """A ticket opened over the API, once its events were handled: its contact linked and its SLA
    running both change it, and a page must read the version they leave."""
    admin = stack.token()
    body = {
        "subject": subject,
        "body": f"{subject}, please.",
        "department_id": department,
        "requester": {"email": "henry@client.example.org", "name": "Henry"},
        **more,
    }
    status, ticket = stack.call("POST", "/tickets", body, admin)
    assert status == 201, ticket
    return eventually(  # type: ignore[no-any-return]
        lambda: stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1],
        lambda found: found["contact_id"] and found["sla"]["state"],
    )


def _row(page: Page, subject: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=subject, exact=True))


def test_a_shared_macro_is_previewed_and_applied(page: Page, stack: RunningStack, refunds: str):
    macro = {
        "name": "Refunded",
        "scope": "shared",
        "visibility": "public",
        "body": "Hello, {ticket.number} is refunded.",
        "changes": {"status": "resolved", "tags_add": ["refunded"]},
    }
    status, created = stack.call("POST", "/macros", macro, stack.token())
    assert status == 201, created
    ticket = _settled_ticket(stack, refunds, "Charged twice in May")
    text = f"Hello, {ticket['number']} is refunded."

    sign_in_with_dev_token(page, stack, ALICE, "agent")
    page.goto(f"{stack.base}/#/tickets/{ticket['id']}")
    page.get_by_role("heading", name=f"{ticket['number']}: {ticket['subject']}").wait_for()
    macros = page.get_by_role("combobox", name="Macros")
    expect(macros.locator("optgroup")).to_have_attribute("label", "Shared")
    macros.select_option(label="Refunded")
    page.get_by_role("button", name="Preview macro").click()

    preview = page.get_by_role("region", name="Macro: Refunded")
    expect(preview.get_by_label("Reply it will send")).to_have_value(text)
    expect(preview.get_by_text("It mails this reply to henry@client.example.org")).to_be_visible()
    expect(preview.get_by_text("Status → Resolved")).to_be_visible()
    expect(preview.get_by_text("Tags + refunded")).to_be_visible()
    # Nothing is written by a preview
    _, unchanged = stack.call("GET", f"/tickets/{ticket['id']}", token=stack.token())
    assert (unchanged["status"], unchanged["version"]) == ("open", ticket["version"])

    preview.get_by_role("button", name="Apply macro").click()
    reply = page.get_by_role("article", name=f"Agent from {ALICE}")
    expect(reply.get_by_text(text)).to_be_visible()
    expect(page.get_by_role("combobox", name="Status", exact=True)).to_have_value("resolved")
    expect(page.get_by_role("status").filter(has_text="Macro “Refunded” applied.")).to_be_visible()
    expect(preview).to_have_count(0)
    _, now = stack.call("GET", f"/tickets/{ticket['id']}", token=stack.token())
    assert now["status"] == "resolved"
    assert "refunded" in now["tags"]
    sent = eventually(
        lambda: [m for m in stack.call("GET", "/local/outbox")[1] if text in m["text"]]
    )
    assert sent, "the macro's reply was never mailed"


def test_a_macro_over_a_stale_ticket_offers_a_reload(page: Page, stack: RunningStack, refunds: str):
    macro = {"name": "Escalate", "scope": "shared", "changes": {"priority": "urgent"}}
    status, created = stack.call("POST", "/macros", macro, stack.token())
    assert status == 201, created
    ticket = _settled_ticket(stack, refunds, "Refund never arrived")

    sign_in_with_dev_token(page, stack, ALICE, "agent")
    page.goto(f"{stack.base}/#/tickets/{ticket['id']}")
    page.get_by_role("combobox", name="Macros").select_option(label="Escalate")
    page.get_by_role("button", name="Preview macro").click()
    preview = page.get_by_role("region", name="Macro: Escalate")
    expect(preview.get_by_text("Priority → Urgent")).to_be_visible()
    # Someone else changes the ticket after this page read it
    change = {"status": "in_progress", "version": ticket["version"]}
    assert stack.call("PATCH", f"/tickets/{ticket['id']}", change, stack.token())[0] == 200

    preview.get_by_role("button", name="Apply macro").click()
    preview.get_by_role("alert").get_by_text("Someone else changed this ticket").wait_for()
    preview.get_by_role("button", name="Reload ticket").click()
    expect(page.get_by_role("combobox", name="Status", exact=True)).to_have_value("in_progress")
    preview.get_by_role("button", name="Apply macro").click()
    expect(page.get_by_role("combobox", name="Priority", exact=True)).to_have_value("urgent")
    _, now = stack.call("GET", f"/tickets/{ticket['id']}", token=stack.token())
    assert (now["status"], now["priority"]) == ("in_progress", "urgent")


def test_two_tickets_of_the_queue_change_status_then_department_and_tags_at_once(
    page: Page, stack: RunningStack, refunds: str
):
    tags = ["check-bank", "vip"]
    first = _settled_ticket(stack, refunds, "Refund to an old card", tags=tags)
    second = _settled_ticket(stack, refunds, "Refund in the wrong currency", tags=tags)
    untouched = _settled_ticket(stack, refunds, "Refund receipt missing", tags=tags)
    admin = stack.token()
    status, warranty = stack.call("POST", "/departments", {"name": "Warranty"}, admin)
    assert status == 201, warranty
    added = stack.call("POST", f"/departments/{warranty['id']}/members", {"email": ALICE}, admin)
    assert added[0] == 200, added

    sign_in_with_dev_token(page, stack, ALICE, "agent")
    page.goto(f"{stack.base}/#/?department={refunds}")
    toolbar = page.get_by_role("form", name="Change the selected tickets")
    expect(_row(page, untouched["subject"])).to_be_visible()
    expect(toolbar).to_have_count(0)
    for ticket in (first, second):
        _row(page, ticket["subject"]).get_by_role("checkbox").check()
    expect(toolbar.get_by_text("2 tickets selected")).to_be_visible()
    toolbar.get_by_label("Change status").select_option("in_progress")
    toolbar.get_by_role("button", name="Apply to 2 tickets").click()

    expect(page.get_by_role("status").filter(has_text="2 changed")).to_be_visible()
    expect(toolbar).to_have_count(0)  # the selection cleared
    # The queue read again: the open tab keeps only the ticket left alone
    expect(page.get_by_role("link", name=first["subject"])).to_have_count(0)
    expect(page.get_by_role("link", name=second["subject"])).to_have_count(0)
    expect(_row(page, untouched["subject"]).get_by_role("checkbox")).not_to_be_checked()
    page.get_by_role("tab", name=re.compile(r"^In progress \d+$")).click()
    for ticket in (first, second):
        expect(_row(page, ticket["subject"]).get_by_text("In progress")).to_be_visible()
    _, now = stack.call("GET", f"/tickets/{untouched['id']}", token=stack.token())
    assert now["status"] == "open"

    # Both again, from the keyboard: moved to Warranty and a tag taken off, Enter applying
    for ticket in (first, second):
        _row(page, ticket["subject"]).get_by_role("checkbox").check()
    # The last outcome cleared, so the next one is announced anew
    expect(page.get_by_role("status").filter(has_text="2 changed")).to_have_count(0)
    toolbar.get_by_label("Move to department").select_option(label="Warranty")
    toolbar.get_by_label("Remove tag").fill("check-bank")
    toolbar.get_by_label("Remove tag").press("Enter")
    expect(toolbar).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="2 changed")).to_be_visible()
    # They left the Refunds queue for Warranty's, where they keep their other tag
    expect(page.get_by_role("link", name=first["subject"])).to_have_count(0)
    filters = page.get_by_role("search", name="Filter tickets")
    filters.get_by_label("Department").select_option(label="Warranty")
    for ticket in (first, second):
        tags_shown = _row(page, ticket["subject"]).get_by_role("list", name="Tags")
        expect(tags_shown.get_by_role("listitem")).to_have_text(["vip"])
        _, now = stack.call("GET", f"/tickets/{ticket['id']}", token=admin)
        assert (now["department_id"], now["tags"]) == (warranty["id"], ["vip"])
    _, now = stack.call("GET", f"/tickets/{untouched['id']}", token=admin)
    assert (now["department_id"], sorted(now["tags"])) == (refunds, tags)
