"""`make deploy` and `make destroy` against an emulated account, as an operator runs them.

The emulator creates what it can of every stack (tables, queues, rules, functions from the
uploaded code, log groups, the console's bucket, the dashboard); what it cannot (the REST API
from its definition, Cognito, SES, alarms, CloudFront) is left out by `infra.emulator` and
asserted on the templates in test_stacks.py and test_console_stack.py.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from infra.deploy import Deployment, main
from infra.stacks import SERVICES

pytestmark = pytest.mark.infra
STAGE = "ci"
SERVICE_STACKS = [f"helpdesk-{STAGE}-{s.service.replace('_', '-')}" for s in SERVICES]
DATA_STACKS = [f"{name}-data" for name in SERVICE_STACKS]
SHARED, CONSOLE, EDGE = (f"helpdesk-{STAGE}-{part}" for part in ("shared", "console", "edge"))
ALL_STACKS = [SHARED, CONSOLE, *DATA_STACKS, *SERVICE_STACKS, EDGE]
# The emulator's account and region: the console's bucket carries them.
CONSOLE_BUCKET = f"helpdesk-{STAGE}-console-123456789012-eu-west-1"


def _statuses() -> dict[str, str]:
    cloudformation = boto3.client("cloudformation")
    return {
        stack["StackName"]: stack["StackStatus"]
        for page in cloudformation.get_paginator("describe_stacks").paginate()
        for stack in page["Stacks"]
    }


def _deploy(tmp_path: Path, *services: str) -> list[str]:
    said: list[str] = []
    deployment = Deployment(
        STAGE, emulator=True, with_deps=False, log=said.append, build=tmp_path / "build"
    )
    deployment.deploy(services)
    return said


def test_a_first_deploy_creates_every_stack_and_a_second_changes_nothing(
    account: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an operator deploys a new stage on an empty account
    build = ["--build", str(tmp_path / "build")]
    deployed = main(["deploy", "--stage", STAGE, "--emulator", "--no-deps", *build])

    # Then every stack is complete, in order, and what they must set up in DNS is printed
    assert deployed == 0
    assert _statuses() == dict.fromkeys(ALL_STACKS, "CREATE_COMPLETE")
    printed = capsys.readouterr().out
    created = [line.split(":")[0] for line in printed.splitlines() if line.endswith(": created")]
    assert created == _ordered()
    assert "MailMxRecord: support.example.org MX 10 inbound-smtp.eu-west-1.amazonaws.com" in printed
    # And each function got its code from the artifacts bucket, and the operator's settings
    function = boto3.client("lambda").get_function_configuration(
        FunctionName=f"helpdesk-{STAGE}-tickets-api"
    )
    assert function["Environment"]["Variables"]["HELPDESK_TICKET_PREFIX"] == "SUP"
    assert function["Environment"]["Variables"]["HELPDESK_STAGE"] == STAGE

    # When the operator deploys again with nothing changed
    again = _deploy(tmp_path)

    # Then no stack changes, and no file of the console is uploaded again
    assert again == [f"{name}: unchanged" for name in _ordered()] + [f"{CONSOLE_BUCKET}: unchanged"]


def _ordered() -> list[str]:
    pairs = [n for pair in zip(DATA_STACKS, SERVICE_STACKS, strict=True) for n in pair]
    return [SHARED, CONSOLE, *pairs, EDGE]


def test_a_removed_service_comes_back_over_its_kept_tables(account: str, tmp_path: Path) -> None:
    # Given a deployed stage whose tickets table holds a ticket
    _deploy(tmp_path)
    table = f"helpdesk-{STAGE}-tickets"
    item = {"pk": {"S": "TICKET#kept"}, "sk": {"S": "#TICKET"}}
    boto3.client("dynamodb").put_item(TableName=table, Item=item)

    # When the operator removes the tickets service
    assert main(["destroy", "--stage", STAGE, "--service", "tickets", "--emulator"]) == 0

    # Then its stack is gone and its table, with the ticket, is kept
    statuses = _statuses()
    assert f"helpdesk-{STAGE}-tickets" not in statuses
    assert statuses[f"helpdesk-{STAGE}-tickets-data"] == "CREATE_COMPLETE"
    assert boto3.client("dynamodb").get_item(TableName=table, Key=item).get("Item") == item

    # When they deploy it again
    said = _deploy(tmp_path, "tickets")

    # Then it is created over the kept table, and the ticket is still there
    assert said == [
        f"helpdesk-{STAGE}-tickets-data: unchanged",
        f"helpdesk-{STAGE}-tickets: created",
    ]
    assert _statuses()[f"helpdesk-{STAGE}-tickets"] == "CREATE_COMPLETE"
    assert boto3.client("dynamodb").get_item(TableName=table, Key=item).get("Item") == item


def test_a_first_deploy_without_the_mail_domain_says_what_to_set(
    account: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("HELPDESK_MAIL_DOMAIN")
    build = ["--build", str(tmp_path / "build")]
    assert main(["deploy", "--stage", STAGE, "--emulator", "--no-deps", *build]) == 1
    assert "set HELPDESK_MAIL_DOMAIN" in capsys.readouterr().err
    assert not _statuses()
