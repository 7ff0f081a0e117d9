"""What AWS would refuse or an operator would miss, read off the templates a deployment gets.

The emulator creates no authorizer, user pool, SES identity, alarm or CloudFront distribution and
checks no IAM, so these are asserted on the rendered templates themselves: the shared stack, each
service's data stack and packaged stack, the console's, and the edge.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.console_stack import console_stack
from infra.edge import edge_stack
from infra.package import Packaged
from infra.parameters import operator_settings, parameter_name, substitute, template_settings
from infra.service_stack import app_of, function_name, function_names
from infra.stacks import (
    DEAD_LETTER_RETENTION_SECONDS,
    LAMBDA_TIMEOUT_SECONDS,
    QUEUE_VISIBILITY_SECONDS,
    SERVICES,
    ServiceStack,
)
from infra.templates import service_data, shared_stack
from services.sla.handlers.sweep import SWEEP_COMPLETED_METRIC
from services.tickets.handlers.automations import AUTOMATIONS_COMPLETED_METRIC
from shared.api import Api
from tests.infra.conftest import MACHINE_REGION, MACHINE_STAGE, Run

pytestmark = pytest.mark.infra
NAMES = template_settings()
# Actions that name no resource in IAM: everything else must say which.
RESOURCELESS_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")


def _packaged(run: Run) -> dict[str, dict[str, Any]]:
    return {
        service: json.loads((result.sam_dir / "sam.json").read_text())
        for service, result in run.results.items()
        if isinstance(result, Packaged)
    }


def _all_templates(run: Run, folder: Path) -> dict[str, Path]:
    """Every template an operator deploys, written out as the deployment renders it."""
    rendered = {
        "shared": substitute(shared_stack(NAMES)),
        "console": console_stack(NAMES),
        "edge": edge_stack(NAMES),
        **{f"{s.service}-data": substitute(service_data(s, NAMES)) for s in SERVICES},
    }
    paths = {}
    for name, template in rendered.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(template))
    for service, result in run.results.items():
        if isinstance(result, Packaged):
            paths[service] = result.sam_dir / "sam.json"
    return paths


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def _public_routes(stack: ServiceStack) -> set[tuple[str, str]]:
    """The routes the code declares public (no caller): a CRM's signed webhook, a client's rating
    page, say; in any of the service's route modules."""
    handlers = importlib.import_module(f"services.{stack.service}.handlers")
    public = set()
    for info in pkgutil.iter_modules(handlers.__path__):
        api = getattr(importlib.import_module(f"{handlers.__name__}.{info.name}"), "api", None)
        if isinstance(api, Api):
            public |= {(o.path, o.method.lower()) for o in api.operations if not o.authenticated}
    return public


def _statements(template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for role in _of_type(template, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            yield from policy["PolicyDocument"]["Statement"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    """A resource as written: a plain ARN or the text of its Fn::Sub."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return value if isinstance(value, str) else json.dumps(value)


def test_every_route_but_the_declared_public_ones_needs_a_cognito_token(run: Run) -> None:
    for service, template in _packaged(run).items():
        stack = next(s for s in SERVICES if s.service == service)
        definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
        # Then the authorizer is the user pool the shared stack exports
        [scheme] = definition["securityDefinitions"].values()
        authorizer = scheme["x-amazon-apigateway-authorizer"]
        assert authorizer["type"] == "cognito_user_pools"
        assert authorizer["providerARNs"] == [
            {"Fn::ImportValue": {"Fn::Sub": "helpdesk-${Stage}-UserPoolArn"}}
        ]
        # And every operation but the public ones and the preflights carries it
        unguarded = {
            (path, method)
            for path, operations in definition["paths"].items()
            for method, operation in operations.items()
            if method != "options" and not operation.get("security")
        }
        assert unguarded == _public_routes(stack), service
        # And preflights are answered by API Gateway itself, for the console's origin only
        for operations in definition["paths"].values():
            preflight = operations["options"]["x-amazon-apigateway-integration"]
            assert preflight["type"] == "mock"
            origin = preflight["responses"]["default"]["responseParameters"][
                "method.response.header.Access-Control-Allow-Origin"
            ]
            assert origin["Fn::If"][0] == "HasConsoleOrigin"


def test_the_api_refuses_with_problems_and_is_throttled_by_parameters(run: Run) -> None:
    for service, template in _packaged(run).items():
        api = template["Resources"]["RestAPI"]["Properties"]
        responses = api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
        assert {"UNAUTHORIZED", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
        assert all("application/problem+json" in r["responseTemplates"] for r in responses.values())
        [throttle] = api["MethodSettings"]
        assert throttle["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}, service
        assert throttle["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}, service
        assert api["Name"] == {"Fn::Sub": f"helpdesk-${{Stage}}-{service.replace('_', '-')}"}


def test_every_template_passes_cfn_lint_without_a_warning(run: Run, tmp_path: Path) -> None:
    paths = _all_templates(run, tmp_path)
    linted = subprocess.run(
        [CFN_LINT, "--format", "parseable", *map(str, paths.values())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert linted.stdout.strip() == ""


def test_nothing_of_the_packaging_machine_is_in_a_template(run: Run, tmp_path: Path) -> None:
    # Given packaging ran where HELPDESK_STAGE, AWS_DEFAULT_REGION and a setting were set
    for name, path in _all_templates(run, tmp_path).items():
        text = path.read_text()
        # Then no template names them (nor the region chalice was told to package in)
        for machine in (MACHINE_STAGE, MACHINE_REGION, "MACHINE", "us-east-1", "eu-west-1"):
            assert machine not in text, (name, machine)


def test_every_operator_setting_is_a_parameter_that_reaches_every_function(run: Run) -> None:
    for template in _packaged(run).values():
        parameters = template["Parameters"]
        assert {"Stage", "LogRetentionDays", "ApiRateLimit", "ApiBurstLimit"} <= set(parameters)
        for field, info in operator_settings().items():
            parameter = parameters[parameter_name(field)]
            assert "Default" in parameter
            assert parameter["Description"] == info.description
        for function in _functions(template).values():
            variables = function["Properties"]["Environment"]["Variables"]
            for field in operator_settings():
                assert variables[f"HELPDESK_{field.upper()}"] == {"Ref": parameter_name(field)}
            assert variables["HELPDESK_STAGE"] == {"Ref": "Stage"}


def test_each_function_has_a_kept_log_group_and_writes_only_there(run: Run) -> None:
    for service, template in _packaged(run).items():
        stack = next(s for s in SERVICES if s.service == service)
        resources = template["Resources"]
        names = []
        for function in _functions(template).values():
            properties = function["Properties"]
            name = properties["FunctionName"]["Fn::Sub"]
            names.append(name)
            group = resources[properties["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
            assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}
            assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
            role = resources[properties["Role"]["Fn::GetAtt"][0]]
            statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            logs = [
                s for s in statements if any(a.startswith("logs:") for a in _listed(s["Action"]))
            ]
            assert [_text(r) for s in logs for r in _listed(s["Resource"])] == [
                f"arn:aws:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/{name}:*"
            ]
            assert not any("logs:CreateLogGroup" in _listed(s["Action"]) for s in logs)
        # And they are named for the functions the app declares
        assert sorted(names) == sorted(
            function_name(stack, NAMES, function) for function in function_names(app_of(stack))
        )


def test_no_data_action_is_granted_on_every_resource(run: Run) -> None:
    for service, template in _packaged(run).items():
        for statement in _statements(template):
            actions = set(_listed(statement["Action"]))
            if actions <= RESOURCELESS_ACTIONS:
                continue
            for resource in _listed(statement["Resource"]):
                text = _text(resource)
                assert text != "*", (service, statement)
                assert ":*:" not in text, (service, statement)


def test_mail_is_sent_only_from_the_support_domain_through_the_configuration_set(
    run: Run,
) -> None:
    template = _packaged(run)["channels"]
    [send] = [s for s in _statements(template) if "ses:SendRawEmail" in _listed(s["Action"])][:1]
    assert sorted(_text(r) for r in send["Resource"]) == [
        "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/helpdesk-${Stage}-mail",
        "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}",
    ]


def test_the_agents_routes_may_manage_only_the_helpdesk_user_pool(run: Run) -> None:
    template = _packaged(run)["tickets"]
    [grant] = [
        s
        for s in _statements(template)
        if any(a.startswith("cognito-idp:") for a in _listed(s["Action"]))
    ][:1]
    assert grant["Resource"]["Fn::Sub"][1] == {
        "UserPoolId": {"Fn::ImportValue": {"Fn::Sub": "helpdesk-${Stage}-UserPoolId"}}
    }
    variables = _functions(template)["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["HELPDESK_USER_POOL_ID"] == {
        "Fn::ImportValue": {"Fn::Sub": "helpdesk-${Stage}-UserPoolId"}
    }


def test_queues_outlast_their_consumer_and_dead_letters_wait_two_weeks(run: Run) -> None:
    assert QUEUE_VISIBILITY_SECONDS >= 6 * LAMBDA_TIMEOUT_SECONDS
    for service, template in _packaged(run).items():
        for name, queue in _of_type(template, "AWS::SQS::Queue").items():
            properties = queue["Properties"]
            if name.endswith("DeadLetters"):
                assert properties["MessageRetentionPeriod"] == DEAD_LETTER_RETENTION_SECONDS
            else:
                assert properties["VisibilityTimeout"] >= 6 * LAMBDA_TIMEOUT_SECONDS, service
        # And only the service's own rule (or topic) may send to a queue it is fed by
        for policy in _of_type(template, "AWS::SQS::QueuePolicy").values():
            [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
            assert "aws:SourceArn" in statement["Condition"]["ArnEquals"], service


def test_alarms_cover_functions_api_streams_dead_letters_sweeps_and_mail(run: Run) -> None:
    packaged = _packaged(run)
    for template in packaged.values():
        alarms = _of_type(template, "AWS::CloudWatch::Alarm")
        metrics = {(a["Properties"]["MetricName"], _dimension(a)) for a in alarms.values()}
        for logical_id in _functions(template):
            assert ("Errors", json.dumps({"Ref": logical_id})) in metrics
            assert ("Throttles", json.dumps({"Ref": logical_id})) in metrics
        assert any(metric == "5XXError" for metric, _ in metrics)
        if "RelayOutbox" in template["Resources"]:
            assert ("IteratorAge", json.dumps({"Ref": "RelayOutbox"})) in metrics
        for alarm in alarms.values():
            assert alarm["Properties"]["AlarmActions"] == [
                {"Fn::ImportValue": {"Fn::Sub": "helpdesk-${Stage}-AlertsTopicArn"}}
            ]
    sweep = _of_type(packaged["sla"], "AWS::CloudWatch::Alarm")["SweepSlaHeartbeatAlarm"]
    assert sweep["Properties"]["MetricName"] == SWEEP_COMPLETED_METRIC  # what the sweep publishes
    assert sweep["Properties"]["ComparisonOperator"] == "LessThanThreshold"
    assert sweep["Properties"]["TreatMissingData"] == "breaching"
    automations = _of_type(packaged["tickets"], "AWS::CloudWatch::Alarm")
    heartbeat = automations["RunAutomationsHeartbeatAlarm"]["Properties"]
    assert heartbeat["MetricName"] == AUTOMATIONS_COMPLETED_METRIC
    shared = shared_stack(NAMES)
    rates = {
        a["Properties"]["MetricName"]: a["Properties"]["Threshold"]
        for a in _of_type(shared, "AWS::CloudWatch::Alarm").values()
    }
    assert rates == {"Reputation.BounceRate": 0.05, "Reputation.ComplaintRate": 0.001}
    assert _of_type(edge_stack(NAMES), "AWS::CloudWatch::Dashboard")


def _dimension(alarm: dict[str, Any]) -> str:
    dimensions = alarm["Properties"].get("Dimensions") or [{"Value": None}]
    return json.dumps(dimensions[0]["Value"])


def test_agents_sign_in_with_srp_and_cannot_change_their_own_email() -> None:
    resources = shared_stack(NAMES)["Resources"]
    client = resources["ConsoleClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert "email" not in client["WriteAttributes"]
    assert "email_verified" in client["ReadAttributes"]  # the claim identity relies on
    pool = resources["UserPool"]["Properties"]
    assert pool["UserAttributeUpdateSettings"] == {
        "AttributesRequireVerificationBeforeUpdate": ["email"]
    }
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert resources["AdminGroup"]["Properties"]["GroupName"] == "admin"


def test_the_support_domain_is_an_identity_with_dkim_and_its_records_are_outputs() -> None:
    template = shared_stack(NAMES)
    identity = template["Resources"]["MailIdentity"]["Properties"]
    assert identity["EmailIdentity"] == {"Ref": "MailDomain"}
    assert "DkimSigningAttributes" in identity
    outputs = template["Outputs"]
    assert {"MailMxRecord", "MailDkimRecord1", "MailDkimRecord2", "MailDkimRecord3"} <= set(outputs)


def test_bucket_names_carry_the_account_and_region() -> None:
    buckets = [
        *_of_type(substitute(shared_stack(NAMES)), "AWS::S3::Bucket").values(),
        *_of_type(console_stack(NAMES), "AWS::S3::Bucket").values(),
    ]
    for bucket in buckets:
        name = bucket["Properties"]["BucketName"]["Fn::Sub"]
        assert name.endswith("-${AWS::AccountId}-${AWS::Region}")


def test_tables_are_kept_and_every_import_is_exported(run: Run, tmp_path: Path) -> None:
    templates = {n: json.loads(p.read_text()) for n, p in _all_templates(run, tmp_path).items()}
    for stack in SERVICES:
        for table in _of_type(templates[f"{stack.service}-data"], "AWS::DynamoDB::Table").values():
            assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    for template in templates.values():
        assert not _of_type(template, "AWS::DynamoDB::Table") or "Transform" not in template
    exported = {
        _text(output["Export"]["Name"])
        for template in templates.values()
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    }
    imported = {_text(name) for template in templates.values() for name in _imports(template)}
    assert imported
    assert imported <= exported, imported - exported
    assert not [name for name in exported if not fnmatch.fnmatch(name, "helpdesk-${Stage}-*")]


def _imports(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                yield value
            else:
                yield from _imports(value)
    elif isinstance(node, list):
        for item in node:
            yield from _imports(item)
