"""The mail bucket: raw MIME that SES stored, the attachments taken out of it, and the files
agents upload for their replies."""

from __future__ import annotations

import re
from datetime import timedelta

from botocore.exceptions import ClientError

from services.channels.logic.mail_parser import ParsedAttachment
from services.channels.logic.receive_mail import INBOUND_PREFIX
from services.channels.logic.uploads import NAMED_UPLOAD_TAG, UNNAMED_UPLOAD_TAG, UPLOADS_PREFIX
from shared.aws import client
from shared.events.catalogue import Attachment
from shared.settings import get_settings

ATTACHMENTS_PREFIX = "attachments/"
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MISSING = ("NoSuchKey", "404")
DELETE_BATCH = 1000  # keys S3 deletes in one request


class S3MailStore:
    def __init__(self) -> None:
        self._bucket = get_settings().mail_bucket

    def raw(self, key: str) -> bytes | None:
        try:
            body: bytes = client("s3").get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise
        return body

    def presign_upload(
        self, key: str, content_type: str, size: int, expires_in: timedelta
    ) -> tuple[str, dict[str, str]]:
        # The policy pins the key, the type, the size and the tag: the form stores that file and
        # no other, marked as named by no message yet.
        tagging = _tagging(*UNNAMED_UPLOAD_TAG)
        form = client("s3").generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type, "tagging": tagging},
            Conditions=[
                {"Content-Type": content_type},
                {"tagging": tagging},
                ["content-length-range", size, size],
            ],
            ExpiresIn=int(expires_in.total_seconds()),
        )
        return form["url"], form["fields"]

    def keep_uploads(self, keys: list[str]) -> None:
        tag_key, tag_value = NAMED_UPLOAD_TAG
        for key in keys:
            if not key.startswith(UPLOADS_PREFIX):
                continue  # only uploads expire unnamed
            try:
                client("s3").put_object_tagging(
                    Bucket=self._bucket,
                    Key=key,
                    Tagging={"TagSet": [{"Key": tag_key, "Value": tag_value}]},
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in MISSING:
                    raise
                # Never uploaded: sending the reply fails and says so.

    def keep_upload_folders(self, folders: list[str]) -> None:
        """Keep every file under these upload folders (a note names them without file names)."""
        pages = (
            client("s3").get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=f)
            for f in folders
            if f.startswith(UPLOADS_PREFIX) and f != UPLOADS_PREFIX
        )
        self.keep_uploads(
            [item["Key"] for p in pages for page in p for item in page.get("Contents", [])]
        )

    def keep_attachments(
        self, ses_message_id: str, files: list[ParsedAttachment]
    ) -> list[Attachment]:
        kept = []
        for number, file in enumerate(files, start=1):
            # Keyed by position and a safe form of the name: the same mail stores the same keys.
            key = f"{_attachments_of(ses_message_id)}{number}-{UNSAFE.sub('_', file.name)[:100]}"
            # Stored as a download: whatever reads it straight from the bucket saves it rather
            # than showing it (the tickets API's links also say so, with the file's name).
            client("s3").put_object(
                Bucket=self._bucket,
                Key=key,
                Body=file.data,
                ContentType=file.content_type,
                ContentDisposition="attachment",
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

    def delete_mail(self, ses_message_ids: list[str]) -> None:
        s3 = client("s3")
        keys = [INBOUND_PREFIX + ses_message_id for ses_message_id in ses_message_ids]
        for ses_message_id in ses_message_ids:
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=_attachments_of(ses_message_id)
            )
            keys += [item["Key"] for page in pages for item in page.get("Contents", [])]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            answer = s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            if answer.get("Errors"):  # S3 answers 200 even when it kept some: try again later
                raise RuntimeError(f"S3 kept {len(answer['Errors'])} objects it was to delete")


def _attachments_of(ses_message_id: str) -> str:
    return f"{ATTACHMENTS_PREFIX}{ses_message_id}/"


def _tagging(key: str, value: str) -> str:
    """A tag set as the POST form's `tagging` field carries it."""
    return f"<Tagging><TagSet><Tag><Key>{key}</Key><Value>{value}</Value></Tag></TagSet></Tagging>"
