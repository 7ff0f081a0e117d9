"""The mail bucket: raw MIME that SES stored, and the attachments taken out of it."""

from __future__ import annotations

import re

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
