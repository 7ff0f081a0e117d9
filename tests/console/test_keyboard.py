"""Keyboard alone: an agent signs in, opens a ticket from the queue, changes its status and adds
an internal note without touching the mouse. Every step moves focus with Tab (or the arrow keys
inside a radio group) and acts with Enter, Space or typing, as a keyboard user does."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.flow.conftest import RunningStack, eventually

MOST_TABS = 80  # more stops than any view has before the control a step wants


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def test_a_ticket_is_worked_by_keyboard_alone(page: Page, stack: RunningStack):
    admin = stack.token()
    status, ticket = stack.call(
        "POST",
        "/tickets",
        {
            "subject": "Keyboard only",
            "body": "My mouse is broken.",
            "priority": "medium",
            "requester": {"email": "keys@example.org", "name": "Kim Keys"},
        },
        admin,
    )
    assert status == 201, ticket

    page.goto(stack.base + "/")
    tab_to(page, page.get_by_label("Email for the dev token"))
    page.keyboard.type("admin@example.com")
    tab_to(page, page.get_by_label("Role"))
    page.keyboard.type("Ad")  # a focused select picks the option its typed letters start
    expect(page.get_by_label("Role")).to_have_value("admin")
    tab_to(page, page.get_by_role("button", name="Sign in with a dev token"))
    page.keyboard.press("Enter")
    page.get_by_text("Signed in as").wait_for()

    tab_to(page, page.get_by_role("link", name="Keyboard only"))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=f"{ticket['number']}: Keyboard only").wait_for()

    tab_to(page, page.get_by_role("combobox", name="Status", exact=True))
    page.keyboard.press("ArrowDown")  # open → in progress
    expect(page.get_by_text("Version 2")).to_be_visible()

    tab_to(page, page.get_by_role("radio", name="Reply to client"))
    page.keyboard.press("ArrowRight")  # the radio group's next choice: internal note
    expect(page.get_by_role("radio", name="Internal note")).to_be_checked()
    tab_to(page, page.get_by_label("Your note", exact=True))
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Control+Enter")
    page.locator(".message-internal").get_by_text("Typed without a mouse.").wait_for()

    changed = eventually(
        lambda: stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1],
        lambda found: found["status"] == "in_progress",
    )
    assert changed["status"] == "in_progress"
