"""The local HTTP gateway: one port, routed by path to each service's app as the AWS edge does.

It does what API Gateway does with each service's rendered API definition (`infra.api`): routes
that carry the authorizer there need a token that verifies, preflights are answered from the
definition, and its own refusals carry the definition's CORS headers. A request then becomes an
API Gateway REST proxy event (with `resource` set to the matched route template, and the verified
token's claims where the Cognito authorizer puts them) and is handed to the app as Lambda would.
Local-only routes live under `/local` plus `/health` and `/openapi.json`. As the AWS edge, it
serves the files of messages to signed links (`local_stack.files`).

As API Gateway, it tells the function the scheme the caller used (`X-Forwarded-Proto`, plain
`http` here, whatever the caller claims), refuses any method a route does not declare (`TRACE`,
`QUERY`, anything) with a 405 problem, and bounds a request's body before reading it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalice import Chalice
from chalice.local import LambdaEventConverter, RouteMatcher

from infra.api import ApiDefinition
from local_stack.aws_calls import running, service_of
from local_stack.console import COGNITO_PATH, ConsoleSite
from local_stack.delivery import LambdaContext
from local_stack.files import LocalFiles
from local_stack.tokens import DevTokens
from shared.errors import (
    PROBLEM_CONTENT_TYPE,
    BadRequest,
    DomainError,
    InternalError,
    MalformedJson,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from shared.settings import get_settings
from shared.text import load_json

LocalRoute = Callable[[dict[str, Any]], tuple[int, Any]]
SCHEME = "http"  # what this gateway serves; API Gateway serves https and says so the same way
FORWARDED_PROTO = "X-Forwarded-Proto"
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
CONTENT_LENGTH = re.compile(r"[0-9]{1,9}")
logger = logging.getLogger(__name__)


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    stream: Iterator[bytes] | None = None  # sent instead of `body`, as it is read


def _problem(
    error: DomainError, path: str, headers: dict[str, str] | None = None
) -> GatewayResponse:
    body = json.dumps(error.to_problem(path)).encode()
    return GatewayResponse(
        error.status, {"Content-Type": PROBLEM_CONTENT_TYPE, **(headers or {})}, body
    )


class Gateway:
    def __init__(
        self,
        apps: dict[str, Chalice],
        tokens: DevTokens,
        local_routes: dict[tuple[str, str], LocalRoute],
        console: ConsoleSite | None = None,
        files: LocalFiles | None = None,
    ) -> None:
        self._tokens = tokens
        self._console = console
        self._files = files
        self._local_routes = local_routes
        self._route_owner: dict[str, Chalice] = {}
        self._definitions: dict[str, ApiDefinition] = {}
        for app in apps.values():
            definition = ApiDefinition.of(app, get_settings())
            for path in app.routes:
                if path in self._route_owner:
                    raise ValueError(f"two services claim the route {path}")
                self._route_owner[path] = app
                self._definitions[path] = definition
        self._matcher = RouteMatcher(list(self._route_owner))
        self._converter = LambdaEventConverter(self._matcher, binary_types=[])
        # A Chalice app keeps the current request on itself, so each app serves one at a time.
        self._locks = {id(app): threading.Lock() for app in apps.values()}

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> GatewayResponse:
        path = target.split("?", 1)[0]
        if self._files is not None and self._files.serves(path):
            file = self._files.answer(method, target)
            return GatewayResponse(file.status, file.headers, file.body, file.stream)
        if self._console is not None:
            if method in ("GET", "HEAD") and (page := self._console.file(path)) is not None:
                return GatewayResponse(*page)
            if (method, path) == ("POST", COGNITO_PATH):
                return GatewayResponse(*self._console.cognito(headers, body))
        local = self._local_routes.get((method, path))
        if local is not None:
            return self._local(local, body, path)
        if any(path == local_path for _, local_path in self._local_routes):
            return _problem(MethodNotAllowed(f"{method} is not allowed on {path}."), path)
        try:
            match = self._matcher.match_route(target)
        except ValueError:
            return _problem(NotFound(f"No route {path}."), path)
        app, definition = self._route_owner[match.route], self._definitions[match.route]
        refusal_headers = definition.gateway_headers()
        if method == "OPTIONS" and (preflight := definition.preflight_headers(match.route)):
            return GatewayResponse(204, _present(preflight), b"")
        if method not in app.routes[match.route]:
            return _problem(
                MethodNotAllowed(f"{method} is not allowed on {match.route}."),
                path,
                _present(refusal_headers),
            )
        # As API Gateway's authorizer: on a route that carries it, a request without a token that
        # verifies never reaches the function. Public routes (a CRM's signed webhook) get no claims.
        claims: dict[str, Any] | None = None
        if definition.requires_token(match.route, method):
            claims = self._claims(headers)
            if claims is None:
                return _problem(
                    Unauthorized("A valid bearer token is required."),
                    path,
                    _present(refusal_headers),
                )
        headers = {k: v for k, v in headers.items() if k.lower() != FORWARDED_PROTO.lower()}
        headers[FORWARDED_PROTO] = SCHEME
        event = self._converter.create_lambda_event(method, target, headers, body or None)
        event["resource"] = match.route
        event["path"] = path
        event["httpMethod"] = method
        event["requestContext"].update(
            requestId=str(uuid.uuid4()),
            stage="local",
            **({"authorizer": {"claims": claims}} if claims is not None else {}),
        )
        with self._locks[id(app)], running(service_of(app)):
            result = app(event, LambdaContext(app.app_name))
        raw = result.get("body") or ""
        response_headers = dict(result.get("headers") or {})
        return GatewayResponse(result["statusCode"], response_headers, raw.encode())

    def _claims(self, headers: dict[str, str]) -> dict[str, Any] | None:
        scheme, _, token = _authorization(headers).partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self._tokens.claims(token.strip())

    @staticmethod
    def _local(route: LocalRoute, body: bytes, path: str) -> GatewayResponse:
        try:
            document = load_json(body) if body else {}
        except ValueError as error:
            return _problem(MalformedJson(f"The request body is not valid JSON: {error}"), path)
        if not isinstance(document, dict):
            return _problem(BadRequest("The request body must be a JSON object."), path)
        try:
            status, answer = route(document)
        except DomainError as error:
            return _problem(error, path)
        return GatewayResponse(
            status, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        )


def _present(headers: dict[str, str]) -> dict[str, str]:
    """Headers with a value: an empty console origin means no CORS at all."""
    return {name: value for name, value in headers.items() if value}


def _authorization(headers: dict[str, str]) -> str:
    return {k.lower(): v for k, v in headers.items()}.get("authorization", "")


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Connections waiting to be accepted: the default (5) resets clients beyond a handful at once.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        response = self._answer()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if "content-length" not in {name.lower() for name in response.headers}:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        for chunk in response.stream or (response.body,):
            self.wfile.write(chunk)

    def _answer(self) -> GatewayResponse:
        path = self.path.split("?", 1)[0]
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not CONTENT_LENGTH.fullmatch(declared):
            self.close_connection = True  # the body's end is unknown: nothing more can be read
            return _problem(BadRequest("Content-Length is not a number of bytes."), path)
        if int(declared) > MAX_REQUEST_BYTES:
            self.close_connection = True
            return _problem(
                PayloadTooLarge(f"Requests are {MAX_REQUEST_BYTES} bytes at most."), path
            )
        body = self.rfile.read(int(declared)) if int(declared) else b""
        try:
            return self.server.gateway.handle(self.command, self.path, dict(self.headers), body)
        except Exception:
            logger.exception("the gateway failed", extra={"method": self.command, "path": path})
            return _problem(InternalError("The gateway failed."), path)

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the gateway, which refuses those a route does not declare: the
        # standard library's handler would answer them with its own 501 page.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the services log each request as JSON already
