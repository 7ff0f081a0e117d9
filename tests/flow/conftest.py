"""The local stack as `make run` starts it, for flow tests: a subprocess on free ports, driven
over HTTP and SMTP (`local_stack.running`). Each test module gets its own stack (a few seconds to
start), and every AWS call its functions made is checked against their IAM policies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.least_privilege import describe
from local_stack.aws_calls import read_json_lines
from local_stack.running import RunningStack
from local_stack.running import start_stack as start_local_stack
from tests.conftest import refused_calls

__all__ = ["RunningStack", "eventually", "running_stack", "start_stack"]
# A sweep every second: a moved clock shows on tickets within moments.
FAST_SLA = {"HELPDESK_SLA_SWEEP_SECONDS": "1"}

STARTED: list[RunningStack] = []  # every stack this process started, in order


def start_stack(state: Path, log: Path, settings: dict[str, str] | None = None) -> RunningStack:
    return start_local_stack(state, log, settings, STARTED.append)


def eventually(fetch: Any, done: Any = bool, seconds: float = 60) -> Any:
    """Fetch until `done(result)` or the time is up; returns the last result. The wait is
    generous (events cross several queues, and CI machines are shared); it ends as soon as done."""
    deadline = time.monotonic() + seconds
    while True:
        result = fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.fixture(scope="module", autouse=True)
def stacks_aws_calls_are_granted() -> Iterator[None]:
    """The emulator checks no permissions: every AWS call the functions of the module's stacks
    made must be granted by its service's IAM policy. Checked once they stopped (this fixture is
    set up before, so torn down after, the module's stacks)."""
    first = len(STARTED)
    yield
    refused = refused_calls(
        recorded for stack in STARTED[first:] for recorded in read_json_lines(stack.aws_calls)
    )
    del STARTED[first:]
    if refused:
        pytest.fail(describe(refused), pytrace=False)


def running_stack(
    tmp_path_factory: pytest.TempPathFactory, name: str, settings: dict[str, str] | None = None
) -> Iterator[RunningStack]:
    """A module's stack (with its own `HELPDESK_*` settings, if any), stopped after the module."""
    folder = tmp_path_factory.mktemp(name)
    running = start_stack(folder / "state", folder / "stack.log", settings)
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    yield from running_stack(tmp_path_factory, "stack")
