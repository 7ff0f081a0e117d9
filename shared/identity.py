"""Who is calling: the agent's email and role, from the API Gateway authorizer context.

In AWS a Cognito user-pool authorizer puts the token's claims in
`requestContext.authorizer.claims`; the local gateway verifies a dev token and puts the same claims
in the same place. Services never see tokens, only claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from shared.errors import Unauthorized

Role = Literal["admin", "agent"]
ADMIN_GROUP = "admin"


@dataclass(frozen=True)
class Caller:
    email: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def caller_from_claims(claims: dict[str, Any] | None) -> Caller:
    """Read the caller from Cognito-style claims (`email`, `cognito:groups`)."""
    if not claims or not claims.get("email"):
        raise Unauthorized("A bearer token with an email claim is required.")
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):  # API Gateway flattens a list claim to "a,b" or "[a b]"
        groups = groups.strip("[]").replace(",", " ").split()
    role: Role = "admin" if ADMIN_GROUP in groups else "agent"
    return Caller(email=str(claims["email"]).lower(), role=role)
