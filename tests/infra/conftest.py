"""Every service packaged once per test process, as an operator's machine would package it."""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from infra.package import Packaged, Skipped, package
from shared.aws import reset_process_state

UNREACHABLE_PROXY = "http://127.0.0.1:9"  # the discard port: any download fails at once
# What the packaging machine's environment says; none of it may reach a template.
MACHINE_STAGE = "machinestage"
MACHINE_REGION = "ap-southeast-7"


@dataclass(frozen=True)
class Run:
    out: Path
    results: dict[str, Packaged | Skipped]


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("package")
    with pytest.MonkeyPatch.context() as patch:
        # Offline and without cfn-lint: no proxy answers, cfnlint cannot be imported here, and
        # chalice's PATH does not hold the venv's cfn-lint script.
        for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            patch.setenv(variable, UNREACHABLE_PROXY)
        patch.delenv("NO_PROXY", raising=False)
        patch.delenv("no_proxy", raising=False)
        patch.setenv("PATH", os.defpath)
        patch.setitem(sys.modules, "cfnlint", None)
        # And on a machine whose own stage, region and settings differ from any deployment's
        patch.setenv("HELPDESK_STAGE", MACHINE_STAGE)
        patch.setenv("AWS_DEFAULT_REGION", MACHINE_REGION)
        patch.setenv("HELPDESK_TICKET_PREFIX", "MACHINE")
        results = package(out, with_deps=False)
    return Run(out, {result.service: result for result in results})


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An emulated AWS account behind an endpoint, as an operator's credentials would reach."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # The emulator keeps its accounts per process: start from an empty one.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("HELPDESK_MAIL_DOMAIN", "support.example.org")
    monkeypatch.setenv("HELPDESK_TICKET_PREFIX", "SUP")
    reset_process_state()
    try:
        with warnings.catch_warnings():  # resource types the emulator skips
            warnings.simplefilter("ignore")
            yield endpoint
    finally:
        server.stop()
        reset_process_state()
