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

from services.channels.logic.dependencies import Dependencies

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


def upload_form(name: str, content_type: str, size: int, deps: Dependencies) -> UploadForm:
    key = f"{UPLOADS_PREFIX}{uuid.uuid4()}/{UNSAFE.sub('_', name)[:100]}"
    url, fields = deps.mail_bucket.presign_upload(key, content_type, size, UPLOAD_WINDOW)
    return UploadForm(key, url, fields, deps.clock.now() + UPLOAD_WINDOW)
