"""What the emulator's CloudFormation cannot create, left out of a template before it gets it.

moto skips resource types it does not know (Cognito, SES, alarms, CloudFront), then fails on any
output or property that points at one; it cannot create a REST API from its definition; and it
resolves no `Fn::Sub` inside `Fn::ImportValue`. The local stack and a deployment to the emulator
both hand it templates through `for_emulator`; what is left out is checked on the templates
themselves by the infrastructure tests.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from infra.parameters import resolve

SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
# What an import of an output the emulator could not make (a user pool's id) reads instead.
STAND_IN = "left-out-by-the-emulator"
# Resource types the emulator cannot create as the template declares them.
LEFT_OUT = (
    "AWS::ApiGateway::",
    "AWS::Cognito::",
    "AWS::SES::",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudFront::",
    "AWS::Lambda::EventInvokeConfig",
)


def references(node: Any) -> Iterator[str]:
    """Every logical id or parameter a template fragment points at: `Ref`, `Fn::GetAtt`, and the
    `${...}` of `Fn::Sub` that are not its own variables."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else str(value).split(".")[0]
            elif key == "Fn::Sub":
                text, local = (value[0], value[1]) if isinstance(value, list) else (value, {})
                yield from {name.split(".")[0] for name in SUB_VARIABLE.findall(text)} - set(local)
                yield from references(local)
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def for_emulator(
    template: dict[str, Any],
    parameters: dict[str, str] | None = None,
    exports: set[str] | None = None,
) -> dict[str, Any]:
    """The template without what the emulator cannot create, nor anything pointing at it; with
    `exports` (those the emulator has), imports named with the `parameters` are resolved, and an
    import of anything else is a stand-in."""
    emulated = copy.deepcopy(template)
    if exports is not None:
        emulated = _resolve_imports(emulated, parameters or {}, exports)
    resources: dict[str, Any] = emulated["Resources"]
    gone = {name for name, r in resources.items() if r["Type"].startswith(LEFT_OUT)}
    # Whatever points at a resource that is gone goes too (a permission for the API, say).
    while True:
        dependent = {
            name
            for name, resource in resources.items()
            if name not in gone
            and (set(references(resource)) | set(resource.get("DependsOn", []))) & gone
        }
        if not dependent:
            break
        gone |= dependent
    for name in gone:
        resources.pop(name, None)
    outputs = emulated.get("Outputs", {})
    for name in [n for n, output in outputs.items() if set(references(output)) & gone]:
        del outputs[name]
    return emulated


def _resolve_imports(node: Any, parameters: dict[str, str], exports: set[str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Fn::ImportValue"}:
            name = node["Fn::ImportValue"]
            if isinstance(name, dict) and set(name) == {"Fn::Sub"}:
                name = resolve(name["Fn::Sub"], parameters)
            return {"Fn::ImportValue": name} if name in exports else STAND_IN
        return {key: _resolve_imports(value, parameters, exports) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve_imports(item, parameters, exports) for item in node]
    return node
