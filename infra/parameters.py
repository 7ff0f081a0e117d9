"""Stack parameters from the settings model, and templates that name no machine.

Every setting an operator may set (`deploy: parameter` in `shared.settings`) becomes a parameter of
every service stack, with its default and description, and an environment variable of each
function. Templates are rendered from `template_settings()`: the defaults, with CloudFormation
placeholders for the stage, region and account, never the packaging machine's environment;
`substitute()` then turns every string that holds a placeholder into `Fn::Sub`. The local stack
renders the same definitions with real values instead (`resolve()`).
"""

from __future__ import annotations

import re
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from shared.settings import Settings

STAGE = "Stage"
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9:.]+)\}")


class _TemplateSettings(Settings):
    """Settings as a template sees them: what the code and the arguments say, nothing read from
    the environment of the machine that renders it."""

    @classmethod
    def environment_values(cls) -> dict[str, str]:
        return {}


def template_settings(resource_prefix: str = "helpdesk") -> Settings:
    """Names with `${Stage}`, `${AWS::Region}` and `${AWS::AccountId}` left for CloudFormation."""
    return _TemplateSettings(
        stage="${Stage}",
        resource_prefix=resource_prefix,
        account_id="${AWS::AccountId}",
        AWS_DEFAULT_REGION="${AWS::Region}",
    )


def parameter_name(field: str) -> str:
    return "".join(part.title() for part in field.split("_"))


def environment_variable(field: str) -> str:
    return f"HELPDESK_{field.upper()}"


def operator_settings() -> dict[str, FieldInfo]:
    """The settings an operator sets per deployment, by field name."""
    return {
        name: info
        for name, info in Settings.model_fields.items()
        if isinstance(info.json_schema_extra, dict)
        and info.json_schema_extra.get("deploy") == "parameter"
    }


def _parameter(info: FieldInfo) -> dict[str, Any]:
    annotation, optional = info.annotation, False
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional, annotation = len(members) < len(get_args(annotation)), members[0]
    default = "" if info.default is None else info.default
    parameter: dict[str, Any] = {"Description": info.description or ""}
    if get_origin(annotation) is Literal:
        parameter |= {
            "Type": "String",
            "AllowedValues": ([""] if optional else []) + [str(v) for v in get_args(annotation)],
        }
    elif annotation is bool:
        parameter |= {"Type": "String", "AllowedValues": ["false", "true"]}
        default = str(default).lower()
    elif annotation in (int, float):
        parameter["Type"] = "Number"
        for constraint in info.metadata:
            if (low := getattr(constraint, "ge", None)) is not None:
                parameter["MinValue"] = low
            if (high := getattr(constraint, "le", None)) is not None:
                parameter["MaxValue"] = high
    else:
        parameter["Type"] = "String"
        pattern = next((p for c in info.metadata if (p := getattr(c, "pattern", None))), None)
        if pattern:
            parameter["AllowedPattern"] = f"^$|{pattern}" if optional else pattern
    parameter["Default"] = str(default)
    return parameter


def stage_parameter() -> dict[str, Any]:
    return {
        STAGE: {
            "Type": "String",
            "Description": "Deployment stage; part of every resource name (dev, prod, ...)",
            "AllowedPattern": "^[a-z][a-z0-9]{0,11}$",
        }
    }


def service_parameters() -> dict[str, Any]:
    """The parameters of a service stack: the stage, every operator setting, and operations."""
    return {
        **stage_parameter(),
        **{parameter_name(name): _parameter(info) for name, info in operator_settings().items()},
        "LogRetentionDays": {
            "Type": "Number",
            "Description": "Days the functions' logs are kept",
            "Default": "90",
            "AllowedValues": [str(days) for days in LOG_RETENTION_DAYS],
        },
        "ApiRateLimit": {
            "Type": "Number",
            "Description": "Requests per second the service's API accepts (steady rate)",
            "Default": "50",
            "MinValue": 1,
        },
        "ApiBurstLimit": {
            "Type": "Number",
            "Description": "Requests the service's API accepts at once above the rate",
            "Default": "100",
            "MinValue": 1,
        },
    }


def settings_environment() -> dict[str, Any]:
    """Environment variables that carry every operator setting to a function."""
    return {
        environment_variable(name): {"Ref": parameter_name(name)} for name in operator_settings()
    }


def substitute(node: Any, variables: dict[str, Any] | None = None) -> Any:
    """The template with every string that holds a `${...}` placeholder made an `Fn::Sub`;
    `variables` gives the placeholders that are neither parameters nor resources (an import)."""
    variables = variables or {}
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"}:
            return node
        return {key: substitute(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute(item, variables) for item in node]
    if isinstance(node, str) and PLACEHOLDER.search(node):
        used = {
            name: substitute(variables[name])
            for name in PLACEHOLDER.findall(node)
            if name in variables
        }
        return {"Fn::Sub": [node, used] if used else node}
    return node


def resolve(node: Any, values: dict[str, str]) -> Any:
    """The fragment with the placeholders `values` names filled in (the local stack's render)."""
    if isinstance(node, dict):
        return {key: resolve(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, values) for item in node]
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), node)
    return node
