"""Typed domain errors and their HTTP form, RFC 9457 problem details.

Domain logic raises these; the HTTP layer (`shared.api`) turns them into
`application/problem+json` in one place. `type` values are stable: clients may branch on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://helpdesk.dev/problems/"


@dataclass
class FieldError:
    field: str  # dotted path into the request: "requester.email", "tags.2", "query.status"
    message: str


@dataclass
class DomainError(Exception):
    detail: str
    errors: list[FieldError] = field(default_factory=list)

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __str__(self) -> str:
        return self.detail

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        if self.errors:
            problem["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return problem


class BadRequest(DomainError):
    status, slug, title = 400, "bad-request", "Bad request"


class MalformedJson(DomainError):
    status, slug, title = 400, "malformed-json", "Request body is not valid JSON"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Not signed in"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "precondition-failed", "Stale version"


class NotReady(DomainError):
    """What the request needs is not set up yet (a deployment still under way): try again later."""

    status, slug, title = 503, "not-ready", "Not ready yet"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class MethodNotAllowed(DomainError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Invalid(DomainError):
    status, slug, title = 422, "validation", "Invalid input"


class InternalError(DomainError):
    status, slug, title = 500, "internal", "Internal error"


def invalid_from_pydantic(exc: Any, location: str | None = None) -> Invalid:
    """Turn a pydantic ValidationError into `Invalid` naming each field by its dotted path."""
    errors = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(part) for part in err["loc"]) or "body"
        if location:
            path = f"{location}.{path}"
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        errors.append(FieldError(path, message))
    names = ", ".join(e.field for e in errors)
    return Invalid(f"Invalid value for {names}", errors)


def not_found(kind: str, key: str) -> NotFound:
    """The same answer whether the thing is missing or hidden from the caller: no leak."""
    return NotFound(f"No {kind} {key!r}, or you may not see it.")
