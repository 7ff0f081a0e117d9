"""The system's Chromium, as the console's browser tests and benchmarks drive it (Playwright's own
browser download is not used: CI installs Debian's `chromium`)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

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


def chromium_path() -> Path | None:
    """`HELPDESK_CHROMIUM`, else the `chromium` on PATH; None where there is none."""
    found = os.environ.get("HELPDESK_CHROMIUM") or shutil.which("chromium")
    return Path(found) if found and Path(found).exists() else None


def launch(playwright: Playwright, chromium: Path) -> Browser:
    return playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGUMENTS)


def sign_in_with_dev_token(page: Page, base: str, email: str, role: str) -> None:
    """Sign in through the sign-in screen's dev-token form, as a person on the local stack."""
    page.goto(base + "/")
    page.get_by_label("Email for the dev token").fill(email)
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Sign in with a dev token").click()
    page.get_by_text("Signed in as").wait_for()


QUEUE_MARK = "queue-interactive"  # set by the queue once its first rows are usable
MARK_WAIT_SECONDS = 15


def queue_interactive_ms(page: Page) -> float:
    """Milliseconds from the navigation's start to the queue's rows being usable, from the
    browser's own timeline. Polled: the console's CSP forbids the string functions Playwright's
    waits would evaluate."""
    found = f"performance.getEntriesByName('{QUEUE_MARK}')"
    deadline = time.monotonic() + MARK_WAIT_SECONDS
    while not page.evaluate(f"{found}.length"):
        if time.monotonic() > deadline:
            raise AssertionError("the queue never became interactive")
        page.wait_for_timeout(10)
    return float(page.evaluate(f"{found}[0].startTime"))
