"""The HTTP layer every service uses on top of Chalice.

A route is declared once with its request, query and response models; from that declaration the
view gets a parsed, validated request and the caller's identity, errors become problem+json in one
place, and the OpenAPI document is generated (`shared.openapi`), so the contract cannot drift
from the code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, get_args, get_origin
from urllib.parse import urlencode

from chalice.app import Blueprint, CognitoUserPoolAuthorizer, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import (
    PROBLEM_CONTENT_TYPE,
    DomainError,
    InternalError,
    MalformedJson,
    PayloadTooLarge,
    UnsupportedMediaType,
    invalid_from_pydantic,
)
from shared.http_idempotency import Answer, IdempotentAnswers, idempotency_key
from shared.identity import Caller, caller_from_claims
from shared.model import Model
from shared.settings import get_settings
from shared.storage import writes_for
from shared.text import load_json

# Chalice would refuse other media types with its own (non problem+json) 415; it is told to take
# any, and `_parse_body` answers anything but JSON with a problem of ours.
ACCEPT_ANY_CONTENT_TYPE = ["*/*"]
JSON_TYPES = ("application/json", "application/merge-patch+json")
MAX_BODY_BYTES = 256 * 1024  # documented limit for JSON bodies; mail bodies come by SES, not here
logger = logging.getLogger(__name__)
# Headers of our answers a browser's script may read: the version (for If-Match) and new places.
CORS_EXPOSED_HEADERS = "ETag,Location"
# API Gateway checks the agent's token on every route that is not declared public; the user pool
# it trusts is filled in by the stack (`infra.api`), and the local gateway plays its part.
AUTHORIZER_NAME = "agents"
AGENTS = CognitoUserPoolAuthorizer(AUTHORIZER_NAME, provider_arns=["${UserPoolArn}"])
B = TypeVar("B", bound=BaseModel)
Q = TypeVar("Q", bound=BaseModel)


class RequestModel(Model):
    """Base of request bodies: unknown fields are refused, so a typo is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(Model):
    model_config = ConfigDict(from_attributes=True)


@dataclass
class ApiRequest(Generic[B, Q]):
    caller: Caller
    path: dict[str, str]
    body: B
    query: Q
    headers: dict[str, str]
    request_id: str
    # As received, for routes that check a signature over the request (webhooks).
    method: str = ""
    raw_body: bytes = b""
    url: str = ""  # the public URL the caller addressed: scheme, host, path and query


@dataclass
class Reply:
    """A view's answer when it needs a status or headers other than the route's defaults."""

    body: BaseModel | None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HtmlPage:
    """A view's answer for a person's browser rather than a program: a small HTML page that may
    load nothing and run nothing (its only style is allowed by its hash), is never cached and
    never tells another site the address it was opened at (its link may be a credential)."""

    html: str
    status: int = 200
    style: str = ""

    def headers(self) -> dict[str, str]:
        digest = base64.b64encode(hashlib.sha256(self.style.encode()).digest()).decode()
        return {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{digest}'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    name: str
    summary: str
    tag: str
    status: int
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    authenticated: bool
    errors: tuple[int, ...]
    idempotent: bool = False  # takes an `Idempotency-Key`


# POSTs answering these statuses create something: they take an `Idempotency-Key`, unless their
# declaration says otherwise (and other operations that create say so).
CREATED_STATUSES = (201, 202)


def cors_headers() -> dict[str, str]:
    """What lets the console read an answer when it is served from another origin."""
    origin = get_settings().console_origin
    if origin is None:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": CORS_EXPOSED_HEADERS,
        "Vary": "Origin",
    }


def problem_response(error: DomainError, instance: str | None = None) -> Response:
    return Response(
        body=json.dumps(error.to_problem(instance)),
        status_code=error.status,
        headers={"Content-Type": PROBLEM_CONTENT_TYPE, **cors_headers()},
    )


class Api:
    """The routes of one service, registered on a Chalice blueprint and described for OpenAPI."""

    def __init__(self, import_name: str, tag: str, service: str | None = None) -> None:
        """`service`: whose idempotency table keeps the answers of idempotent operations."""
        self.blueprint = Blueprint(import_name)
        self.tag = tag
        self.operations: list[Operation] = []
        self._answers = (
            IdempotentAnswers(lambda: get_settings().idempotency_table(service))
            if service is not None
            else None
        )

    def route(
        self,
        path: str,
        method: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        authenticated: bool = True,
        errors: tuple[int, ...] = (),
        tag: str | None = None,
        idempotent: bool | None = None,
    ) -> Callable[[Callable[[ApiRequest[Any, Any]], Any]], Callable[..., Any]]:
        method = method.upper()
        if idempotent is None:
            idempotent = method == "POST" and status in CREATED_STATUSES and authenticated
        if idempotent and (not authenticated or self._answers is None):
            raise ValueError(f"{method} {path}: idempotent routes need a caller and a service")
        if body is not None:  # every body can be malformed, too large or of the wrong type
            errors = tuple(sorted({*errors, 400, 413, 415}))
        if idempotent:  # a key still in progress, or used for another request
            errors = tuple(sorted({*errors, 409, 422}))

        def register(view: Callable[[ApiRequest[Any, Any]], Any]) -> Callable[..., Any]:
            operation = Operation(
                path,
                method,
                view.__name__,
                summary,
                tag or self.tag,
                status,
                body,
                query,
                response,
                authenticated,
                errors,
                idempotent,
            )
            self.operations.append(operation)

            def chalice_view(**path_params: str) -> Response:
                return self._dispatch(operation, view, path_params)

            chalice_view.__name__ = view.__name__
            self.blueprint.route(
                path,
                methods=[method],
                name=view.__name__,
                content_types=ACCEPT_ANY_CONTENT_TYPE,
                authorizer=AGENTS if authenticated else None,
            )(chalice_view)
            return view

        return register

    def _dispatch(
        self, operation: Operation, view: Callable[..., Any], path_params: dict[str, str]
    ) -> Response:
        request = self.blueprint.current_request
        instance = request.context.get("path") or operation.path
        try:
            api_request = ApiRequest(
                caller=self._caller(request, operation),
                path=path_params,
                body=_parse_body(request.raw_body, request.headers, operation.body),
                query=_parse_query(request.query_params, operation.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                request_id=request.context.get("requestId", ""),
                method=request.method,
                raw_body=_body_bytes(request.raw_body),
                url=public_url(request),
            )
            key = idempotency_key(api_request.headers) if operation.idempotent else None
            origin = _work_origin(api_request, key)

            def answer() -> Answer:
                with writes_for(origin):
                    return _answer(operation, view(api_request))

            if key is not None and self._answers is not None:
                answered = self._answers.answer_once(
                    f"{api_request.caller.subject}:{key}",
                    _identity(operation, api_request),
                    answer,
                    request.lambda_context,
                )
            else:
                answered = answer()
        except DomainError as error:
            return problem_response(error, instance)
        except Exception:
            logger.exception("unhandled error", extra={"operation": operation.name})
            return problem_response(InternalError("Something went wrong on our side."), instance)
        return Response(
            body=answered.body,
            status_code=answered.status,
            headers={**answered.headers, **cors_headers()},
        )

    @staticmethod
    def _caller(request: Any, operation: Operation) -> Caller:
        if not operation.authenticated:
            return Caller(email="", role="agent")
        return caller_from_claims((request.context.get("authorizer") or {}).get("claims"))


def _answer(operation: Operation, result: Any) -> Answer:
    if isinstance(result, HtmlPage):
        return Answer(status=result.status, body=result.html, headers=result.headers())
    reply = result if isinstance(result, Reply) else Reply(result)
    headers = dict(reply.headers)
    if reply.body is not None:
        headers["Content-Type"] = "application/json"
    return Answer(
        status=reply.status or operation.status,
        body="" if reply.body is None else reply.body.model_dump_json(by_alias=True),
        headers=headers,
    )


def _work_origin(request: ApiRequest[Any, Any], key: str | None) -> str | None:
    """What names the request's work on every attempt (its transactions' tokens derive from it):
    the caller's key, or else API Gateway's id of the request."""
    if key is not None:
        return f"key:{request.caller.subject}:{key}"
    return f"request:{request.request_id}" if request.request_id else None


def _identity(operation: Operation, request: ApiRequest[Any, Any]) -> dict[str, Any]:
    """What makes a request the same request again: its operation, resource and body as sent."""
    body = request.body
    return {
        "operation": operation.name,
        "path": request.path,
        "body": body.model_dump(mode="json", exclude_unset=True) if body is not None else None,
    }


def _body_bytes(raw: str | bytes | None) -> bytes:
    """The body as sent: chalice has already decoded API Gateway's base64 (`isBase64Encoded`)."""
    return raw.encode() if isinstance(raw, str) else (raw or b"")


def public_url(request: Any) -> str:
    """The URL as the caller wrote it: API Gateway's `requestContext.path` keeps the stage and
    base path that the route's own path drops. Behind the edge (CloudFront), the caller wrote the
    edge's host, which it forwards as `X-Forwarded-Host`, and no stage."""
    path = request.context.get("path") or request.path
    host = request.headers.get("x-forwarded-host")
    if host:
        path = path.removeprefix(f"/{request.context.get('stage', '')}")
    else:
        host = request.headers.get("host")
    if not host:
        return ""
    scheme = request.headers.get("x-forwarded-proto") or "https"
    params = request.query_params
    query = urlencode([(k, v) for k in params for v in params.getlist(k)]) if params else ""
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")


def _parse_body(raw: str | bytes | None, headers: Any, model: type[B] | None) -> Any:
    if model is None:
        return None
    content_type = (headers.get("content-type") or JSON_TYPES[0]).split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise UnsupportedMediaType(f"Send the body as application/json, not {content_type}.")
    raw = _body_bytes(raw)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        document = load_json(raw or b"{}")
    except ValueError as exc:  # not UTF-8, not JSON, or nested too deep
        raise MalformedJson(f"The request body is not valid JSON: {exc}") from exc
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from exc


def _parse_query(params: Any, model: type[Q] | None) -> Any:
    if model is None:
        return None
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if params is None or key not in params:
            continue
        repeatable = get_origin(info.annotation) is list or any(
            get_origin(arg) is list for arg in get_args(info.annotation)
        )
        values[key] = params.getlist(key) if repeatable else params.get(key)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, location="query") from exc
