"""Who is calling: the agent's subject, verified email and role, from the API Gateway authorizer
context.

In AWS a Cognito user-pool authorizer puts the ID token's claims in
`requestContext.authorizer.claims`; the local gateway verifies a token and puts the same claims
in the same place. Services never see tokens, only claims.

The subject (`sub`) is the account; the email is what departments and assignments name, so it
counts only once the pool has verified it: an address someone typed into their own profile would
otherwise carry another agent's departments.
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
    # The user pool's id of the account; empty only for callers that are not signed in (public
    # routes) and for callers a process makes for itself.
    subject: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def caller_from_claims(claims: dict[str, Any] | None) -> Caller:
    """Read the caller from Cognito ID token claims (`sub`, `email`, `email_verified`,
    `cognito:groups`), as they are or as API Gateway passes them on (every value a string)."""
    if not claims or not claims.get("sub"):
        raise Unauthorized("A bearer token naming its subject (the `sub` claim) is required.")
    if not claims.get("email"):
        raise Unauthorized("A bearer token with an email claim is required.")
    if str(claims.get("email_verified")).lower() != "true":
        raise Unauthorized(
            "The token's email address is not verified: confirm it, then sign in again."
        )
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):  # API Gateway flattens a list claim to "a,b" or "[a b]"
        groups = groups.strip("[]").replace(",", " ").split()
    role: Role = "admin" if ADMIN_GROUP in groups else "agent"
    return Caller(email=str(claims["email"]).lower(), role=role, subject=str(claims["sub"]))
