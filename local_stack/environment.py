"""The environment for running the services against moto inside this process (tests, benchmarks).

Fake credentials and region must be set before any client exists, and no endpoint override may
point elsewhere, so nothing can ever reach a real account.
"""

from __future__ import annotations

import logging
import os
import secrets
import warnings

from local_stack import emulator_patches
from local_stack.files import signing_environment

EDGE_URL = "http://edge.localhost"


def in_process_emulator(stage: str, log_level: str = "WARNING") -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="emulated",
        AWS_SECRET_ACCESS_KEY="emulated",  # noqa: S106 - any key works on the emulator
        AWS_DEFAULT_REGION="eu-west-1",
        # botocore would otherwise address some services by account-specific hosts moto ignores
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        HELPDESK_STAGE=stage,
        HELPDESK_REPLY_TOKEN_SECRET=secrets.token_hex(16),
        # Links to files point at the gateway, which serves them as the edge does.
        HELPDESK_EDGE_URL=EDGE_URL,
        **signing_environment(),
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL=log_level,
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    emulator_patches.apply_all()


NOISY_LOGGERS = ("moto", "werkzeug")
METRICS_WARNING = "No application metrics to publish"


def quiet() -> None:
    """Silence what the emulator and powertools say on every run: moto logs a warning for each
    resource its CloudFormation skips (policies, SES rules, Cognito), werkzeug each request, and
    powertools warns for each function that recorded no metric, which is the norm here."""
    warnings.filterwarnings("ignore", METRICS_WARNING)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.ERROR)
