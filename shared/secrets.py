"""Secrets by reference: the value itself on a laptop, an SSM SecureString parameter or a Secrets
Manager secret in AWS, read on first use and cached for a few minutes (rotation then takes effect
without a deployment)."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities import parameters

from shared.aws import client

CACHE_SECONDS = 300
SECRETS_MANAGER = "arn:aws:secretsmanager:"


@cache
def _ssm() -> parameters.SSMProvider:
    return parameters.SSMProvider(boto3_client=client("ssm"))


@cache
def _secrets_manager() -> parameters.SecretsProvider:
    return parameters.SecretsProvider(boto3_client=client("secretsmanager"))


def resolve_secret(value: str | None, reference: str | None) -> str | None:
    """`value` when given; otherwise what `reference` names: a Secrets Manager ARN, or the name
    of an SSM parameter (decrypted)."""
    if value is not None or reference is None:
        return value
    if reference.startswith(SECRETS_MANAGER):
        found = _secrets_manager().get(reference, max_age=CACHE_SECONDS)
    else:
        found = _ssm().get(reference, max_age=CACHE_SECONDS, decrypt=True)
    return None if found is None else str(found)


def forget_secrets() -> None:
    """Drop the providers and what they cached (tests switch emulators)."""
    _ssm.cache_clear()
    _secrets_manager.cache_clear()
