"""The console's budgets as counts: what the first load costs on the wire, and how many calls a
full queue costs. How soon that queue is usable is a time, so it is measured by `make bench`
(bench/bench_console.py, against a bare page in the same run), never asserted here."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request

from infra.console_build import DIST, first_load_scripts, gzipped_bytes
from local_stack.browser import queue_interactive_ms
from tests.console.conftest import sign_in_with_dev_token
from tests.flow.conftest import RunningStack

FIRST_LOAD_BUDGET_BYTES = 200 * 1024
QUEUE_TICKETS = 100
# What a fresh load asks the API for: its settings, one page of tickets, the departments, the
# agents and the department's counts. Nothing per row: 100 rows cost what 1 row costs.
QUEUE_LOAD_CALLS = 5


def test_the_first_load_is_at_most_200_kb_of_javascript_gzipped():
    if not (DIST / "index.html").exists():
        pytest.skip("the console is not built (make console)")
    scripts = first_load_scripts()
    assert scripts, "index.html loads no script"
    assert gzipped_bytes(scripts) <= FIRST_LOAD_BUDGET_BYTES


def test_the_sign_in_library_is_not_part_of_the_first_load():
    if not (DIST / "index.html").exists():
        pytest.skip("the console is not built (make console)")
    assert not any("cognito" in script.name for script in first_load_scripts())


def test_a_queue_of_100_tickets_costs_one_list_call_and_nothing_per_row(
    page: Page, stack: RunningStack
):
    stack.open_tickets(QUEUE_TICKETS, "Budget ticket")
    stack.settle(QUEUE_TICKETS)
    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    page.goto(stack.base + f"/#/?limit={QUEUE_TICKETS}")
    queue_interactive_ms(page)
    page.wait_for_load_state("networkidle")  # the first load is done before calls are counted
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.reload()  # a fresh load, signed in: what an agent opening the console gets
    queue_interactive_ms(page)
    page.wait_for_load_state("networkidle")  # calls made after the first rows count as well
    # Only what the reloaded page asked for
    reloaded = max(i for i, request in enumerate(requests) if request.resource_type == "document")
    calls = [urlsplit(r.url).path for r in requests[reloaded:] if r.resource_type == "fetch"]
    rows = page.get_by_role("link", name="Budget ticket")
    assert rows.count() >= QUEUE_TICKETS
    assert calls.count("/tickets") == 1, calls
    assert not [path for path in calls if path.startswith("/tickets/")], calls
    assert len(calls) <= QUEUE_LOAD_CALLS, calls
    rows.first.click()  # interactive: the first row opens its ticket
    page.wait_for_url("**/#/tickets/*")
