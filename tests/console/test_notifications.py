"""Which mails about tickets an agent gets: their own choice per kind on the Notifications view
(kept across loads, and only the kinds set On or Off sent), a refused choice named next to its
kind, and the admins' defaults set in Settings, which agents see but never reach."""

from __future__ import annotations

import json

from playwright.sync_api import Page, Route, expect

from tests.console.conftest import sign_in_with_dev_token
from tests.flow.conftest import RunningStack

PREFERENCES = "**/notifications/preferences"


def open_notifications(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    page.get_by_role("heading", name="Notifications", exact=True).wait_for()


def saved(page: Page) -> None:
    status = page.get_by_role("status").filter(has_text="Saved")
    expect(status).to_be_visible()
    expect(status).to_have_attribute("aria-live", "polite")


def save_and_read_body(page: Page) -> dict[str, object]:
    with page.expect_request(
        lambda request: request.method == "PUT" and request.url.endswith("/preferences")
    ) as sent:
        page.get_by_role("button", name="Save", exact=True).click()
    saved(page)
    return dict(sent.value.post_data_json)


def test_an_agent_turns_client_answered_off_and_back_to_the_default(
    page: Page, stack: RunningStack
):
    sign_in_with_dev_token(page, stack, "dora@example.com", "agent")
    open_notifications(page)
    client_answered = page.get_by_role("group", name="Client answered")
    expect(client_answered.get_by_role("radio", name="Default (on)")).to_be_checked()
    expect(client_answered).to_contain_text("You get these mails.")

    client_answered.get_by_role("radio", name="Off", exact=True).check()
    assert save_and_read_body(page) == {"client_replied": False}
    expect(client_answered).to_contain_text("You do not get these mails.")

    page.reload()
    client_answered = page.get_by_role("group", name="Client answered")
    expect(client_answered.get_by_role("radio", name="Off", exact=True)).to_be_checked()
    agent = stack.token("dora@example.com", "agent")
    status, mine = stack.call("GET", "/notifications/preferences", token=agent)
    assert status == 200, mine
    assert mine["own"]["client_replied"] is False

    client_answered.get_by_role("radio", name="Default (on)").check()
    assert save_and_read_body(page) == {}
    mine = stack.call("GET", "/notifications/preferences", token=agent)[1]
    assert mine["own"]["client_replied"] is None
    assert mine["enabled"]["client_replied"] is True


def test_a_refused_choice_is_named_next_to_its_kind(page: Page, stack: RunningStack):
    def spoiled(route: Route) -> None:
        # No control of the view sends a bad value: the request is changed on its way.
        if route.request.method == "PUT":
            route.continue_(post_data=json.dumps({"assigned": "maybe"}))
        else:
            route.continue_()

    sign_in_with_dev_token(page, stack, "eve@example.com", "agent")
    open_notifications(page)
    page.route(PREFERENCES, spoiled)
    assigned = page.get_by_role("group", name="Assigned to you")
    assigned.get_by_role("radio", name="On", exact=True).check()
    page.get_by_role("button", name="Save", exact=True).click()

    page.get_by_role("alert").wait_for()
    expect(assigned.locator(".field-error")).to_be_visible()
    expect(page.get_by_role("group", name="New ticket").locator(".field-error")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_count(0)


def test_an_admin_turns_a_default_off_and_an_agent_sees_it(page: Page, stack: RunningStack):
    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    page.goto(stack.base + "/#/settings")
    settings = page.get_by_role("navigation", name="Settings")
    settings.get_by_role("link", name="Notifications").click()
    new_ticket = page.get_by_role("switch", name="New ticket")
    expect(new_ticket).to_be_checked()
    new_ticket.uncheck()
    page.get_by_role("button", name="Save defaults").click()
    saved(page)
    defaults = stack.call("GET", "/notifications/preferences", token=stack.token())[1]["defaults"]
    assert defaults["new_ticket"] is False
    assert defaults["client_replied"] is True

    page.get_by_role("button", name="Sign out").click()
    sign_in_with_dev_token(page, stack, "frank@example.com", "agent")
    open_notifications(page)
    new_ticket_choice = page.get_by_role("group", name="New ticket")
    expect(new_ticket_choice.get_by_role("radio", name="Default (off)")).to_be_checked()
    expect(new_ticket_choice).to_contain_text("You do not get these mails.")


def test_an_agent_never_sees_the_defaults(page: Page, stack: RunningStack):
    sign_in_with_dev_token(page, stack, "gus@example.com", "agent")
    page.goto(stack.base + "/#/settings/notifications")
    page.get_by_text("Only admins can change settings").wait_for()
    expect(page.get_by_role("switch")).to_have_count(0)
    expect(page.get_by_role("button", name="Save defaults")).to_have_count(0)
