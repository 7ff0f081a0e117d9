"""The agent console on the local stack: its built files at `/`, the `config.json` it starts from,
and the user pool's API on the console's own address (as in AWS the browser calls Cognito)."""

from __future__ import annotations

import json
import mimetypes
import urllib.error
import urllib.request
from typing import Any

from infra.console_build import DIST
from local_stack.user_pool import LocalUserPool

COGNITO_PATH = "/local/cognito"
POLL_SECONDS = 15  # how often the queue looks for new tickets
# What the console's pages may load and call: only their own address (nothing from a CDN).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
COGNITO_TIMEOUT_SECONDS = 10
# The emulator checks a password only in the plain flow (its SRP accepts any): locally the
# console signs in with that one; in AWS with SRP.
LOCAL_POOL_FLOW = "USER_PASSWORD_AUTH"


class ConsoleSite:
    def __init__(self, user_pool: LocalUserPool, aws_endpoint: str, region: str) -> None:
        self._root = DIST.resolve()
        self._aws_endpoint = aws_endpoint
        self.config = {
            "api_base": "",
            "user_pool": {
                "region": region,
                "pool_id": user_pool.pool_id,
                "client_id": user_pool.client_id,
                "endpoint": COGNITO_PATH,
                "auth_flow": LOCAL_POOL_FLOW,
            },
            "dev_tokens": True,
            "local": True,
            "poll_seconds": POLL_SECONDS,
        }

    def file(self, path: str) -> tuple[int, dict[str, str], bytes] | None:
        """The answer to a GET of the console's `path`, or None if it is not the console's."""
        if path == "/config.json":
            return 200, _headers("application/json", "no-store"), json.dumps(self.config).encode()
        if path in ("/", "/index.html"):
            name = "index.html"
        elif path.startswith("/assets/"):
            name = path.lstrip("/")
        else:
            return None
        target = (self._root / name).resolve()
        if not target.is_relative_to(self._root) or not target.is_file():
            if name == "index.html":
                text = b"The console is not built yet: make run builds it (make console alone)."
                return 503, _headers("text/plain; charset=utf-8", "no-store"), text
            return 404, _headers("text/plain; charset=utf-8", "no-store"), b"Not found"
        # Built assets carry their content's hash in the name, so they never change.
        cache = "no-cache" if name == "index.html" else "public, max-age=31536000, immutable"
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        return 200, _headers(kind, cache), target.read_bytes()

    def cognito(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Pass a call of Cognito's JSON API to the emulator, unchanged both ways."""
        wanted = {name.lower(): value for name, value in headers.items()}
        # The emulator's own http address, from the local stack.
        request = urllib.request.Request(self._aws_endpoint + "/", data=body, method="POST")  # noqa: S310
        for name in ("content-type", "x-amz-target", "x-amz-user-agent"):
            if name in wanted:
                request.add_header(name, wanted[name])
        try:
            with urllib.request.urlopen(request, timeout=COGNITO_TIMEOUT_SECONDS) as answer:  # noqa: S310
                return answer.status, _kept(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, _kept(error.headers), error.read()


def _headers(kind: str, cache: str) -> dict[str, str]:
    return {"Content-Type": kind, "Cache-Control": cache, **SECURITY_HEADERS}


def _kept(headers: Any) -> dict[str, str]:
    return {
        "Content-Type": headers.get("Content-Type", "application/x-amz-json-1.1"),
        "Cache-Control": "no-store",
    }
