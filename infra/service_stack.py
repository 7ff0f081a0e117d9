"""The stack an operator deploys for a service: the SAM template `chalice package` writes, finished.

Chalice renders the functions, their roles and the REST API from the app. This adds what running
it on an account takes: the operator's parameters and the settings they carry to every function,
names per stage, a log group with retention per function (and logs scoped to it), the API's
authorizer source, CORS and throttling, alarms to the alerts topic, and exports for the edge.
Everything is rendered from `template_settings()`, so no value of the packaging machine ends up
in it.
"""

from __future__ import annotations

import importlib
from typing import Any

from chalice.app import Chalice
from chalice.utils import to_cfn_resource_name

from infra.api import finish_definition
from infra.parameters import (
    environment_variable,
    service_parameters,
    settings_environment,
    substitute,
)
from infra.stacks import ServiceStack
from infra.templates import Template, alarm, import_value
from shared.settings import Settings

API_STAGE = "api"  # the REST API's stage name chalice gives it; the stage is in the API's name
API_FUNCTION = "api"
API_LOGICAL_ID = "APIHandler"  # chalice's name for the function behind the REST API
# Chalice's handler for the API is the whole app; ours is the app of the API's entry module, which
# imports the routes and none of the other functions.
API_HANDLER = "services.{service}.entry.api.app"
CONSOLE_ORIGIN_SET = "HasConsoleOrigin"
STREAM_AGE_ALARM_MS = 5 * 60 * 1000  # events waiting this long in the outbox: the relay is stuck


def app_of(stack: ServiceStack) -> Chalice:
    return importlib.import_module(stack.app_module).app  # type: ignore[no-any-return]


def function_names(app: Chalice) -> list[str]:
    """The name of every function the app deploys: `api` serves all its routes."""
    views = {entry.view_name for methods in app.routes.values() for entry in methods.values()}
    return ([API_FUNCTION] if app.routes else []) + sorted(set(app.handler_map) - views)


def lambda_handlers(stack: ServiceStack) -> dict[str, str]:
    """The handler Lambda runs for each function: in the entry module of that function alone (a
    blueprint's functions are named in its module)."""
    app = app_of(stack)
    handlers = {API_FUNCTION: API_HANDLER.format(service=stack.service)} if app.routes else {}
    for function in app.pure_lambda_functions:
        handlers[function.name] = function.handler_string
    for source in app.event_sources:
        handlers[source.name] = source.handler_string
    return handlers


def function_name(stack: ServiceStack, settings: Settings, function: str) -> str:
    """`helpdesk-${Stage}-tickets-api`, `helpdesk-${Stage}-channels-receive-mail`."""
    return "-".join(
        (settings.resource_prefix, settings.stage, _dashed(stack.service), _dashed(function))
    )


def _logical_ids(app: Chalice) -> dict[str, str]:
    """Chalice's logical id of each function in its template, and the function's name."""
    return {
        (API_LOGICAL_ID if name == API_FUNCTION else to_cfn_resource_name(name)): name
        for name in function_names(app)
    }


def api_name(stack: ServiceStack, settings: Settings) -> str:
    return f"{settings.resource_prefix}-{settings.stage}-{_dashed(stack.service)}"


def api_export(stack: ServiceStack, settings: Settings) -> str:
    """The export the edge stack reads the API's address from."""
    return f"{api_name(stack, settings)}-ApiDomain"


def _dashed(name: str) -> str:
    return name.replace("_", "-")


def finish(template: Template, stack: ServiceStack, settings: Settings) -> Template:
    """Chalice's SAM template of the service, ready for an account."""
    resources: dict[str, Any] = template["Resources"]
    alerts = import_value(settings, "AlertsTopicArn")
    template["Parameters"] = {**template.get("Parameters", {}), **service_parameters()}
    added: dict[str, Any] = {}
    functions = _logical_ids(app_of(stack))
    handlers = lambda_handlers(stack)
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        handler = functions[logical_id]
        name = function_name(stack, settings, handler)
        log_group = f"{logical_id}LogGroup"
        properties["FunctionName"] = name
        properties["Handler"] = handlers[handler]
        properties["Environment"] = {"Variables": _environment(stack, settings, properties)}
        properties["LoggingConfig"] = {"LogGroup": {"Ref": log_group}}
        added[log_group] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": f"/aws/lambda/{name}",
                "RetentionInDays": {"Ref": "LogRetentionDays"},
            },
        }
        _scope_logs(resources[properties["Role"]["Fn::GetAtt"][0]], name)
        for metric, what in (("Errors", "failed"), ("Throttles", "was throttled")):
            added |= alarm(
                f"{logical_id}{metric}Alarm",
                f"{name} {what} in the last 5 minutes: see its log group",
                _function_metric(logical_id, metric),
                threshold=0,
                alerts=alerts,
            )
        if stack.outbox and handler == "relay_outbox":
            added |= alarm(
                f"{logical_id}IteratorAgeAlarm",
                f"Events wait more than 5 minutes in {stack.service}'s outbox stream: the relay "
                "is failing or behind",
                _function_metric(logical_id, "IteratorAge"),
                threshold=STREAM_AGE_ALARM_MS,
                statistic="Maximum",
                alerts=alerts,
            )
        if handler == stack.heartbeat and stack.heartbeat_metric:
            added |= alarm(
                f"{logical_id}HeartbeatAlarm",
                f"No successful {handler} for 5 minutes: its scheduled work is not being done",
                {
                    "Namespace": "Helpdesk",
                    "MetricName": stack.heartbeat_metric,
                    "Dimensions": [{"Name": "service", "Value": stack.service}],
                },
                threshold=1,
                comparison="LessThanThreshold",
                missing_data="breaching",
                alerts=alerts,
            )
    api = resources.get("RestAPI")
    if api is not None:
        added |= _finish_api(api, stack, settings, alerts)
        template["Conditions"] = {
            CONSOLE_ORIGIN_SET: {"Fn::Not": [{"Fn::Equals": [{"Ref": "ConsoleOrigin"}, ""]}]}
        }
        template.setdefault("Outputs", {})["ApiDomain"] = {
            "Description": "Where the edge sends this service's paths",
            "Value": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
            "Export": {"Name": api_export(stack, settings)},
        }
    resources.update(added)
    return substitute(  # type: ignore[no-any-return]
        _console_origin_when_set(template),
        {"UserPoolId": import_value(settings, "UserPoolId")},
    )


def _environment(
    stack: ServiceStack, settings: Settings, properties: dict[str, Any]
) -> dict[str, Any]:
    variables: dict[str, Any] = {
        **properties.get("Environment", {}).get("Variables", {}),
        environment_variable("stage"): {"Ref": "Stage"},
        environment_variable("account_id"): {"Ref": "AWS::AccountId"},
        **settings_environment(),
        "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
    }
    if stack.manages_agents:
        variables[environment_variable("user_pool_id")] = import_value(settings, "UserPoolId")
        variables[environment_variable("user_pool_client_id")] = import_value(
            settings, "UserPoolClientId"
        )
    if stack.mail_function is not None:
        variables[environment_variable("reply_token_secret_ref")] = settings.reply_token_parameter
        variables[environment_variable("mail_domain")] = {"Ref": "MailDomain"}
        # Mail to agents links to the console: the deployment stores its address once the
        # edge has one (the edge is deployed after the services).
        variables[environment_variable("console_url_ref")] = settings.console_url_parameter
        # Rating links in mail to clients lead to the edge, stored likewise.
        variables[environment_variable("edge_url_ref")] = settings.edge_url_parameter
    if stack.checks_rating_links:
        variables[environment_variable("reply_token_secret_ref")] = settings.reply_token_parameter
    if stack.serves_files:
        # Links to files go through the edge: the deployment stores its address and the key's
        # id once the edge exists, and the key before.
        variables[environment_variable("edge_url_ref")] = settings.edge_url_parameter
        variables[environment_variable("file_link_key_id_ref")] = (
            settings.file_link_key_id_parameter
        )
        variables[environment_variable("file_link_key_ref")] = settings.file_link_key_parameter
    return variables


def _scope_logs(role: dict[str, Any], function: str) -> None:
    """The function writes to its own log group, which the stack made (it may not make any)."""
    document = role["Properties"]["Policies"][0]["PolicyDocument"]
    document["Statement"].insert(
        0,
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
            f"/aws/lambda/{function}:*",
        },
    )


def _function_metric(logical_id: str, metric: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
    }


def _finish_api(
    api: dict[str, Any], stack: ServiceStack, settings: Settings, alerts: dict[str, Any]
) -> dict[str, Any]:
    properties = api["Properties"]
    name = api_name(stack, settings)
    properties["Name"] = name
    properties["DefinitionBody"] = finish_definition(properties["DefinitionBody"], settings)
    properties["MethodSettings"] = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"},
            "MetricsEnabled": True,
        }
    ]
    return alarm(
        "Api5xxAlarm",
        f"{name} answered 5xx in the last 5 minutes: see its functions' log groups",
        {
            "Namespace": "AWS/ApiGateway",
            "MetricName": "5XXError",
            "Dimensions": [
                {"Name": "ApiName", "Value": name},
                {"Name": "Stage", "Value": API_STAGE},
            ],
        },
        threshold=0,
        alerts=alerts,
    )


def _console_origin_when_set(node: Any) -> Any:
    """A CORS origin header only when the operator named the console's origin: API Gateway
    refuses an empty one."""
    if isinstance(node, dict):
        return {key: _console_origin_when_set(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_console_origin_when_set(item) for item in node]
    if node == "'${ConsoleOrigin}'":
        return {"Fn::If": [CONSOLE_ORIGIN_SET, {"Fn::Sub": node}, {"Ref": "AWS::NoValue"}]}
    return node
