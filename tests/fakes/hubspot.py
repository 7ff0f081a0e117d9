"""A fake HubSpot on loopback: the CRM v3 contacts endpoints the connector uses, answering in
HubSpot's documented request and response shapes, with switches for rate limits, outages and
the search API's cap; and webhook requests signed as HubSpot signs them.

Records live in memory; `updatedAt`/`lastmodifieddate` are what the tests set, so windows and
their boundaries are exact.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SEARCH_CAP = 10_000
TOKEN = "pat-test-token"
CLIENT_SECRET = "test-client-secret"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ms(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


@dataclass
class Contact:
    id: str
    email: str | None
    firstname: str | None = None
    lastname: str | None = None
    phone: str | None = None
    company: str | None = None
    additional_emails: list[str] = field(default_factory=list)
    updated_at: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    archived_at: datetime | None = None
    merged_into: str | None = None
    merged_ids: list[str] = field(default_factory=list)

    def result(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "email": self.email,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "phone": self.phone,
            "company": self.company,
            "hs_additional_emails": ";".join(self.additional_emails) or None,
            "lastmodifieddate": iso(self.updated_at),
            "hs_merged_object_ids": ";".join(self.merged_ids) or None,
            "hs_object_id": self.id,
        }
        answer: dict[str, Any] = {
            "id": self.id,
            "properties": properties,
            "createdAt": iso(datetime(2025, 1, 1, tzinfo=UTC)),
            "updatedAt": iso(self.updated_at),
            "archived": self.archived_at is not None,
        }
        if self.archived_at is not None:
            answer["archivedAt"] = iso(self.archived_at)
        return answer


@dataclass
class Refusal:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeHubSpot:
    """Serves on 127.0.0.1 on a free port; `url` is its base URL."""

    def __init__(self, search_cap: int = SEARCH_CAP) -> None:
        self.contacts: dict[str, Contact] = {}
        self.notes: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, Any]] = []  # method, path with query, JSON body
        self.search_cap = search_cap
        self.refusals: list[Refusal] = []  # answered, in order, before anything is served
        self.down = False
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeHubSpot:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- arranging ----------------------------------------------------------------------------

    def add(self, email: str | None, updated_at: datetime, **fields: Any) -> Contact:
        contact = Contact(str(next(self._ids)), email, updated_at=updated_at, **fields)
        self.contacts[contact.id] = contact
        return contact

    def merge(self, merged_id: str, into: str, at: datetime) -> None:
        merged, survivor = self.contacts[merged_id], self.contacts[into]
        merged.merged_into, merged.archived_at = into, at
        survivor.merged_ids.append(merged_id)
        survivor.updated_at = at

    def rate_limit(self, times: int = 1, retry_after: int = 2, daily: bool = False) -> None:
        body = {
            "status": "error",
            "message": "You have reached your daily limit."
            if daily
            else "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": "c0ffee",
            "policyName": "DAILY" if daily else "TEN_SECONDLY_ROLLING",
        }
        headers = {} if daily else {"Retry-After": str(retry_after)}
        self.refusals += [Refusal(429, body, headers) for _ in range(times)]

    def searches(self) -> list[dict[str, Any]]:
        return [body for method, path, body in self.requests if path.endswith("/search")]

    # --- serving ------------------------------------------------------------------------------

    def answer(self, method: str, target: str, body: Any, token: str) -> Refusal:
        with self._lock:
            self.requests.append((method, target, body))
            if self.down:
                return Refusal(503, {"status": "error", "message": "Service Unavailable"})
            if self.refusals:
                return self.refusals.pop(0)
            if token != TOKEN:
                return Refusal(401, {"status": "error", "category": "INVALID_AUTHENTICATION"})
            return self._route(method, target, body)

    def _route(self, method: str, target: str, body: Any) -> Refusal:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        if (method, path) == ("GET", "/crm/v3/objects/contacts"):
            return self._list(query)
        if (method, path) == ("POST", "/crm/v3/objects/contacts/search"):
            return self._search(body)
        if (method, path) == ("POST", "/crm/v3/objects/contacts/batch/read"):
            return self._batch_read(body)
        if (method, path) == ("POST", "/crm/v3/objects/contacts"):
            properties = body["properties"]
            contact = self.add(
                properties["email"],
                datetime.now(UTC),
                firstname=properties.get("firstname"),
                lastname=properties.get("lastname"),
                phone=properties.get("phone"),
                company=properties.get("company"),
            )
            return Refusal(201, contact.result())
        if (method, path) == ("POST", "/crm/v3/objects/notes"):
            note = {"id": str(next(self._ids)), **body}
            self.notes.append(note)
            return Refusal(201, {"id": note["id"], "properties": body["properties"]})
        return Refusal(404, {"status": "error", "message": f"no route {method} {path}"})

    def _list(self, query: dict[str, list[str]]) -> Refusal:
        archived = query.get("archived", ["false"])[0] == "true"
        limit = int(query.get("limit", ["10"])[0])
        after = int(query.get("after", ["0"])[0])
        wanted = [
            c
            for c in sorted(self.contacts.values(), key=lambda c: int(c.id))
            if (c.archived_at is not None) == archived and int(c.id) > after
        ]
        return Refusal(
            200, _paged(wanted[:limit], str(wanted[limit - 1].id) if len(wanted) > limit else None)
        )

    def _search(self, body: dict[str, Any]) -> Refusal:
        after = int(body.get("after") or 0)
        if after >= self.search_cap:
            return Refusal(400, {"status": "error", "message": "paging beyond the result cap"})
        found = [c for c in self.contacts.values() if c.archived_at is None]
        for group in body["filterGroups"]:  # one group in what the connector sends
            for f in group["filters"]:
                found = [c for c in found if _matches(c, f)]
        found.sort(key=lambda c: (c.updated_at, int(c.id)))
        limit = int(body.get("limit", 10))
        page = found[after : after + limit]
        more = after + limit < len(found)
        answer = _paged(page, str(after + limit) if more else None)
        answer["total"] = len(found)
        return Refusal(200, answer)

    def _batch_read(self, body: dict[str, Any]) -> Refusal:
        results, missing = {}, []
        for wanted in body["inputs"]:
            contact = self.contacts.get(str(wanted["id"]))
            while contact is not None and contact.merged_into is not None:
                contact = self.contacts.get(contact.merged_into)
            if contact is None or contact.archived_at is not None:
                missing.append(str(wanted["id"]))
            else:
                results[contact.id] = contact.result()
        answer: dict[str, Any] = {"status": "COMPLETE", "results": list(results.values())}
        if missing:
            answer["errors"] = [
                {"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": missing}}
            ]
            return Refusal(207, answer)
        return Refusal(200, answer)


def _matches(contact: Contact, condition: dict[str, Any]) -> bool:
    name, operator, value = condition["propertyName"], condition["operator"], condition["value"]
    if name == "lastmodifieddate":
        at = ms(contact.updated_at)
        return at >= int(value) if operator == "GTE" else at <= int(value)
    if name == "email" and operator == "EQ":
        return (contact.email or "").lower() == str(value).lower()
    raise AssertionError(f"the fake does not filter on {name} {operator}")


def _paged(contacts: list[Contact], after: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"results": [c.result() for c in contacts]}
    if after is not None:
        answer["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return answer


def _handler(fake: FakeHubSpot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            answer = fake.answer(self.command, self.path, json.loads(raw) if raw else None, token)
            data = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- webhooks -------------------------------------------------------------------------------

_event_ids = itertools.count(1)


def webhook_event(kind: str, object_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """One event as HubSpot delivers it (a request carries a list of them)."""
    return {
        "eventId": next(_event_ids),
        "subscriptionId": 12345,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": ms(at),
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM",
        **fields,
    }


def signed_headers(
    url: str, body: bytes, at: datetime, secret: str = CLIENT_SECRET, method: str = "POST"
) -> dict[str, str]:
    """The headers HubSpot sends: base64(HMAC-SHA256(client secret, method + URI + body +
    timestamp)), written here from HubSpot's documentation, apart from the code under test."""
    timestamp = str(ms(at))
    signed = method.encode() + url.encode() + body + timestamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature.decode(),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
