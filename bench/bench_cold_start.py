"""Cold start: how long each Lambda entry point takes to import, beside a bare `import boto3`.

Each import runs in a fresh interpreter, as Lambda's first invocation does; the entry points and
the bare import take turns, and the fastest of several runs counts for each. The time is the
interpreter's CPU time, which other processes on a shared machine do not stretch, and noise only
ever adds to it; the ratio to `import boto3` measured in the same run means more than the
milliseconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.harness import Row

REPO = Path(__file__).resolve().parent.parent
BASELINE = "boto3"
# What every function of ours loads whatever it does, imported as our functions import it (with
# collection paused, `shared.cold_start`): the floor our own modules add to. It goes after the
# probe's `import`.
LIBRARIES = (
    "gc; gc.disable(); import boto3, pydantic.main, chalice.app, aws_lambda_powertools.logging, "
    "aws_lambda_powertools.metrics, pynamodb.models"
)
RUNS = 7
TARGET = "<= 1.5x"
# Only the import is timed, not the interpreter's own start, which Lambda pays for any function.
PROBE = (
    "import time; started = time.process_time(); import {module}; "
    "print(time.process_time() - started)"
)


def import_ms(module: str) -> float:
    """CPU milliseconds one fresh interpreter takes to import `module`."""
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    # Lambda runs bytecode shipped with the code (`infra.package`): the first import writes it here
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    result = subprocess.run(  # noqa: S603 - our own interpreter and a module name we chose
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout) * 1000


def fastest_import_ms(modules: Sequence[str], runs: int = RUNS) -> dict[str, float]:
    """The fastest import time of each module and of the bare `import boto3`, taking turns."""
    timed = [BASELINE, *modules]
    for module in timed:  # writes any missing bytecode, which a deployed layer ships
        import_ms(module)
    samples: dict[str, list[float]] = {module: [] for module in timed}
    for _ in range(runs):
        for module in timed:
            samples[module].append(import_ms(module))
    return {module: min(values) for module, values in samples.items()}


def lowest_ratios(modules: Sequence[str], runs: int = RUNS) -> dict[str, float]:
    """Each module's import time over a bare `import boto3` timed just before it, the lowest of
    `runs` such pairs: work elsewhere on the machine (a sibling core's load slows this one's
    instructions too) then weighs on both sides of a ratio alike."""
    for module in [BASELINE, *modules]:  # writes any missing bytecode, which a deployed layer ships
        import_ms(module)
    ratios: dict[str, float] = {}
    for _ in range(runs):
        for module in modules:
            bare = import_ms(BASELINE)
            ratios[module] = min(ratios.get(module, float("inf")), import_ms(module) / bare)
    return ratios


def entry_points() -> dict[str, str]:
    """Every function Lambda runs (`service function`) and the module its handler names."""
    from infra.service_stack import lambda_handlers
    from infra.stacks import SERVICES

    return {
        f"{stack.service} {function}": handler.rpartition(".")[0]
        for stack in SERVICES
        for function, handler in lambda_handlers(stack).items()
    }


def run() -> list[Row]:
    # Imported here: the harness sets up the emulator's environment, which tests importing
    # this module's measurements must not get.
    from bench.harness import Row

    entries = entry_points()
    fastest = fastest_import_ms([LIBRARIES, *sorted(set(entries.values()))])
    bare = fastest[BASELINE]
    rows = [
        Row("cold start: bare import boto3", f"{bare:.0f} ms", "baseline"),
        Row(
            "cold start: the libraries alone (boto3, pydantic, chalice, powertools, pynamodb)",
            f"{fastest[LIBRARIES]:.0f} ms, {fastest[LIBRARIES] / bare:.2f}x",
            "floor",
        ),
    ]
    for function, module in entries.items():
        rows.append(
            Row(
                f"cold start: {function} ({module})",
                f"{fastest[module]:.0f} ms, {fastest[module] / bare:.2f}x",
                TARGET,
            )
        )
    return rows
