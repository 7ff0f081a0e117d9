"""Signing in to the running local stack as in AWS: the emulator's user pool, its ID tokens,
and admins managing agents there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local_stack.user_pool import DEFAULT_ADMIN_PASSWORD
from tests.conftest import REPO
from tests.flow.conftest import RunningStack

pytestmark = pytest.mark.flow


def _sign_in(stack: RunningStack, email: str, password: str) -> subprocess.CompletedProcess[str]:
    """`helpdesk sign-in`, as `make run` tells a person to call it."""
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{stack.aws}",
        "HELPDESK_STAGE": stack.settings.stage,
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "local_stack.cli",
            "sign-in",
            "--email",
            email,
            "--password",
            password,
        ],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_default_admin_signs_in_and_invites_an_agent(stack: RunningStack) -> None:
    # When the default admin signs in with the password `make run` printed
    signed_in = _sign_in(stack, "admin@example.com", DEFAULT_ADMIN_PASSWORD)
    assert signed_in.returncode == 0, signed_in.stderr
    token = signed_in.stdout.strip()

    # Then the pool's ID token opens the API, as the Cognito authorizer's would
    status, agents = stack.call("GET", "/agents", token=token)
    assert status == 200, agents
    assert {"email": "admin@example.com", "admin": True}.items() <= agents["items"][0].items()
    # And the admin invites an agent, who is listed as invited
    status, invited = stack.call(
        "POST", "/agents", {"email": "nina@example.com", "name": "Nina"}, token=token
    )
    assert status == 201, invited
    status, agents = stack.call("GET", "/agents", token=token)
    assert {"nina@example.com": "invited"}.items() <= {
        agent["email"]: agent["status"] for agent in agents["items"]
    }.items()


def test_a_wrong_password_gets_no_token_and_a_forged_one_is_refused(stack: RunningStack) -> None:
    refused = _sign_in(stack, "admin@example.com", "not-the-password-1")
    assert refused.returncode != 0
    assert refused.stdout == ""
    status, _ = stack.call("GET", "/agents", token="eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")
    assert status == 401
