"""The mail bucket: raw MIME that SES stored, and the attachments taken out of it."""

from __future__ import annotations

import re
from datetime import timedelta

from botocore.exceptions import ClientError

from services.channels.logic.mail_parser import ParsedAttachment
from shared.aws import client
from shared.events.catalogue import Attachment
from shared.settings import get_settings

ATTACHMENTS_PREFIX = "attachments/"
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class S3MailStore:
    def __init__(self) -> None:
        self._bucket = get_settings().mail_bucket

    def raw(self, key: str) -> bytes | None:
        try:
            body: bytes = client("s3").get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return body

    def presign_upload(
        self, key: str, content_type: str, size: int, expires_in: timedelta
    ) -> tuple[str, dict[str, str]]:
        # The policy pins the key, the type and the size: the form stores that file and no other.
        form = client("s3").generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=int(expires_in.total_seconds()),
        )
        return form["url"], form["fields"]

    def keep_attachments(
        self, ses_message_id: str, files: list[ParsedAttachment]
    ) -> list[Attachment]:
        kept = []
        for number, file in enumerate(files, start=1):
            # Keyed by position and a safe form of the name: the same mail stores the same keys.
            key = (
                f"{ATTACHMENTS_PREFIX}{ses_message_id}/{number}-{UNSAFE.sub('_', file.name)[:100]}"
            )
            client("s3").put_object(
                Bucket=self._bucket, Key=key, Body=file.data, ContentType=file.content_type
            )
            kept.append(
                Attachment(
                    name=file.name,
                    content_type=file.content_type,
                    size=file.size,
                    key=key,
                    content_id=file.content_id,
                )
            )
        return kept
