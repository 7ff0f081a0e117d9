"""The agent console in a real browser (the system's Chromium, driven by Playwright) against the
local stack as `make run` starts it. Skipped, saying why, where the machine has no Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from infra.console_build import DIST
from tests.conftest import REPO
from tests.flow.conftest import (  # noqa: F401 - fixtures shared with the flow tests
    RunningStack,
    stack,
    stacks_aws_calls_are_granted,
    start_stack,
)

pytestmark = pytest.mark.console

CHROMIUM = os.environ.get("HELPDESK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO / "docs" / "screenshots"
# A closed network: Chromium's own background calls (updates, sync, lookups) would only fail.
CHROMIUM_ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 860}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); .ci/run installs it")
    if not (DIST / "index.html").exists():
        pytest.skip("the console is not built (make console)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the console threw: {errors}"


def sign_in_with_dev_token(page: Page, running: RunningStack, email: str, role: str) -> None:
    """Sign in through the sign-in screen's dev-token form, as a person on the local stack."""
    page.goto(running.base + "/")
    page.get_by_label("Email for the dev token").fill(email)
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Sign in with a dev token").click()
    page.get_by_text("Signed in as").wait_for()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
