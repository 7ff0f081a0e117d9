"""The local stack's own views: the mail it sent, and its clock."""

from __future__ import annotations

from datetime import datetime

from playwright.sync_api import Page, expect

from tests.console.conftest import sign_in_with_dev_token
from tests.flow.conftest import RunningStack, eventually


def test_the_outbox_lists_a_reply_that_was_mailed(page: Page, stack: RunningStack):
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Support"}, admin)[0] == 201
    channel = {"address": "support@example.com", "department_id": "support"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    status, ticket = stack.call(
        "POST",
        "/tickets",
        {
            "subject": "Lost my password",
            "body": "I cannot sign in.",
            "department_id": "support",
            "requester": {"email": "gina@client.example.org", "name": "Gina"},
        },
        admin,
    )
    assert status == 201, ticket
    reply = {"body": "A reset link is on its way."}
    assert stack.call("POST", f"/tickets/{ticket['id']}/messages", reply, admin)[0] == 201
    eventually(
        lambda: stack.call("GET", "/local/outbox")[1],
        lambda sent: any("reset link" in mail["text"] for mail in sent),
    )

    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    page.get_by_role("link", name="Sent mail (local)").click()
    message = page.get_by_role("listitem").filter(has_text="Lost my password").first
    expect(message).to_contain_text("gina@client.example.org")
    message.get_by_text("Lost my password").click()
    expect(message.get_by_text("A reset link is on its way.")).to_be_visible()


def test_the_clock_control_moves_the_clock(page: Page, stack: RunningStack):
    sign_in_with_dev_token(page, stack, "alice@example.com", "agent")
    page.get_by_role("link", name="Clock (local)").click()
    shown = page.locator(".clock-now time")
    shown.wait_for()
    before = shown.get_attribute("datetime") or ""

    page.get_by_role("button", name="+1 day").click()
    expect(shown).not_to_have_attribute("datetime", before)
    after_day = shown.get_attribute("datetime") or ""
    assert moved(before, after_day) >= 24 * 3600

    page.get_by_label("Minutes to move on").fill("90")
    page.get_by_role("button", name="Move the clock").click()
    expect(shown).not_to_have_attribute("datetime", after_day)
    assert moved(after_day, shown.get_attribute("datetime") or "") >= 90 * 60


def moved(before: str, after: str) -> float:
    return (datetime.fromisoformat(after) - datetime.fromisoformat(before)).total_seconds()
