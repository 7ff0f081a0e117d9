"""Lazily created AWS clients, one per service name per process.

Created on first use, never at import, so importing a service needs no AWS and tests can create
them inside the emulator. They follow `AWS_ENDPOINT_URL` like pynamodb does.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

import boto3
from botocore.config import Config

from shared.settings import get_settings

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=10
)


@cache
def _session() -> boto3.session.Session:
    # One session per process: it parses the service models once, however often clients are
    # made again (tests make new ones for every emulator they start).
    return boto3.session.Session()


@cache
def client(service_name: str) -> Any:
    # Typed per service by the stubs; callers here name the service at run time.
    factory = cast(Any, _session().client)
    return factory(service_name, region_name=get_settings().region, config=_CONFIG)


@cache
def signing_client(service_name: str) -> Any:
    """A client for presigned links: Signature Version 4, which bounds a link's life in what is
    signed (`X-Amz-Expires`) and is what S3 still accepts in every region."""
    factory = cast(Any, _session().client)
    config = _CONFIG.merge(Config(signature_version="s3v4"))
    return factory(service_name, region_name=get_settings().region, config=config)


def reset_process_state() -> None:
    """Forget cached clients and settings (tests switch emulators and environments)."""
    from shared.secrets import forget_secrets  # it builds on this module's clients

    client.cache_clear()
    signing_client.cache_clear()
    get_settings.cache_clear()
    forget_secrets()
