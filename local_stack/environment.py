"""The environment for running the services against moto inside this process (tests, benchmarks).

Fake credentials and region must be set before any client exists, and no endpoint override may
point elsewhere, so nothing can ever reach a real account.
"""

from __future__ import annotations

import os


def in_process_emulator(stage: str, log_level: str = "WARNING") -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="emulated",
        AWS_SECRET_ACCESS_KEY="emulated",  # noqa: S106 - any key works on the emulator
        AWS_DEFAULT_REGION="eu-west-1",
        # botocore would otherwise address some services by account-specific hosts moto ignores
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        HELPDESK_STAGE=stage,
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL=log_level,
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
