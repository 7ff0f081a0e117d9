"""Signing in and out of the console."""

from __future__ import annotations

from tests.console.conftest import sign_in_with_dev_token
from tests.flow.conftest import RunningStack


def test_an_admin_signs_in_with_the_user_pool_password_and_signs_out(page, stack: RunningStack):
    page.goto(stack.base + "/")
    page.get_by_label("Email", exact=True).fill("admin@example.com")
    page.get_by_label("Password", exact=True).fill("Helpdesk-local-1")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Signed in as").wait_for()
    assert page.get_by_role("link", name="Settings").is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You signed out.").wait_for()


def test_a_wrong_password_is_refused_on_the_sign_in_screen(page, stack: RunningStack):
    page.goto(stack.base + "/")
    page.get_by_label("Email", exact=True).fill("admin@example.com")
    page.get_by_label("Password", exact=True).fill("not-the-password-1")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("alert").get_by_text("Incorrect username or password").wait_for()
    assert not page.get_by_text("Signed in as").is_visible()


def test_an_agent_with_a_dev_token_sees_no_settings(page, stack: RunningStack):
    sign_in_with_dev_token(page, stack, "alice@example.com", "agent")
    assert not page.get_by_role("link", name="Settings").is_visible()
