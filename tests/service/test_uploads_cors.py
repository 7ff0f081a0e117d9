"""Agents' browsers upload attachments straight to the mail bucket: its CORS rule, as the shared
stack declares it and the local stack gives it."""

from __future__ import annotations

from local_stack.system import LocalSystem
from shared.aws import client
from shared.settings import get_settings


def test_the_mail_bucket_lets_browsers_post_uploads_and_nothing_else(system: LocalSystem) -> None:
    (rule,) = client("s3").get_bucket_cors(Bucket=get_settings().mail_bucket)["CORSRules"]
    assert rule["AllowedMethods"] == ["POST"]
    assert rule["AllowedOrigins"] == ["*"]  # the signed form, not the origin, admits a file
