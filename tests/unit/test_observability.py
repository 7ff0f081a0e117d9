"""Every function of every service runs inside the logging and metrics middleware, in Lambda too.

Lambda imports, in a fresh process, the module its handler string names. A function registered on
a blueprint has its handler string in the blueprint's module, whose import alone reaches neither
the app nor its middleware. So each function is checked in a fresh interpreter that imports only
what Lambda would, with what the function does swapped for a probe that logs and counts once.
The SLA sweep's success metric, which an alarm watches, is checked here too.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from chalice import Chalice
from chalice.app import LambdaFunction, ScheduledEventConfig
from pynamodb.exceptions import PynamoDBException

from infra.service_stack import API_HANDLER
from infra.stacks import SERVICES, ServiceStack
from local_stack.system import LocalSystem
from shared.aws import client
from shared.observability import METRICS_NAMESPACE
from shared.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
PROBE_METRIC = "ProbeInvoked"
SCHEDULED_EVENT = {
    "version": "0",
    "id": "b8f0c3a4-0000-4000-8000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2025-01-01T00:00:00Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {},
}

# Runs in a fresh interpreter: imports the handler's module as Lambda does, replaces what each
# function does with a probe, invokes it, and reports the JSON lines it wrote meanwhile.
PROBE = """
import importlib, io, json, logging, sys, types
from aws_lambda_powertools import Metrics
from chalice.app import Chalice, EventSourceHandler

service, module_name, checks = json.loads(sys.argv[1])
output = io.StringIO()
sys.stdout = output  # before the services load: powertools' log handler keeps the stream it finds


def probe():
    logging.getLogger("shared.probe").warning("probe")
    logging.getLogger(f"services.{service}.probe").warning("probe")
    Metrics().add_metric(name="ProbeInvoked", unit="Count", value=1)


def probe_view(**path_parameters):
    probe()
    return {}


module = importlib.import_module(module_name)
reports = {}
for check in checks:
    handler = getattr(module, check["attribute"])
    if check["path"] is not None:
        assert isinstance(handler, Chalice), check
        handler.routes[check["path"]][check["method"]].view_function = probe_view
    else:
        assert isinstance(handler, EventSourceHandler), check
        handler.func = lambda event: probe()
    context = types.SimpleNamespace(
        function_name=check["function_name"],
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:probe",
        aws_request_id=check["request_id"],
    )
    start = output.tell()
    handler(check["event"], context)
    lines = output.getvalue()[start:].splitlines()
    reports[check["label"]] = [json.loads(line) for line in lines if line.startswith("{")]
sys.__stdout__.write(json.dumps(reports))
"""


def _route_event(path: str, method: str, view_args: list[str]) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": dict.fromkeys(view_args, "probe"),
        "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "requestId": "probe"},
        "body": None,
        "isBase64Encoded": False,
    }


def _checks(stack: ServiceStack) -> dict[str, list[dict[str, Any]]]:
    """What to invoke, grouped by the module Lambda imports for it; fails on a kind of function
    this test does not know how to invoke, so a new kind cannot slip by unchecked."""
    app: Chalice = importlib.import_module(stack.app_module).app
    by_module: dict[str, list[dict[str, Any]]] = defaultdict(list)
    checked: set[str] = set()
    # The API's entry module serves every route through its app object
    api_module, _, api_attribute = API_HANDLER.format(service=stack.service).rpartition(".")
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            by_module[api_module].append(
                {
                    "label": f"{method} {path}",
                    "attribute": api_attribute,
                    "path": path,
                    "method": method,
                    "event": _route_event(path, method, entry.view_args),
                    "function_name": f"{stack.service}-api",
                }
            )
            checked.add(entry.view_name)
    for function in [*app.pure_lambda_functions, *app.event_sources]:
        kind = type(function)
        assert kind in (LambdaFunction, ScheduledEventConfig), f"no event for {function.name}"
        module, _, attribute = function.handler_string.rpartition(".")
        by_module[module].append(
            {
                "label": function.name,
                "attribute": attribute,
                "path": None,
                "event": SCHEDULED_EVENT if kind is ScheduledEventConfig else {},
                "function_name": f"{stack.service}-{function.name}",
            }
        )
        checked.add(function.name)
    assert checked == set(app.handler_map), "every function of the app is checked"
    for number, check in enumerate(c for checks in by_module.values() for c in checks):
        check["request_id"] = f"probe-{number}"  # tells apart the context of each invocation
    return by_module


def _run_in_fresh_process(
    stack: ServiceStack, module: str, checks: list[dict[str, Any]], shim_dir: Path
) -> dict[str, list[dict[str, Any]]]:
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "POWERTOOLS_METRICS_DISABLED": "false",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([stack.service, module, checks])],
        cwd=shim_dir,  # a bare folder, as the root of the bundle
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _shortcomings(service: str, check: dict[str, Any], lines: list[dict[str, Any]]) -> list[str]:
    """What the middleware failed to do for one invocation: nothing when it ran."""
    logged = {line["name"]: line for line in lines if line.get("message") == "probe"}
    missing = []
    for logger_name in ("shared.probe", f"services.{service}.probe"):
        record = logged.get(logger_name, {})
        context = (record.get("function_name"), record.get("function_request_id"))
        if context != (check["function_name"], check["request_id"]):
            missing.append(f"{logger_name} logged without the Lambda context")
    flushed = [
        line
        for line in lines
        if PROBE_METRIC in line
        and line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == METRICS_NAMESPACE
        and line.get("service") == service
    ]
    if not flushed:
        missing.append("metrics not flushed")
    return missing


@pytest.mark.parametrize("stack", SERVICES, ids=lambda stack: stack.service)
def test_every_function_runs_with_logging_context_and_metrics(
    stack: ServiceStack, tmp_path: Path
) -> None:
    # Given the service's functions, each resolved in a fresh process from its handler string,
    # in the function's own entry module
    checks = _checks(stack)

    # When each is invoked with a minimal event of its kind and a Lambda context
    bare = {}
    for module, module_checks in checks.items():
        reports = _run_in_fresh_process(stack, module, module_checks, tmp_path)
        for check in module_checks:
            missing = _shortcomings(stack.service, check, reports[check["label"]])
            if missing:
                bare[f"{check['label']} ({module})"] = missing

    # Then every one logged with the context injected and flushed its metrics
    assert not bare, json.dumps(bare, indent=2)


# --- the SLA sweep counts each success, for the alarm on missing sweeps ---------------------------


EmittedMetrics = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def emitted_metrics(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> EmittedMetrics:
    """The metrics the functions flush from now on, as CloudWatch would receive them (EMF)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    Metrics().clear_metrics()  # metrics left unflushed by earlier tests, where they are disabled
    capsys.readouterr()

    def emitted() -> list[dict[str, Any]]:
        lines = capsys.readouterr().out.splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"_aws"')]

    return emitted


@pytest.mark.service
def test_a_successful_sweep_counts_one_completed_sweep(
    system: LocalSystem, emitted_metrics: EmittedMetrics
) -> None:
    # When the scheduled sweep runs and succeeds
    system.invoke("sla", "sweep_sla", SCHEDULED_EVENT)

    # Then it counted one completed sweep, in the SLA service's metrics
    [emf] = [m for m in emitted_metrics() if "SlaSweepCompleted" in m]
    assert emf["SlaSweepCompleted"] == [1.0]
    [declaration] = emf["_aws"]["CloudWatchMetrics"]
    assert declaration["Namespace"] == METRICS_NAMESPACE
    assert declaration["Dimensions"] == [["service"]]
    assert emf["service"] == "sla"
    assert {"Name": "SlaSweepCompleted", "Unit": "Count"} in declaration["Metrics"]


@pytest.mark.service
def test_a_failed_sweep_counts_nothing(
    system: LocalSystem, emitted_metrics: EmittedMetrics
) -> None:
    # Given the SLA table is gone
    client("dynamodb").delete_table(TableName=get_settings().table_name("sla"))

    # When the scheduled sweep runs, it fails
    with pytest.raises(PynamoDBException):
        system.invoke("sla", "sweep_sla", SCHEDULED_EVENT)

    # And it counted no completed sweep
    assert not [m for m in emitted_metrics() if "SlaSweepCompleted" in m]
