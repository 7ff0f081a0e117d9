"""The agent console: what its first load costs on the wire, and how soon a queue of 100 tickets
is usable in Chromium against the whole local stack, beside a bare page of the same server in the
same run (the sign-in screen: the same files, no API call), since one absolute time means little
on a shared machine. Times are the browser's own (navigation start to a performance mark)."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import Row
from infra.console_build import build, first_load_scripts, gzipped_bytes
from local_stack.browser import (
    chromium_path,
    launch,
    queue_interactive_ms,
    sign_in_with_dev_token,
)
from local_stack.running import RunningStack, start_stack

if TYPE_CHECKING:
    from playwright.sync_api import Browser

TICKETS = 100
LOADS = 5
BUDGET_KB = 200
BUDGET_MS = 1000


def run() -> list[Row]:
    build()
    rows = [
        Row(
            "console: JavaScript of the first load (KB gzipped)",
            f"{gzipped_bytes(first_load_scripts()) / 1024:.1f}",
            f"<= {BUDGET_KB}",
        )
    ]
    chromium = chromium_path()
    if chromium is None:
        return [*rows, Row("console: queue of 100 tickets", "skipped: no Chromium", "")]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        stack = start_stack(Path(folder) / "state", Path(folder) / "stack.log")
        try:
            stack.open_tickets(TICKETS, "Benchmark ticket")
            stack.settle(TICKETS)
            with sync_playwright() as playwright:
                browser = launch(playwright, chromium)
                queue, bare = _load_times(browser, stack)
                browser.close()
        finally:
            stack.stop()
    return [
        *rows,
        Row(
            f"console: queue of {TICKETS} tickets interactive (ms, median)",
            f"{queue:.0f}",
            f"<= {BUDGET_MS}",
        ),
        Row("console: bare page of the same server shown (ms, median)", f"{bare:.0f}", ""),
        Row("console: queue interactive / bare page", f"{queue / bare:.1f}x", ""),
    ]


def _load_times(browser: Browser, stack: RunningStack) -> tuple[float, float]:
    page = browser.new_page()
    page.goto(stack.base + "/")
    page.get_by_role("button", name="Sign in", exact=True).wait_for()
    bare = []
    for _ in range(LOADS):
        page.reload()
        page.get_by_role("button", name="Sign in", exact=True).wait_for()
        bare.append(
            page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
        )
    sign_in_with_dev_token(page, stack.base, "admin@example.com", "admin")
    queue = []
    for _ in range(LOADS):
        page.goto(stack.base + f"/#/?limit={TICKETS}")
        page.reload()
        queue.append(queue_interactive_ms(page))
    page.close()
    return statistics.median(queue), statistics.median(bare)
