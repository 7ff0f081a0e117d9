"""Packaging with `chalice package` (infra.package): each service's bundle and SAM template.

All services are packaged once per module with --no-deps, which downloads nothing, so the tests run
offline; the test of the dependency layer (a PyPI download) needs HELPDESK_PACKAGE_WITH_DEPS=1.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path
from typing import Any

import chalice
import pytest

from infra.emulator import references
from infra.package import (
    CHALICE_STAGE,
    ONLY_FOR,
    REPO,
    Packaged,
    Skipped,
    chalice_config,
    has_functions,
    main,
    package,
    package_service,
    runtime_requirements,
)
from infra.parameters import template_settings
from infra.stacks import SERVICES, ServiceStack, service
from infra.templates import function_policy
from shared.settings import Settings
from tests.infra.conftest import Run

pytestmark = pytest.mark.infra

STAGE = "ci"  # the stage a test deploys as: a stack parameter, never in a template
PSEUDO_PARAMETER = re.compile(r"^AWS::")


def _template_at(sam_dir: Path) -> dict[str, Any]:
    template: dict[str, Any] = json.loads((sam_dir / "sam.json").read_text())
    return template


def _template(run: Run, name: str) -> dict[str, Any]:
    return _template_at(run.out / name / "sam")


def _zip_names(run: Run, name: str) -> list[str]:
    with zipfile.ZipFile(run.out / name / "sam" / "deployment.zip") as bundle:
        return bundle.namelist()


def _dangling(template: dict[str, Any]) -> set[str]:
    known = set(template["Resources"]) | set(template.get("Parameters", {}))
    return {
        name
        for name in references(template["Resources"])
        if name not in known and not PSEUDO_PARAMETER.match(name)
    }


def _functions(template: dict[str, Any]) -> dict[str, str]:
    return {
        name: resource["Properties"]["Handler"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_tickets_bundle_holds_only_its_code(run: Run) -> None:
    # Given the tickets service packaged without dependencies
    names = _zip_names(run, "tickets")

    # Then its bundle has the shim, its own code and the shared library at the root
    assert "app.py" in names
    assert "services/__init__.py" in names
    assert "services/tickets/app.py" in names
    assert "services/tickets/handlers/http.py" in names
    assert "shared/settings.py" in names
    assert "shared/events/outbox.py" in names
    # And no other service's code, and no bytecode but that compiled from its modules
    packages = {n.split("/")[1] for n in names if n.startswith("services/") and n.count("/") > 1}
    assert packages - {"__pycache__"} == {"tickets"}
    assert {n for n in names if n.endswith(".pyc")} == {
        importlib.util.cache_from_source(n) for n in names if n.endswith(".py")
    }


def test_tickets_project_is_staged_as_declared(run: Run) -> None:
    # Given the staged chalice project of tickets
    project = run.out / "tickets" / "project"
    settings = template_settings()

    # Then its config is the declared one, with the written policy and no layer
    config = json.loads((project / ".chalice" / "config.json").read_text())
    assert config["app_name"] == service("tickets").app_name
    assert (
        config["stages"][CHALICE_STAGE]
        == chalice_config(service("tickets"), settings, with_deps=False)["stages"][CHALICE_STAGE]
    )
    assert config["stages"][CHALICE_STAGE]["environment_variables"] == {
        "HELPDESK_RESOURCE_PREFIX": settings.resource_prefix,
        "POWERTOOLS_SERVICE_NAME": "tickets",
    }
    policy = json.loads((project / ".chalice" / "policy.json").read_text())
    assert policy == function_policy(service("tickets"), settings)
    assert (project / "requirements.txt").read_text() == ""
    # And vendor/ holds only the services package, tickets and shared
    assert sorted(p.name for p in (project / "vendor").iterdir()) == ["services", "shared"]
    assert sorted(p.name for p in (project / "vendor" / "services").iterdir()) == [
        "__init__.py",
        "tickets",
    ]


def test_tickets_template_merges_resources_and_wiring(run: Run) -> None:
    # Given the SAM template of tickets
    template = _template(run, "tickets")
    resources = template["Resources"]

    # Then chalice's functions and the stream mapping are there; the table is in the data stack,
    # whose export gives the stream
    assert set(_functions(template)) >= {"APIHandler", "RelayOutbox"}
    assert "Table" not in resources
    mapping = resources["OutboxStreamMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "RelayOutbox"}
    assert mapping["EventSourceArn"] == {
        "Fn::ImportValue": {"Fn::Sub": "helpdesk-${Stage}-tickets-TableStreamArn"}
    }
    # And the functions run with the declared timeout, memory and the stage they are given
    relay = resources["RelayOutbox"]["Properties"]
    assert (relay["Timeout"], relay["MemorySize"]) == (30, 512)
    assert relay["Environment"]["Variables"]["HELPDESK_STAGE"] == {"Ref": "Stage"}
    assert "Layers" not in relay


def test_sla_template_wires_its_event_queue(run: Run) -> None:
    # Given the SAM template of sla
    resources = _template(run, "sla")["Resources"]

    # Then the queue's mapping invokes the consumer function, which exists, and the rule feeds it
    mapping = resources["EventQueueMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "ConsumeEvents"}
    assert resources["ConsumeEvents"]["Type"] == "AWS::Serverless::Function"
    assert resources["EventRule"]["Type"] == "AWS::Events::Rule"
    assert "APIHandler" in resources


def test_channels_template_wires_received_mail(run: Run) -> None:
    # Given the SAM template of channels
    template = _template(run, "channels")
    resources = template["Resources"]

    # Then SES's rule invokes the mail function, and its parameter was kept
    rule = resources["MailReceiptRule"]
    assert rule["Type"] == "AWS::SES::ReceiptRule"
    lambda_action = rule["Properties"]["Rule"]["Actions"][1]["LambdaAction"]
    assert lambda_action["FunctionArn"] == {"Fn::GetAtt": ["ReceiveMail", "Arn"]}
    assert resources["ReceiveMail"]["Type"] == "AWS::Serverless::Function"
    assert resources["OutboxStreamMapping"]["Properties"]["FunctionName"] == {"Ref": "RelayOutbox"}
    assert "MailDomain" in template["Parameters"]
    # And SES's delivery reports reach their function through the topic and a queue
    mapping = resources["ReportQueueMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "ReceiveDeliveryReports"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ReportQueue", "Arn"]}
    assert resources["ReportSubscription"]["Properties"]["Protocol"] == "sqs"
    # And the functions read the reply token secret from SSM, by the name they are given
    environment = resources["ReceiveMail"]["Properties"]["Environment"]["Variables"]
    assert environment["HELPDESK_REPLY_TOKEN_SECRET_REF"] == {
        "Fn::Sub": "/helpdesk/${Stage}/reply-token-secret"
    }


RESOLVE_HANDLERS = """
import importlib, json, os, sys
bundle = os.getcwd()
for handler in json.loads(sys.argv[1]):
    module, _, attribute = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attribute)), handler
leaked = sorted(
    name for name, module in sys.modules.items()
    if name.split(".")[0] in ("services", "shared")
    and not (getattr(module, "__file__", None) or bundle).startswith(bundle)
)
assert not leaked, f"imported from outside the bundle: {leaked}"
"""


@pytest.mark.parametrize("stack", SERVICES, ids=lambda stack: stack.service)
def test_every_service_packages_or_is_skipped(
    run: Run, stack: ServiceStack, tmp_path: Path
) -> None:
    # Given a service, packaged with the others
    result = run.results[stack.service]

    # Then an app without routes or functions is skipped, since chalice would package it into a
    # template with no resources and no bundle, which CloudFormation refuses
    if not has_functions(importlib.import_module(stack.app_module).app):
        assert isinstance(result, Skipped)
        assert result.reason == f"{stack.app_module} declares no routes or functions"
        assert not (run.out / stack.service).exists()
        return
    # Otherwise it has a bundle and a template whose every reference resolves
    assert isinstance(result, Packaged)
    template = _template(run, stack.service)
    assert not _dangling(template)
    # And in the bundle alone, every function's handler is found as Lambda looks it up
    with zipfile.ZipFile(result.sam_dir / "deployment.zip") as bundle:
        bundle.extractall(tmp_path)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment["HELPDESK_STAGE"] = STAGE
    handlers = sorted(set(_functions(template).values()))
    resolved = subprocess.run(
        [sys.executable, "-c", RESOLVE_HANDLERS, json.dumps(handlers)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert resolved.returncode == 0, resolved.stderr


@pytest.mark.skipif(
    os.environ.get("HELPDESK_PACKAGE_WITH_DEPS") != "1",
    reason="downloads the dependency layer from PyPI: set HELPDESK_PACKAGE_WITH_DEPS=1",
)
def test_functions_load_from_bundle_and_layer_alone(tmp_path: Path) -> None:
    # Given tickets packaged with its dependency layer, unpacked as Lambda mounts them
    (result,) = package(tmp_path / "out", ["tickets"])
    assert isinstance(result, Packaged)
    task, layer = tmp_path / "task", tmp_path / "opt"
    for archive, folder in (("deployment.zip", task), ("layer-deployment.zip", layer)):
        with zipfile.ZipFile(result.sam_dir / archive) as bundle:
            bundle.extractall(folder)
    python = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site_packages = layer / "python" / "lib" / python / "site-packages"
    handlers = sorted(set(_functions(_template_at(result.sam_dir)).values()))

    # When every handler is loaded without this environment's site-packages (-S)
    loaded = subprocess.run(
        [sys.executable, "-S", "-c", RESOLVE_HANDLERS, json.dumps(handlers)],
        cwd=tmp_path,  # holds both, where the script checks the modules come from
        env={
            "PYTHONPATH": f"{task}{os.pathsep}{site_packages}",
            "HELPDESK_STAGE": STAGE,
            "AWS_DEFAULT_REGION": Settings().region,
        },
        capture_output=True,
        text=True,
        check=False,
    )

    # Then they all load
    assert loaded.returncode == 0, loaded.stderr


def test_cli_packages_the_services_named_and_refuses_unknown_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = [str(tmp_path), "--no-deps"]
    # When the command packages one service, and then a service that does not exist
    status = main([*arguments, "--service", "contacts"])
    printed = capsys.readouterr().out
    unknown = main([*arguments, "--service", "nope"])
    # Then the one it packaged is printed with where its template is; the unknown one is an error
    assert status == 0
    assert printed.startswith(f"contacts: {tmp_path}")
    assert unknown == 1
    assert "unknown services: ['nope']" in capsys.readouterr().err


def test_layer_requirements_are_the_runtime_dependencies() -> None:
    # Given the runtime dependencies declared in pyproject
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]

    # Then the contacts layer lists them all but chalice, whose runtime chalice copies into each
    # bundle, and those only other services import
    others_only = tuple(name for name, services in ONLY_FOR.items() if "contacts" not in services)
    assert {"nh3", "tnefparse", "snowballstemmer"} <= set(others_only)
    assert runtime_requirements("contacts") == [
        d for d in declared if not d.startswith(("chalice", *others_only))
    ]
    # And a packaging with dependencies puts them in chalice's automatic layer
    config = chalice_config(service("tickets"), template_settings(), with_deps=True)
    assert config["stages"][CHALICE_STAGE]["automatic_layer"] is True


def test_an_app_that_declares_nothing_is_skipped_and_its_old_package_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a service whose app declares no routes or functions yet, packaged once before
    empty = types.ModuleType("services.empty.app")
    empty.app = chalice.Chalice(app_name="helpdesk-empty")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "services.empty.app", empty)
    stale = tmp_path / "empty" / "sam"
    stale.mkdir(parents=True)
    # When it is packaged
    result = package_service(ServiceStack("empty"), Settings(stage=STAGE), tmp_path)
    # Then it is skipped, saying why, and no stale package is left to deploy
    assert result == Skipped("empty", "services.empty.app declares no routes or functions")
    assert not (tmp_path / "empty").exists()
