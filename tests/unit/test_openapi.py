"""The OpenAPI document: it covers every deployed route, is valid 3.1, is committed up to date,
and says what each request needs and how each error looks."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from pydantic import BaseModel

from infra.openapi import DEFAULT_OUT, project_document, service_apis, service_names
from shared.api import Api, ApiRequest
from shared.openapi import (
    openapi_document,
    render,
)

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return project_document()


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].removeprefix("#/components/schemas/")
    resolved: dict[str, Any] = document["components"]["schemas"][name]
    return resolved


def test_every_chalice_route_is_in_the_document(document: dict[str, Any]) -> None:
    # Given every route of every service's Chalice app, as it is deployed
    routes = [
        (path, method)
        for name in service_names()
        for path, methods in importlib.import_module(f"services.{name}.app").app.routes.items()
        for method in methods
    ]
    assert routes, "no Chalice routes found: the discovery of services is broken"

    # When each is looked up in the generated document
    missing = [
        f"{method} {path}"
        for path, method in routes
        if method.lower() not in document["paths"].get(path, {})
    ]

    # Then none is missing
    assert not missing, f"routes missing from the OpenAPI document: {missing}"


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    # Given the generated document
    # When it is validated against the OpenAPI 3.1 specification
    # Then it passes (validate raises on the first error)
    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["openapi"].startswith("3.1")


def test_committed_document_is_current(document: dict[str, Any]) -> None:
    # Given the committed docs/openapi.json
    assert DEFAULT_OUT.is_file(), "docs/openapi.json is missing: run `make docs`"
    committed = DEFAULT_OUT.read_text(encoding="utf-8")

    # When it is compared with what the generator writes now
    current = render(document)

    # Then they are the same
    assert committed == current, "docs/openapi.json is stale: run `make docs` and commit it"


def test_post_tickets_body_names_its_required_fields(document: dict[str, Any]) -> None:
    # Given the operation that opens a ticket
    operation = document["paths"]["/tickets"]["post"]

    # When its request body schema is resolved
    schema = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])

    # Then it requires what a ticket cannot be opened without
    assert {"subject", "body", "requester"} <= set(schema["required"])
    assert operation["requestBody"]["required"] is True


def test_every_body_schema_requires_its_model_required_fields(document: dict[str, Any]) -> None:
    # Given every declared operation with a request body
    operations = [op for api in service_apis() for op in api.operations if op.body is not None]

    for operation in operations:
        # When its documented body schema is resolved
        described = document["paths"][operation.path][operation.method.lower()]
        schema = _resolve(
            document, described["requestBody"]["content"]["application/json"]["schema"]
        )

        # Then it requires exactly the model's required fields
        expected = {
            info.alias or name
            for name, info in operation.body.model_fields.items()
            if info.is_required()
        }
        assert set(schema.get("required", [])) == expected, operation.name


def test_error_responses_are_problem_details(document: dict[str, Any]) -> None:
    # Given every documented response of every operation
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]

            # Then every error answers problem+json with the Problem schema
            for status, response in responses.items():
                if int(status) >= 400:
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema == PROBLEM_REF, f"{method} {path} {status}"

            # And the errors every route can give are there
            assert "500" in responses, f"{method} {path}"
            if "security" in operation:
                assert "401" in responses, f"{method} {path}"
            if "requestBody" in operation:
                assert "422" in responses, f"{method} {path}"

    # And the Problem schema has the fields of an RFC 9457 problem with field errors
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    assert problem["properties"]["errors"]["items"]["required"] == ["field", "message"]


class _Search(BaseModel):
    status: list[str] = []
    q: str
    limit: int | None = None


def test_query_fields_are_parameters_and_no_response_means_no_content() -> None:
    # Given a public route with a query model and no response body
    api = Api(__name__, tag="search")

    @api.route(
        "/things/{thing_id}/search",
        "GET",
        summary="Search",
        query=_Search,
        status=204,
        authenticated=False,
    )
    def search(request: ApiRequest[Any, _Search]) -> None:
        """Never called: only the declaration is documented."""

    # When the document is generated
    document = openapi_document([api], "Test", "1")
    operation = document["paths"]["/things/{thing_id}/search"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}

    # Then the path and each query field are parameters, lists repeated as `?status=a&status=b`
    assert parameters["thing_id"] == {
        "name": "thing_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    assert parameters["status"]["schema"]["type"] == "array"
    assert (parameters["status"]["style"], parameters["status"]["explode"]) == ("form", True)
    assert parameters["q"]["required"] is True
    assert parameters["limit"]["required"] is False
    assert "style" not in parameters["q"]

    # And the success has no content, a bad query is a 422, and no credentials are asked for
    assert "content" not in operation["responses"]["204"]
    assert operation["responses"]["422"]["content"]["application/problem+json"]["schema"] == (
        PROBLEM_REF
    )
    assert "security" not in operation
    assert "401" not in operation["responses"]
    validate(document, cls=OpenAPIV31SpecValidator)
