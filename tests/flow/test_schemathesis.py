"""The whole OpenAPI document, fuzzed against the running local stack: generated requests, valid
and invalid, as an admin and as an agent. No answer may be a 5xx, and every answer must match the
schema the document gives for its status. The seed is printed, so a finding can be replayed:
`HELPDESK_FUZZ_SEED=<seed> pytest tests/flow/test_schemathesis.py`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.flow.conftest import RunningStack

pytestmark = pytest.mark.flow
SEED = int(os.environ.get("HELPDESK_FUZZ_SEED", "20260301"))
SECONDS_PER_ROLE = 25  # about a minute for both roles, start-up included
CHECKS = "not_a_server_error,response_schema_conformance"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.mark.parametrize(
    ("email", "role"), [("admin@example.com", "admin"), ("alice@example.com", "agent")]
)
def test_no_generated_request_gets_a_5xx_or_an_answer_off_its_schema(
    stack: RunningStack, tmp_path: Path, email: str, role: str
) -> None:
    token = stack.token(email, role)
    report = tmp_path / "report.xml"
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{stack.base}/openapi.json",
        "--checks",
        CHECKS,
        "--seed",
        str(SEED),
        "--max-time",
        str(SECONDS_PER_ROLE),
        "--max-examples",
        "25",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
    ]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_ROLE * 4,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
        cwd=tmp_path,  # where it keeps its own state, out of the working tree
        check=False,
    )
    output = run.stdout + run.stderr
    summary = output[output.rfind("SUMMARY") :] if "SUMMARY" in output else output[-3000:]
    print(f"schemathesis as {role}, seed {SEED}; report {report}\n{summary}")
    assert run.returncode == 0, output[-20_000:]
