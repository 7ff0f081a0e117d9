"""The OpenAPI 3.1 document of the helpdesk's HTTP APIs, generated from the route declarations.

Every route is declared once through `shared.api.Api`; this module turns those declarations into
the published contract (`docs/openapi.json`), so the document cannot drift from the code.
`python -m infra.openapi [out_path]` (what `make docs` runs) writes it for every service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.api import Api, Operation
from shared.errors import PROBLEM_CONTENT_TYPE
from shared.http_idempotency import IDEMPOTENCY_KEY_HEADER, KEY_LIFETIME_SECONDS, MAX_KEY_LENGTH

TITLE = "Helpdesk API"
REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM = "Problem"
PATH_PARAMETER = re.compile(r"\{([^}]+)\}")

# The shape of `DomainError.to_problem`: RFC 9457 problem details plus the per-field errors.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM,
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "description": "Dotted path into the request."},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_KEY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "A key of the caller's choosing, new for each new request (a UUID). Sent again with the "
        "same request, it answers what the first one answered (status, body, headers) and "
        f"creates nothing more, for {KEY_LIFETIME_SECONDS // 3600} hours. The same key with "
        "another request is a 422 naming it; while the first is still running, a 409. Keys are "
        "per caller."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}

SchemaKey = tuple[type[BaseModel], JsonSchemaMode]


def openapi_document(apis: Iterable[Api], title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every operation of `apis`."""
    operations = [operation for api in apis for operation in api.operations]
    refs, schemas = _schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    names: set[str] = set()
    for operation in operations:
        method = operation.method.lower()
        if method in paths.get(operation.path, {}):
            raise ValueError(f"{operation.method} {operation.path} is declared twice")
        if operation.name in names:  # operationId must be unique across the whole document
            raise ValueError(f"operation name {operation.name!r} is used by two routes")
        names.add(operation.name)
        paths.setdefault(operation.path, {})[method] = _operation(operation, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "tags": [{"name": tag} for tag in sorted({operation.tag for operation in operations})],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    """The document as committed: stable key order, so a regeneration diffs only what changed."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _schemas(operations: list[Operation]) -> tuple[dict[SchemaKey, str], dict[str, Any]]:
    """Each model's component name, and the components: one pass, so pydantic names clashes."""
    keys: list[SchemaKey] = []
    for operation in operations:
        used: list[tuple[type[BaseModel] | None, JsonSchemaMode]] = [
            (operation.body, "validation"),
            (operation.query, "validation"),
            (operation.response, "serialization"),
        ]
        keys += [(model, mode) for model, mode in used if model is not None]
    keys = list(dict.fromkeys(keys))  # a model shared by routes is described once
    key_map, top = models_json_schema(keys, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    if PROBLEM in schemas:
        raise ValueError(f"a model named {PROBLEM!r} clashes with the problem+json schema")
    schemas[PROBLEM] = PROBLEM_SCHEMA
    refs = {key: str(key_map[key]["$ref"]).rsplit("/", 1)[-1] for key in keys}
    return refs, schemas


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _operation(
    operation: Operation, refs: dict[SchemaKey, str], schemas: dict[str, Any]
) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PATH_PARAMETER.findall(operation.path)
    ]
    if operation.query is not None:
        parameters += _query_parameters(
            operation.query, schemas[refs[(operation.query, "validation")]]
        )
    if operation.idempotent:
        parameters.append(dict(IDEMPOTENCY_KEY_PARAMETER))
    described: dict[str, Any] = {
        "operationId": operation.name,
        "summary": operation.summary,
        "tags": [operation.tag],
        "responses": _responses(operation, refs),
    }
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(refs[(operation.body, "validation")])}},
        }
    if operation.authenticated:
        described["security"] = [{"bearer": []}]
    return described


def _query_parameters(model: type[BaseModel], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One parameter per field, read under the same key and repetition as `shared.api` reads it."""
    parameters: list[dict[str, Any]] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        parameter: dict[str, Any] = {
            "name": key,
            "in": "query",
            "required": info.is_required(),
            "schema": schema["properties"][key],
        }
        if _repeatable(info.annotation):
            parameter |= {"style": "form", "explode": True}
        parameters.append(parameter)
    return parameters


def _repeatable(annotation: Any) -> bool:
    """A list field, or an optional one: given as `?tag=a&tag=b`."""
    return get_origin(annotation) is list or any(
        get_origin(arg) is list for arg in get_args(annotation)
    )


def _responses(operation: Operation, refs: dict[SchemaKey, str]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": HTTPStatus(operation.status).phrase}
    if operation.response is not None:
        name = refs[(operation.response, "serialization")]
        success["content"] = {"application/json": {"schema": _ref(name)}}
    statuses = set(operation.errors) | {500}
    if operation.authenticated:
        statuses.add(401)
    if operation.body is not None or operation.query is not None:
        statuses.add(422)
    responses = {str(operation.status): success}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": _ref(PROBLEM)}},
        }
    return responses
