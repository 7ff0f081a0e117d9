"""Dev tokens: locally signed JWTs carrying the claims a Cognito user pool would.

The local gateway verifies them and hands the claims to the services exactly where API Gateway's
Cognito authorizer puts them. The signing key lives in the state folder, made on first use.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from shared.identity import ADMIN_GROUP

ISSUER = "helpdesk-local"
DEFAULT_ADMIN = "admin@example.com"
LIFETIME = timedelta(days=30)


class DevTokens:
    def __init__(self, key_file: Path) -> None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
        self._key = key_file.read_text().strip()

    def issue(self, email: str, role: str) -> str:
        if role not in ("admin", "agent"):
            raise ValueError("role is admin or agent")
        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "sub": email.lower(),
            "email": email.lower(),
            "cognito:groups": [ADMIN_GROUP] if role == "admin" else [],
            "iat": now,
            "exp": now + LIFETIME,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def claims(self, token: str) -> dict[str, Any] | None:
        """The token's claims, or None if it is not one of ours or has expired."""
        try:
            return jwt.decode(token, self._key, algorithms=["HS256"], issuer=ISSUER)  # type: ignore[no-any-return]
        except jwt.PyJWTError:
            return None
