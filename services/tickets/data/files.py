"""Links to the files of messages in the mail bucket (the channels service stores them there)."""

from __future__ import annotations

from datetime import timedelta

from shared.aws import signing_client
from shared.settings import get_settings


class S3FileLinks:
    def download_url(
        self, key: str, content_disposition: str, content_type: str, expires_in: timedelta
    ) -> str:
        # The response headers are part of what is signed: the link cannot be changed to serve
        # the file in place or as another type.
        url: str = signing_client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": get_settings().mail_bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition,
                "ResponseContentType": content_type,
            },
            ExpiresIn=int(expires_in.total_seconds()),
        )
        return url
