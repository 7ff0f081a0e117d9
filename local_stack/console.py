"""The agent console on the local stack: its built files at `/`, the `config.json` it starts from,
and the user pool's API on the console's own address (as in AWS the browser calls Cognito). Files,
headers and configuration follow what a deployment uploads (`infra.console_upload`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from infra.console_build import DIST
from infra.console_stack import content_security_policy
from infra.console_upload import (
    ASSETS,
    IMMUTABLE,
    INDEX,
    NEVER_STORE,
    REVALIDATE,
    console_config,
    content_type,
)
from local_stack.user_pool import LocalUserPool

COGNITO_PATH = "/local/cognito"
POLL_SECONDS = 15  # how often the queue looks for new tickets: locally sooner than in AWS
COGNITO_TIMEOUT_SECONDS = 10
# The emulator checks a password only in the plain flow (its SRP accepts any): locally the
# console signs in with that one; in AWS with SRP.
LOCAL_POOL_FLOW = "USER_PASSWORD_AUTH"
TEXT = "text/plain; charset=utf-8"
Answer = tuple[int, dict[str, str], bytes]


class ConsoleSite:
    def __init__(
        self,
        user_pool: LocalUserPool,
        aws_endpoint: str,
        region: str,
        root: Path = DIST,
        files: str | None = None,
    ) -> None:
        self._root = root.resolve()
        self._aws_endpoint = aws_endpoint
        # The emulator's address stands for the mail bucket's: uploads are posted there. Inline
        # images of mail load from the gateway, which serves files as the edge does (its own
        # address in AWS; locally the console may be opened by another name for it).
        self._security = {
            "Content-Security-Policy": content_security_policy(
                [aws_endpoint], [files] if files else []
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        self.config = console_config(
            region,
            user_pool.pool_id,
            user_pool.client_id,
            endpoint=COGNITO_PATH,
            auth_flow=LOCAL_POOL_FLOW,
            local=True,
            poll_seconds=POLL_SECONDS,
        )

    def file(self, path: str) -> Answer | None:
        """The answer to a GET of the console's `path`, or None if it is not the console's."""
        if path == "/config.json":
            body = json.dumps(self.config).encode()
            return 200, self._headers("application/json", NEVER_STORE), body
        if path in ("/", f"/{INDEX}"):
            name = INDEX
        elif path.startswith(f"/{ASSETS}"):
            name = path.lstrip("/")
        else:
            return None
        target = (self._root / name).resolve()
        if not target.is_relative_to(self._root) or not target.is_file():
            if name == INDEX:
                text = b"The console is not built yet: make run builds it (make console alone)."
                return 503, self._headers(TEXT, NEVER_STORE), text
            return 404, self._headers(TEXT, NEVER_STORE), b"Not found"
        cache = REVALIDATE if name == INDEX else IMMUTABLE
        return 200, self._headers(content_type(name), cache), target.read_bytes()

    def _headers(self, kind: str, cache: str) -> dict[str, str]:
        return {"Content-Type": kind, "Cache-Control": cache, **self._security}

    def cognito(self, headers: dict[str, str], body: bytes) -> Answer:
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


def _kept(headers: Any) -> dict[str, str]:
    return {
        "Content-Type": headers.get("Content-Type", "application/x-amz-json-1.1"),
        "Cache-Control": NEVER_STORE,
    }
