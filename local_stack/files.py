"""The edge's file behaviours on the local stack: the gateway serves the files of messages from the
emulated mail bucket under their prefixes, to links signed as CloudFront checks them (canned
policy, the stage's key, expiry by the one clock), with the headers the edge adds
(`infra.file_links`). The local stack makes a key pair per start: a link lives minutes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from botocore.exceptions import ClientError

from infra.file_links import FILE_HEADERS, FILE_PREFIXES, new_private_key, public_key
from shared.aws import client
from shared.clock import get_clock
from shared.settings import Settings

LOCAL_KEY_ID = "LOCALFILELINKS"
SIGNATURE_PARAMETERS = ("Expires", "Signature", "Key-Pair-Id")
CHUNK_BYTES = 64 * 1024
TEXT = "text/plain; charset=utf-8"


def signing_environment() -> dict[str, str]:
    """The settings that let the tickets API sign links locally, with a key made now."""
    return {
        "HELPDESK_FILE_LINK_KEY": new_private_key(),
        "HELPDESK_FILE_LINK_KEY_ID": LOCAL_KEY_ID,
    }


@dataclass
class FileAnswer:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: Iterator[bytes] | None = None  # the object's bytes, read as they are sent


class LocalFiles:
    def __init__(self, settings: Settings) -> None:
        from cryptography.hazmat.primitives import serialization

        if not (settings.edge_url and settings.file_link_key):
            raise ValueError("serving files needs HELPDESK_EDGE_URL and HELPDESK_FILE_LINK_KEY")
        self._edge = settings.edge_url.rstrip("/")
        self._key_id = settings.file_link_key_id
        self._public_key: Any = serialization.load_pem_public_key(
            public_key(settings.file_link_key).encode()
        )
        self._bucket = settings.mail_bucket

    @staticmethod
    def serves(path: str) -> bool:
        return any(path.startswith(f"/{prefix}") for prefix in FILE_PREFIXES)

    def answer(self, method: str, target: str) -> FileAnswer:
        """What the edge answers to `target` (path and query) under a file prefix."""
        path, _, query = target.partition("?")
        if method not in ("GET", "HEAD") or not self.signed(target):
            return _refused()
        overrides = parse_qs(query)
        key = unquote(path.lstrip("/"))
        s3 = client("s3")
        try:
            found = (
                s3.head_object(Bucket=self._bucket, Key=key)
                if method == "HEAD"
                else s3.get_object(Bucket=self._bucket, Key=key)
            )
        except ClientError:
            return _refused()  # as S3 answers the edge, which may not list the bucket
        headers = {
            "Content-Type": _override(overrides, "response-content-type")
            or found.get("ContentType", "binary/octet-stream"),
            "Content-Length": str(found["ContentLength"]),
            **FILE_HEADERS,
        }
        if disposition := (
            _override(overrides, "response-content-disposition") or found.get("ContentDisposition")
        ):
            headers["Content-Disposition"] = disposition
        body = found.get("Body")
        return FileAnswer(200, headers, stream=body.iter_chunks(CHUNK_BYTES) if body else None)

    def signed(self, target: str) -> bool:
        """Whether the URL carries a signature of its canned policy by the stage's key, for
        that key, and has not expired."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        path, _, query = target.partition("?")
        kept, signed = [], {}
        for pair in query.split("&") if query else []:
            name, _, value = pair.partition("=")
            if name in SIGNATURE_PARAMETERS:
                signed[name] = value
            else:
                kept.append(pair)
        if set(signed) != set(SIGNATURE_PARAMETERS) or signed["Key-Pair-Id"] != self._key_id:
            return False
        if not signed["Expires"].isdigit():
            return False
        expires = int(signed["Expires"])
        if get_clock().now().timestamp() >= expires:
            return False
        resource = f"{self._edge}{path}" + (f"?{'&'.join(kept)}" if kept else "")
        try:
            signature = base64.b64decode(
                signed["Signature"].translate(str.maketrans("-_~", "+=/")), validate=True
            )
            self._public_key.verify(
                signature,
                _canned_policy(resource, expires),
                padding.PKCS1v15(),
                hashes.SHA1(),  # noqa: S303 - what CloudFront signatures use
            )
        except (ValueError, InvalidSignature):
            return False
        return True


def _canned_policy(resource: str, expires: int) -> bytes:
    """The policy a canned-policy signature signs, which CloudFront rebuilds from the URL."""
    condition = {"DateLessThan": {"AWS:EpochTime": expires}}
    statement = {"Statement": [{"Resource": resource, "Condition": condition}]}
    return json.dumps(statement, separators=(",", ":")).encode()


def _override(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _refused() -> FileAnswer:
    return FileAnswer(403, {"Content-Type": TEXT, **FILE_HEADERS}, b"Access denied")
