"""The agent console in a real browser (the system's Chromium, driven by Playwright) against the
local stack as `make run` starts it. Skipped, saying why, where the machine has no Chromium."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from infra.console_build import DIST
from local_stack.browser import chromium_path, launch
from local_stack.browser import sign_in_with_dev_token as sign_in
from tests.conftest import REPO
from tests.flow.conftest import (  # noqa: F401 - fixtures shared with the flow tests
    RunningStack,
    stack,
    stacks_aws_calls_are_granted,
    start_stack,
)

pytestmark = pytest.mark.console

# `make screenshots` sets it to docs/screenshots; a plain test run leaves the tree as it was.
SCREENSHOTS = os.environ.get("HELPDESK_SCREENSHOTS")
VIEWPORT = {"width": 1280, "height": 860}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = chromium_path()
    if chromium is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run installs it)")
    if not (DIST / "index.html").exists():
        pytest.skip("the console is not built (make console)")
    with sync_playwright() as playwright:
        launched = launch(playwright, chromium)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    # Scanning a page with axe needs its script injected, which the console's CSP would refuse.
    bypass_csp = request.node.get_closest_marker("axe") is not None
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=bypass_csp)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the console threw: {errors}"


def sign_in_with_dev_token(page: Page, running: RunningStack, email: str, role: str) -> None:
    sign_in(page, running.base, email, role)


def visible_after_reloads(page: Page, locator: Locator, seconds: float = 60) -> None:
    """Reload until `locator` shows: for what another service follows by event, which a page
    shows on its next load (generous: CI machines are shared)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            locator.wait_for(timeout=2000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
            page.reload()


def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        folder = REPO / SCREENSHOTS
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=False)


AXE = REPO / "console" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA: what the console promises (labels, names, contrast, structure).
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({rule: v.id, help: v.help, where: v.nodes.map((n) => n.target.join(' '))}));
}"""


def serious_violations(page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical findings on the page as it is now (tests marked `axe`)."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make console installs the console's packages)")
    page.add_script_tag(path=str(AXE))
    return list(page.evaluate(AXE_RUN))
