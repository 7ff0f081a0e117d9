"""Put the built console (`console/dist`) and its `config.json` into the console's bucket.

Built assets carry their content's hash in their names and never change: browsers and CloudFront
keep them a year. `index.html` and `config.json` name what is current, so they are revalidated
on every load and invalidated on the distribution after a deployment changes them. Only files
whose content or headers changed are uploaded; `index.html` goes last, once everything it names
is there.

An agent's open tab keeps loading chunks of the build it started with, so the files of the build
that was live until now are kept and only older ones removed: the bucket keeps a list of the
files of the current build (`deployed.json`) to know which those are.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import ClientError

from shared.aws import client

INDEX = "index.html"
CONFIG = "config.json"
MANIFEST = "deployed.json"
ASSETS = "assets/"  # where the build puts the files named by their content's hash
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NEVER_STORE = "no-store"
POLL_SECONDS = 30  # how often the queue looks for new tickets
DIGEST_METADATA = "sha256"
DELETE_BATCH = 1000  # S3 deletes at most this many objects in one request
# The build's kinds of file, named here rather than by the deploying machine's MIME table: the
# type is compared with the stored one, and another machine's table would upload everything again.
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class File:
    key: str
    body: bytes
    content_type: str
    cache_control: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def content_type(name: str) -> str:
    known = TYPES.get(PurePosixPath(name).suffix.lower())
    kind = known or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith(("javascript", "json")):
        kind += "; charset=utf-8"
    return kind


def built_files(dist: Path) -> list[File]:
    """Every file of the build (not the build's own bookkeeping, which starts with a dot)."""
    files = []
    for path in sorted(dist.rglob("*")):
        key = path.relative_to(dist).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in key.split("/")):
            cache = IMMUTABLE if key.startswith(ASSETS) else REVALIDATE
            files.append(File(key, path.read_bytes(), content_type(key), cache))
    if not any(file.key == INDEX for file in files):
        raise FileNotFoundError(f"{dist / INDEX} is missing: the console is not built")
    return files


def console_config(
    region: str,
    pool_id: str,
    client_id: str,
    *,
    endpoint: str | None = None,
    auth_flow: str = "USER_SRP_AUTH",
    local: bool = False,
    poll_seconds: int = POLL_SECONDS,
) -> dict[str, Any]:
    """What the console reads at start (console/src/config.ts): the API on its own address, the
    user pool to sign in with (by SRP in AWS). Only the local stack offers dev tokens."""
    return {
        "api_base": "",
        "user_pool": {
            "region": region,
            "pool_id": pool_id,
            "client_id": client_id,
            "endpoint": endpoint,
            "auth_flow": auth_flow,
        },
        "dev_tokens": local,
        "local": local,
        "poll_seconds": poll_seconds,
    }


def config_file(region: str, pool_id: str, client_id: str) -> File:
    body = json.dumps(console_config(region, pool_id, client_id), indent=2).encode()
    return File(CONFIG, body, content_type(CONFIG), NEVER_STORE)


@dataclass(frozen=True)
class Published:
    uploaded: list[str]
    removed: list[str]

    def stale_paths(self) -> list[str]:
        """The edge's paths that may now serve an older copy: every uploaded file that is not
        immutable, and `/`, which is index.html."""
        paths = [f"/{key}" for key in self.uploaded if not key.startswith(ASSETS)]
        return (["/"] if INDEX in self.uploaded else []) + paths


def publish(bucket: str, files: Sequence[File]) -> Published:
    """Upload what changed, index.html last; then forget builds older than the previous one."""
    previous = set(_manifest(bucket))
    ordered = sorted(files, key=lambda file: file.key == INDEX)
    uploaded = [file.key for file in ordered if _put_if_changed(bucket, file)]
    build = sorted(file.key for file in files if file.key != CONFIG)
    manifest = File(MANIFEST, json.dumps(build).encode(), content_type(MANIFEST), NEVER_STORE)
    _put_if_changed(bucket, manifest)
    keep = previous | {file.key for file in files} | {MANIFEST}
    removed = sorted(set(_keys(bucket)) - keep)
    _delete(bucket, removed)
    return Published(uploaded, removed)


def empty(bucket: str) -> None:
    """Delete every file, so that CloudFormation can delete the bucket."""
    try:
        _delete(bucket, _keys(bucket))
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucket":
            raise


def invalidate(distribution_id: str, paths: Sequence[str]) -> None:
    client("cloudfront").create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            # Unique each time: a reference used before returns that earlier invalidation.
            "CallerReference": uuid.uuid4().hex,
        },
    )


def _put_if_changed(bucket: str, file: File) -> bool:
    if _stored(bucket, file.key) == (file.digest, file.content_type, file.cache_control):
        return False
    client("s3").put_object(
        Bucket=bucket,
        Key=file.key,
        Body=file.body,
        ContentType=file.content_type,
        CacheControl=file.cache_control,
        Metadata={DIGEST_METADATA: file.digest},
    )
    return True


def _stored(bucket: str, key: str) -> tuple[str, str, str] | None:
    try:
        head: dict[str, Any] = client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return (
        head.get("Metadata", {}).get(DIGEST_METADATA, ""),
        head.get("ContentType", ""),
        head.get("CacheControl", ""),
    )


def _manifest(bucket: str) -> list[str]:
    """The files of the build live until now; none before the first deployment."""
    try:
        body = client("s3").get_object(Bucket=bucket, Key=MANIFEST)["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchKey":
            return []
        raise
    return [str(key) for key in json.loads(body)]


def _keys(bucket: str) -> list[str]:
    pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _delete(bucket: str, keys: Iterable[str]) -> None:
    keys = list(keys)
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
        answer = client("s3").delete_objects(
            Bucket=bucket, Delete={"Objects": batch, "Quiet": True}
        )
        if answer.get("Errors"):
            failed = ", ".join(f"{e['Key']}: {e['Code']}" for e in answer["Errors"][:5])
            raise RuntimeError(f"{bucket}: could not delete {failed}")
