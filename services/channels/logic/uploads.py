"""Files agents attach to their replies: uploaded straight to the mail bucket with a short-lived
presigned POST (API Gateway could not carry them: 10 MB at most, base64 on the way), then named
on the message by key. Keys live under `uploads/` with a random part, so a message can name only
files someone uploaded for a reply, never a client's mail.

An upload no message names is forgotten after UNNAMED_UPLOAD_DAYS: the form tags it
UNNAMED_UPLOAD_TAG and the bucket's lifecycle expires what still carries that tag. When a reply
names it, the tag is replaced, so the file stays under the key the message keeps (a copy elsewhere
would leave the message naming a file about to go)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

UPLOADS_PREFIX = "uploads/"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # SES sends mails of 10 MB at most, headers and all
UPLOAD_WINDOW = timedelta(minutes=15)
UNNAMED_UPLOAD_DAYS = 7  # long enough for a reply drafted over a weekend
UPLOAD_TAG_KEY = "upload"
UNNAMED_UPLOAD_TAG = (UPLOAD_TAG_KEY, "unnamed")
NAMED_UPLOAD_TAG = (UPLOAD_TAG_KEY, "named")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadForm:
    key: str
    url: str
    fields: dict[str, str]
    expires_at: datetime


class UploadSigner(Protocol):
    def presign_upload(
        self, key: str, content_type: str, size: int, expires_in: timedelta
    ) -> tuple[str, dict[str, str]]:
        """The URL and form fields of a POST that may store exactly this file under `key`."""
        ...


def upload_form(
    name: str, content_type: str, size: int, signer: UploadSigner, now: datetime
) -> UploadForm:
    key = f"{UPLOADS_PREFIX}{uuid.uuid4()}/{UNSAFE.sub('_', name)[:100]}"
    url, fields = signer.presign_upload(key, content_type, size, UPLOAD_WINDOW)
    return UploadForm(key, url, fields, now + UPLOAD_WINDOW)
