"""The REST API definition API Gateway serves for a service, as rendered into its stack.

Chalice writes the paths from the app's routes, with the Cognito authorizer on every route the code
does not declare public (`shared.api`). To that this adds what a browser and an operator need: the
user pool the authorizer trusts (imported from the shared stack), CORS preflights for the console's
origin, and gateway responses (the authorizer's 401, throttling's 429, API Gateway's own 5xx) as
problem+json with the same CORS headers. The local gateway enforces the very same definition
(`ApiDefinition`), so a route that lost its authorizer is open locally too, and a test sees it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice
from chalice.deploy.swagger import CFNSwaggerGenerator

from infra.parameters import resolve
from infra.templates import import_value
from shared.api import CORS_EXPOSED_HEADERS
from shared.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE
from shared.settings import Settings

CORS_ALLOWED_HEADERS = "Authorization,Content-Type,If-Match,Idempotency-Key"
CORS_MAX_AGE_SECONDS = "600"
# Every answer that API Gateway gives itself, before or instead of the function.
GATEWAY_RESPONSES = {
    "DEFAULT_4XX": ("about:blank", "Request refused"),
    "DEFAULT_5XX": ("about:blank", "The service is unavailable"),
    "UNAUTHORIZED": (f"{PROBLEM_BASE}unauthorized", "Unauthorized"),
    "ACCESS_DENIED": (f"{PROBLEM_BASE}forbidden", "Forbidden"),
    "THROTTLED": (f"{PROBLEM_BASE}throttled", "Too many requests"),
}


def finish_definition(definition: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Chalice's definition of the app's API, with authorizer source, CORS and gateway answers."""
    finished = copy.deepcopy(definition)
    for scheme in finished.get("securityDefinitions", {}).values():
        authorizer = scheme.get("x-amazon-apigateway-authorizer", {})
        if authorizer.get("type") == "cognito_user_pools":
            authorizer["providerARNs"] = [import_value(settings, "UserPoolArn")]
    for operations in finished["paths"].values():
        methods = sorted(method.upper() for method in operations)
        operations["options"] = _preflight([*methods, "OPTIONS"])
    finished["x-amazon-apigateway-gateway-responses"] = {
        kind: {
            "responseParameters": {
                f"gatewayresponse.header.{name}": value for name, value in _cors_headers().items()
            },
            "responseTemplates": {
                PROBLEM_CONTENT_TYPE: json.dumps(
                    {"type": problem, "title": title, "detail": "$context.error.messageString"}
                ).replace('"$context.error.messageString"', "$context.error.messageString")
            },
        }
        for kind, (problem, title) in GATEWAY_RESPONSES.items()
    }
    return finished


def _cors_headers() -> dict[str, str]:
    # Quoted: API Gateway takes a header value in single quotes as a literal.
    return {
        "Access-Control-Allow-Origin": "'${ConsoleOrigin}'",
        "Access-Control-Expose-Headers": f"'{CORS_EXPOSED_HEADERS}'",
        "Vary": "'Origin'",
    }


def _preflight(methods: list[str]) -> dict[str, Any]:
    """A browser's OPTIONS request, answered by API Gateway itself without a token."""
    headers = {
        **_cors_headers(),
        "Access-Control-Allow-Methods": f"'{','.join(methods)}'",
        "Access-Control-Allow-Headers": f"'{CORS_ALLOWED_HEADERS}'",
        "Access-Control-Max-Age": f"'{CORS_MAX_AGE_SECONDS}'",
    }
    return {
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "responses": {
            "204": {
                "description": "CORS preflight",
                "headers": {name: {"type": "string"} for name in headers},
            }
        },
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 204}'},
            "passthroughBehavior": "when_no_match",
            "responses": {
                "default": {
                    "statusCode": "204",
                    "responseParameters": {
                        f"method.response.header.{name}": value for name, value in headers.items()
                    },
                }
            },
        },
    }


def app_definition(app: Chalice, settings: Settings) -> dict[str, Any]:
    """The finished definition of an app's API, as `chalice package` renders it."""
    return finish_definition(CFNSwaggerGenerator().generate_swagger(app), settings)


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value


@dataclass(frozen=True)
class ApiDefinition:
    """What API Gateway does with a request before the function sees it, read from the
    definition with the stack's parameters filled in."""

    document: dict[str, Any]

    @classmethod
    def of(cls, app: Chalice, settings: Settings) -> ApiDefinition:
        values = {"ConsoleOrigin": settings.console_origin or ""}
        return cls(resolve(app_definition(app, settings), values))

    def requires_token(self, route: str, method: str) -> bool:
        operation = self.document["paths"].get(route, {}).get(method.lower(), {})
        return bool(operation.get("security"))

    def preflight_headers(self, route: str) -> dict[str, str] | None:
        """The headers API Gateway answers a preflight with, or None if the route has none."""
        options = self.document["paths"].get(route, {}).get("options")
        if options is None:
            return None
        parameters = options["x-amazon-apigateway-integration"]["responses"]["default"][
            "responseParameters"
        ]
        return {
            name.removeprefix("method.response.header."): _unquote(value)
            for name, value in parameters.items()
        }

    def gateway_headers(self, kind: str = "DEFAULT_4XX") -> dict[str, str]:
        """The headers of an answer API Gateway gives itself (a refused token, say)."""
        response = self.document["x-amazon-apigateway-gateway-responses"][kind]
        return {
            name.removeprefix("gatewayresponse.header."): _unquote(value)
            for name, value in response["responseParameters"].items()
        }
