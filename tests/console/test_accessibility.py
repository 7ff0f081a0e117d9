"""Every main view of the console, scanned by axe-core: no serious or critical violation of WCAG
2.1 AA (labels, names, roles, contrast). Keyboard-only use is shown in test_keyboard.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.console.conftest import serious_violations, sign_in_with_dev_token
from tests.flow.conftest import RunningStack, eventually

pytestmark = pytest.mark.axe


def a_ticket_with_a_contact(stack: RunningStack) -> dict[str, str]:
    admin = stack.token()
    status, ticket = stack.call(
        "POST",
        "/tickets",
        {
            "subject": "Scanner jammed",
            "body": "It makes a noise.",
            "priority": "high",
            "requester": {"email": "axe@example.org", "name": "Ada Axe"},
        },
        admin,
    )
    assert status == 201, ticket
    linked = eventually(
        lambda: stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1],
        lambda found: found.get("contact_id"),
    )
    # Search follows the same events: the results view has something to show once it finds it.
    eventually(
        lambda: stack.call("GET", "/search?q=scanner", token=admin)[1],
        lambda found: found.get("items"),
    )
    return {"ticket": ticket["id"], "contact": linked["contact_id"]}


def assert_accessible(page: Page, view: str) -> None:
    found = serious_violations(page)
    assert not found, f"{view}: {found}"


def test_the_sign_in_screen_has_no_serious_violation(page: Page, stack: RunningStack):
    page.goto(stack.base + "/")
    page.get_by_role("button", name="Sign in", exact=True).wait_for()
    assert_accessible(page, "sign-in")


def test_every_main_view_has_no_serious_violation(page: Page, stack: RunningStack):
    ids = a_ticket_with_a_contact(stack)
    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    views = {
        "queue": ("#/", "Scanner jammed"),
        "ticket": (f"#/tickets/{ids['ticket']}", "It makes a noise."),
        "contacts": ("#/contacts", None),
        "contact": (f"#/contacts/{ids['contact']}", "Ada Axe"),
        "search results": ("#/search?q=scanner", "1 ticket found"),
        "notifications": ("#/notifications", "Client answered"),
        "sent mail": ("#/local/outbox", None),
        "clock": ("#/local/clock", None),
    }
    for view, (fragment, shown) in views.items():
        page.goto(stack.base + "/" + fragment)
        page.locator("#page-title").wait_for()
        if shown:
            page.get_by_text(shown).first.wait_for()
        page.wait_for_load_state("networkidle")
        assert_accessible(page, view)

    # The composer with a macro's preview open, and the queue with its bulk toolbar open
    macro = {
        "name": "Scanner fixed",
        "scope": "shared",
        "body": "Hello, {ticket.number} is fixed.",
        "changes": {"status": "resolved", "tags_add": ["fixed"]},
    }
    assert stack.call("POST", "/macros", macro, stack.token())[0] == 201
    page.goto(stack.base + f"/#/tickets/{ids['ticket']}")
    page.get_by_role("combobox", name="Macros").select_option(label="Scanner fixed")
    page.get_by_role("button", name="Preview macro").click()
    page.get_by_text("Status → Resolved").wait_for()
    assert_accessible(page, "ticket with a macro's preview")
    page.goto(stack.base + "/#/")
    page.get_by_role("row").filter(has_text="Scanner jammed").get_by_role("checkbox").check()
    page.get_by_role("form", name="Change the selected tickets").wait_for()
    assert_accessible(page, "queue with the bulk toolbar")

    # The header's search with its suggestions open, the first one chosen
    page.get_by_role("combobox", name="Search tickets").fill("scan")
    page.get_by_role("option", name="Scanner jammed").wait_for()
    page.keyboard.press("ArrowDown")
    assert_accessible(page, "search suggestions")

    page.goto(stack.base + "/#/settings")
    page.locator("#page-title").wait_for()
    sections = page.get_by_role("navigation", name="Settings").get_by_role("link")
    names = [sections.nth(index).inner_text() for index in range(sections.count())]
    assert "SLA" in names
    assert "Notifications" in names
    for name in names:
        page.get_by_role("navigation", name="Settings").get_by_role("link", name=name).click()
        page.wait_for_load_state("networkidle")
        assert_accessible(page, f"settings: {name}")
