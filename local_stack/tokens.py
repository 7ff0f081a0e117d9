"""The tokens the local gateway accepts, as API Gateway's Cognito authorizer would.

Two kinds: dev tokens, signed here with a key kept in the state folder (made on first use) and
carrying the claims a Cognito ID token would, a shortcut for trying the API; and the ID tokens of
the user pool the settings name (the emulator's, after `helpdesk sign-in`), verified against the
pool's published keys as the authorizer verifies them. Either way the gateway hands the claims to
the services where API Gateway puts them.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import requests

from shared.identity import ADMIN_GROUP
from shared.settings import Settings, get_settings

ISSUER = "helpdesk-local"
DEFAULT_ADMIN = "admin@example.com"
LIFETIME = timedelta(days=30)
# Dev tokens name their subject by the email, so the same agent is the same subject every time.
DEV_SUBJECTS = uuid.UUID("5d0c1f43-7a57-4a3e-9d6a-2f3c8a1e0b77")
KEYS_TIMEOUT_SECONDS = 5


def dev_subject(email: str) -> str:
    return str(uuid.uuid5(DEV_SUBJECTS, email.lower()))


class DevTokens:
    def __init__(self, key_file: Path) -> None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
        self._key = key_file.read_text().strip()
        self._pools: dict[tuple[str, str, str, str | None], UserPoolTokens] = {}

    def issue(self, email: str, role: str) -> str:
        if role not in ("admin", "agent"):
            raise ValueError("role is admin or agent")
        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "sub": dev_subject(email),
            "token_use": "id",
            "email": email.lower(),
            "email_verified": True,
            "cognito:groups": [ADMIN_GROUP] if role == "admin" else [],
            "iat": now,
            "exp": now + LIFETIME,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def claims(self, token: str) -> dict[str, Any] | None:
        """The claims of one of our dev tokens or of an ID token of the user pool the settings
        name; None if it is neither, or has expired."""
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError:
            return None
        if algorithm == "HS256":
            try:
                return jwt.decode(token, self._key, algorithms=["HS256"], issuer=ISSUER)
            except jwt.PyJWTError:
                return None
        pool = self._user_pool(get_settings())
        return pool.claims(token) if pool is not None else None

    def _user_pool(self, settings: Settings) -> UserPoolTokens | None:
        if not settings.user_pool_id or not settings.user_pool_client_id:
            return None
        pool = (
            settings.region,
            settings.user_pool_id,
            settings.user_pool_client_id,
            settings.endpoint_url,
        )
        if pool not in self._pools:  # the settings change when tests switch emulators
            self._pools[pool] = UserPoolTokens(*pool)
        return self._pools[pool]


class UserPoolTokens:
    """ID tokens of one user pool's app client: signed with one of the pool's keys (RS256), issued
    by the pool, for the client, as ID tokens, not expired."""

    def __init__(
        self, region: str, pool_id: str, client_id: str, endpoint_url: str | None = None
    ) -> None:
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        # The emulator publishes the keys under its own address, AWS under the issuer's.
        base = f"{endpoint_url.rstrip('/')}/{pool_id}" if endpoint_url else self.issuer
        self._keys_url = f"{base}/.well-known/jwks.json"
        self._client_id = client_id
        self._keys: jwt.PyJWKSet | None = None

    def claims(self, token: str) -> dict[str, Any] | None:
        try:
            key = self._signing_key(jwt.get_unverified_header(token).get("kid"))
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except (jwt.PyJWTError, KeyError, requests.RequestException):
            return None
        return claims if claims["token_use"] == "id" else None  # noqa: S105 - a claim, no secret

    def _signing_key(self, key_id: str | None) -> jwt.PyJWK:
        if self._keys is None:  # fetched once: the pool signs with the same keys for its life
            answer = requests.get(self._keys_url, timeout=KEYS_TIMEOUT_SECONDS)
            answer.raise_for_status()
            self._keys = jwt.PyJWKSet.from_dict(answer.json())
        return self._keys[str(key_id)]
