"""Whether each service's IAM policy grants the AWS calls its functions make.

The emulator checks no permissions, so a call the policy forgets passes every test and fails in
AWS. The tests record every call a function makes (`AwsCall`) and hold it against the policy
`infra.templates.function_policy` renders for that service: the IAM actions the call needs, on
the resources its parameters name.

Limits, on purpose: only Allow statements with `Action` and `Resource` are read (the policies
have no Deny, `NotAction` or `NotResource`), and conditions are not evaluated. A call whose
resource its parameters do not name (a list operation, a raw mail without a sender) is checked
on its action only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from functools import cache
from typing import Any
from urllib.parse import urlparse

from infra.parameters import PLACEHOLDER, resolve
from infra.stacks import service
from infra.templates import function_policy
from shared.settings import Settings

PARTITION = "aws"

# The parameters that name resources; everything else a call sends (items, bodies) is dropped.
RESOURCE_PARAMETERS = frozenset(
    {
        "TableName",
        "IndexName",
        "StreamArn",
        "QueueUrl",
        "QueueName",
        "Bucket",
        "Key",
        "TopicArn",
        "TargetArn",
        "EventBusName",
        "Name",
        "Names",
        "Path",
        "SecretId",
        "UserPoolId",
        "ConfigurationSetName",
        "Source",
        "SourceArn",
        "FromEmailAddress",
        "FromEmailAddressIdentityArn",
    }
)

# IAM prefixes that differ from botocore's name for the client.
IAM_PREFIXES = {"dynamodbstreams": "dynamodb", "sesv2": "ses"}

TRANSACT_WRITE_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}

# Operations IAM authorizes under another action's name.
SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
S3_ACTIONS = {
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
}
SNS_ACTIONS = {"PublishBatch": "Publish"}

# Placeholders CloudFormation fills in when it deploys a policy: `${Name}` in strings, `Ref`.


@dataclass(frozen=True)
class AwsCall:
    """One AWS API call made while one of a service's functions ran."""

    service: str  # the helpdesk service, as `infra.stacks` names it
    aws_service: str  # botocore's name for the client: dynamodb, sqs, s3, cognito-idp...
    operation: str  # the API operation: Query, SendMessageBatch, PutObject...
    region: str
    parameters: dict[str, Any]  # only those naming resources (`resource_parameters`)

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "aws_service": self.aws_service,
            "operation": self.operation,
            "region": self.region,
            "parameters": self.parameters,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> AwsCall:
        return cls(
            service=document["service"],
            aws_service=document["aws_service"],
            operation=document["operation"],
            region=document["region"],
            parameters=document["parameters"],
        )


@dataclass(frozen=True)
class Permission:
    action: str  # `dynamodb:Query`
    resource: str | None  # an ARN; None when the call's parameters name no resource


@dataclass(frozen=True)
class Refusal:
    """A permission a call needs that its service's policy does not grant."""

    service: str
    operation: str
    permission: Permission


def resource_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a call's parameters that name resources, in their original nesting (a
    transaction's items, a batch's entries), small enough to keep for every call."""
    kept: dict[str, Any] = {}
    for key, value in parameters.items():
        if key == "RequestItems":  # batch reads and writes: keyed by table name
            kept[key] = {table: {} for table in value}
        elif key in RESOURCE_PARAMETERS and _is_name(value):
            kept[key] = value
        elif isinstance(value, Mapping):
            nested = resource_parameters(value)
            if nested:
                kept[key] = nested
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            # Every element is kept, even empty: an entry that names no bus uses the default.
            kept[key] = [resource_parameters(v) for v in value]
    return kept


def _is_name(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


def required_permissions(call: AwsCall, account_id: str) -> list[Permission]:
    """What IAM checks before it lets the call through: each action on each resource."""
    prefix = IAM_PREFIXES.get(call.aws_service, call.aws_service)
    parameters, operation = call.parameters, call.operation
    arns = _Arns(call.region, account_id)
    if prefix == "dynamodb":
        return _dynamodb(operation, parameters, arns)
    if prefix == "sqs":
        action = f"sqs:{SQS_ACTIONS.get(operation, operation)}"
        return [Permission(action, arns.queue(parameters))]
    if prefix == "s3":
        return _s3(operation, parameters)
    if prefix == "events" and operation == "PutEvents":
        buses = {entry.get("EventBusName", "default") for entry in parameters.get("Entries", [])}
        return [Permission("events:PutEvents", arns.bus(bus)) for bus in sorted(buses)]
    if prefix == "sns":
        topic = parameters.get("TopicArn") or parameters.get("TargetArn")
        return [Permission(f"sns:{SNS_ACTIONS.get(operation, operation)}", topic)]
    if prefix == "ssm":
        names = parameters.get("Names") or [
            n for n in (parameters.get("Name"), parameters.get("Path")) if n
        ]
        return _each(f"ssm:{operation}", [arns.parameter(name) for name in names])
    if prefix == "secretsmanager":
        secret = parameters.get("SecretId")
        return _each(f"secretsmanager:{operation}", [arns.secret(secret)] if secret else [])
    if prefix == "cognito-idp":
        pool = parameters.get("UserPoolId")
        return _each(f"cognito-idp:{operation}", [arns.user_pool(pool)] if pool else [])
    if prefix == "ses":
        return _each(f"ses:{operation}", arns.mail_resources(parameters))
    return [Permission(f"{prefix}:{operation}", None)]


def _each(action: str, resources: Sequence[str]) -> list[Permission]:
    """The action on every resource, or on the action alone when none is known."""
    if not resources:
        return [Permission(action, None)]
    return [Permission(action, resource) for resource in resources]


def _dynamodb(operation: str, parameters: Mapping[str, Any], arns: _Arns) -> list[Permission]:
    if operation == "TransactWriteItems":
        # Each item needs the action it stands for, on its own table.
        return [
            Permission(f"dynamodb:{TRANSACT_WRITE_ACTIONS[kind]}", arns.table(request["TableName"]))
            for item in parameters["TransactItems"]
            for kind, request in item.items()
        ]
    if operation == "TransactGetItems":
        return [
            Permission("dynamodb:GetItem", arns.table(item["Get"]["TableName"]))
            for item in parameters["TransactItems"]
        ]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [
            Permission(f"dynamodb:{operation}", arns.table(table))
            for table in parameters["RequestItems"]
        ]
    if "StreamArn" in parameters:
        return [Permission(f"dynamodb:{operation}", parameters["StreamArn"])]
    table = parameters.get("TableName")
    if table is None:
        return [Permission(f"dynamodb:{operation}", None)]
    return [Permission(f"dynamodb:{operation}", arns.table(table, parameters.get("IndexName")))]


def _s3(operation: str, parameters: Mapping[str, Any]) -> list[Permission]:
    action = f"s3:{S3_ACTIONS.get(operation, operation)}"
    bucket = parameters.get("Bucket")
    if bucket is None:
        return [Permission(action, None)]
    if operation == "DeleteObjects":
        keys = [item["Key"] for item in parameters["Delete"]["Objects"]]
    else:
        keys = [parameters["Key"]] if "Key" in parameters else []
    bucket_arn = f"arn:{PARTITION}:s3:::{bucket}"
    return _each(action, [f"{bucket_arn}/{key}" for key in keys] or [bucket_arn])


@dataclass(frozen=True)
class _Arns:
    """The ARNs of the resources a call names, in its region and account."""

    region: str
    account_id: str

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{self.account_id}:{resource}"

    def table(self, name: str, index: str | None = None) -> str:
        table = self._arn("dynamodb", f"table/{name}")
        return f"{table}/index/{index}" if index else table

    def queue(self, parameters: Mapping[str, Any]) -> str | None:
        if "QueueUrl" in parameters:  # `https://host/<account>/<name>`
            account, name = urlparse(parameters["QueueUrl"]).path.strip("/").split("/")
            return f"arn:{PARTITION}:sqs:{self.region}:{account}:{name}"
        if "QueueName" in parameters:
            return self._arn("sqs", parameters["QueueName"])
        return None

    def bus(self, name: str) -> str:
        return name if name.startswith("arn:") else self._arn("events", f"event-bus/{name}")

    def parameter(self, name: str) -> str:
        if name.startswith("arn:"):
            return name
        return self._arn("ssm", f"parameter/{name.lstrip('/')}")

    def secret(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        # AWS ends a secret's ARN with `-` and six random characters: these stand for them.
        return self._arn("secretsmanager", f"secret:{secret_id}-AbCdEf")

    def user_pool(self, pool_id: str) -> str:
        return self._arn("cognito-idp", f"userpool/{pool_id}")

    def mail_resources(self, parameters: Mapping[str, Any]) -> list[str]:
        """SES checks the sending identity and the configuration set. The identity of a sender
        address is taken to be its domain: the identity the stacks verify."""
        resources = [
            parameters[arn]
            for arn in ("SourceArn", "FromEmailAddressIdentityArn")
            if arn in parameters
        ]
        sender = parameters.get("Source") or parameters.get("FromEmailAddress")
        if sender and not resources:
            domain = parseaddr(sender)[1].rpartition("@")[2]
            resources.append(self._arn("ses", f"identity/{domain}"))
        if "ConfigurationSetName" in parameters:
            name = parameters["ConfigurationSetName"]
            resources.append(self._arn("ses", f"configuration-set/{name}"))
        return resources


def placeholder_values(settings: Settings, parameters: Mapping[str, str]) -> dict[str, str]:
    """What CloudFormation fills in where these settings deploy: its pseudo parameters, the
    stack's `parameters` (`Stage`, `MailDomain`...), and the shared stack's user pool."""
    values = {
        "AWS::Region": settings.region,
        "AWS::AccountId": settings.account_id,
        "AWS::Partition": PARTITION,
        "Stage": settings.stage,
    }
    if settings.user_pool_id:
        values["UserPoolId"] = settings.user_pool_id
    return values | dict(parameters)


def resolve_placeholders(value: Any, values: Mapping[str, str]) -> Any:
    """The policy as CloudFormation deploys it: the `${Name}` placeholders of plain strings and
    `Fn::Sub`, and `Ref`s, filled in from `values`. One with no value is left as it is, and
    `grants` fails if it has to match it."""

    def fill(text: str, more: Mapping[str, Any]) -> str:
        known = {**values, **{k: v for k, v in more.items() if isinstance(v, str)}}
        return str(resolve(text, known))

    if isinstance(value, str):
        return fill(value, {})
    if isinstance(value, list):
        return [resolve_placeholders(item, values) for item in value]
    if isinstance(value, Mapping):
        if set(value) == {"Fn::Sub"}:
            text, variables = (
                (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            )
            return fill(text, variables)
        if set(value) == {"Ref"}:
            return fill(f"${{{value['Ref']}}}", {})
        if any(key.startswith("Fn::") for key in value):
            raise ValueError(f"cannot resolve {value!r} in a policy")
        return {key: resolve_placeholders(item, values) for key, item in value.items()}
    return value


def grants(policy: Mapping[str, Any], permission: Permission) -> bool:
    """Whether an Allow statement of the (resolved) policy names the action and the resource.
    A permission whose resource is unknown is granted by the action alone."""
    for statement in policy["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        if not any(
            _matches(pattern, permission.action, case_sensitive=False)
            for pattern in _listed(statement.get("Action"))
        ):
            continue
        if permission.resource is None or any(
            _matches(pattern, permission.resource, case_sensitive=True)
            for pattern in _listed(statement.get("Resource"))
        ):
            return True
    return False


def _listed(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def _matches(pattern: str, value: str, case_sensitive: bool) -> bool:
    """IAM's wildcards: `*` any run of characters (`/` and `:` included), `?` any one."""
    unresolved = PLACEHOLDER.search(pattern)
    if unresolved:
        raise ValueError(f"no value for {unresolved.group(0)} in the policy's {pattern!r}")
    return _wildcard(pattern, case_sensitive).fullmatch(value) is not None


@cache
def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL | (0 if case_sensitive else re.IGNORECASE))


def refusals(calls: Iterable[AwsCall], policy: Mapping[str, Any], account_id: str) -> list[Refusal]:
    """Every permission the calls need that the (resolved) policy does not grant, once each."""
    refused: dict[Refusal, None] = {}
    for call in calls:
        for permission in required_permissions(call, account_id):
            if not grants(policy, permission):
                refused[Refusal(call.service, call.operation, permission)] = None
    return list(refused)


def service_refusals(
    calls: Iterable[AwsCall], settings: Settings, parameters: Mapping[str, str]
) -> list[Refusal]:
    """The calls, each against the policy its service deploys with these settings and stack
    parameters."""
    by_service: dict[str, list[AwsCall]] = {}
    for call in calls:
        by_service.setdefault(call.service, []).append(call)
    return [
        refusal
        for name, made in by_service.items()
        for refusal in refusals(
            made, deployed_policy(name, settings, parameters), settings.account_id
        )
    ]


def deployed_policy(
    service_name: str, settings: Settings, parameters: Mapping[str, str]
) -> dict[str, Any]:
    """The service's policy with what CloudFormation fills in filled in."""
    policy: dict[str, Any] = resolve_placeholders(
        function_policy(service(service_name), settings),
        placeholder_values(settings, parameters),
    )
    return policy


def describe(refused: Sequence[Refusal]) -> str:
    lines = [
        f"  {r.service}: {r.permission.action} on {r.permission.resource or '(any resource)'}"
        f" (for {r.operation})"
        for r in refused
    ]
    return "\n".join(
        [
            "AWS calls the services' IAM policies do not grant; in AWS they would be refused.",
            "The service's policy in infra/templates.py (function_policy) must grant each:",
            *lines,
        ]
    )
