"""Settings, for admins: the SLA policy edited, saved and in its history; departments and their
members; and agents never reach them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.console.conftest import screenshot, serious_violations, sign_in_with_dev_token
from tests.flow.conftest import RunningStack


def open_sla_settings(page: Page, stack: RunningStack) -> None:
    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="SLA").click()
    page.get_by_role("heading", name="History").wait_for()


def urgent(page: Page):
    return page.get_by_role("group", name="Urgent")


def test_an_admin_saves_a_new_sla_policy_and_sees_it_in_the_history(
    page: Page, stack: RunningStack
):
    open_sla_settings(page, stack)
    before = stack.call("GET", "/sla/policies", token=stack.token())[1]["version"]

    urgent(page).get_by_label("First response (minutes)").fill("30")
    page.get_by_role("button", name="Save as a new version").click()

    saved = before + 1
    page.get_by_text(f"Saved as version {saved}.").wait_for()
    history = page.get_by_role("table")
    expect(history.get_by_role("row", name=f"Version {saved}")).to_contain_text("30 min / 4 h")
    policy = stack.call("GET", "/sla/policies", token=stack.token())[1]
    assert policy["version"] == saved
    assert policy["targets"]["urgent"]["first_response_minutes"] == 30
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "settings-sla")


def test_a_bad_target_is_named_next_to_its_field_and_kept(page: Page, stack: RunningStack):
    open_sla_settings(page, stack)
    first_response = urgent(page).get_by_label("First response (minutes)")
    first_response.fill("0")
    page.get_by_role("button", name="Save as a new version").click()

    page.get_by_role("alert").wait_for()
    expect(urgent(page).locator(".field-error")).to_be_visible()
    expect(first_response).to_have_value("0")


def test_an_agent_never_sees_settings(page: Page, stack: RunningStack):
    sign_in_with_dev_token(page, stack, "alice@example.com", "agent")
    main_navigation = page.get_by_role("navigation", name="Main")
    expect(main_navigation.get_by_role("link", name="Settings")).to_have_count(0)
    page.goto(stack.base + "/#/settings/sla")
    page.get_by_text("Only admins can change settings").wait_for()
    expect(page.get_by_role("button", name="Save as a new version")).to_have_count(0)


def test_an_admin_creates_a_department_and_adds_a_member(page: Page, stack: RunningStack):
    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    page.goto(stack.base + "/#/settings/departments")
    page.get_by_label("Department name").fill("Returns")
    page.get_by_role("button", name="Create department").click()

    card = page.get_by_role("region", name="Returns")
    card.get_by_label("Add a member to Returns").fill("rita@example.com")
    card.get_by_role("button", name="Add member").click()

    expect(card.get_by_role("listitem").filter(has_text="rita@example.com")).to_be_visible()
    departments = stack.call("GET", "/departments", token=stack.token())[1]["items"]
    returns = next(d for d in departments if d["name"] == "Returns")
    assert "rita@example.com" in returns["members"]


@pytest.mark.axe
def test_the_sla_settings_have_no_serious_violation(page: Page, stack: RunningStack):
    open_sla_settings(page, stack)
    page.get_by_label("Business hours only").check()
    page.get_by_label("Time zone").wait_for()
    assert not serious_violations(page)
