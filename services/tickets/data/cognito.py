"""The agent directory on the Cognito user pool agents sign in with: the only module that calls
`cognito-idp`.

The pool's username attribute is the email, so every call names the agent by their email; the
`admin` group makes an admin, as the sign-in token's `cognito:groups` claim says.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from services.tickets.logic.agent_directory import Agent, AgentExists, UnknownAgent
from shared.aws import client
from shared.identity import ADMIN_GROUP
from shared.settings import get_settings
from shared.storage import Page, bad_cursor, decode_cursor, encode_cursor

# Statuses of an account whose owner has not yet signed in and chosen a password.
NOT_CONFIRMED = frozenset({"FORCE_CHANGE_PASSWORD", "UNCONFIRMED"})
GROUP_PAGE = 60  # the most ListUsersInGroup returns at once


class CognitoAgentDirectory:
    """Reads the pool's id from the settings and makes its client at first use, so building it
    costs nothing on paths that never call it."""

    def page(self, limit: int, cursor: str | None) -> Page[Agent]:
        request: dict[str, Any] = {"UserPoolId": self._pool_id(), "Limit": limit}
        if cursor is not None:
            request["PaginationToken"] = _pagination_token(cursor)
        try:
            answer = _cognito().list_users(**request)
        except ClientError as error:
            if cursor is not None and _code(error) == "InvalidParameterException":
                raise bad_cursor() from None
            raise
        admins = {agent.email for agent in self.admins()}
        agents = [_agent(user, _email(user) in admins) for user in answer["Users"]]
        token = answer.get("PaginationToken")
        return Page(agents, encode_cursor({"token": token}) if token else None)

    def agent(self, email: str) -> Agent | None:
        pool_id = self._pool_id()
        try:
            user = _cognito().admin_get_user(UserPoolId=pool_id, Username=email)
            groups = _cognito().admin_list_groups_for_user(
                UserPoolId=pool_id, Username=email, Limit=GROUP_PAGE
            )["Groups"]
        except ClientError as error:
            if _code(error) == "UserNotFoundException":
                return None
            raise
        return _agent(user, any(group["GroupName"] == ADMIN_GROUP for group in groups))

    def admins(self) -> list[Agent]:
        pages = (
            _cognito()
            .get_paginator("list_users_in_group")
            .paginate(
                UserPoolId=self._pool_id(),
                GroupName=ADMIN_GROUP,
                PaginationConfig={"PageSize": GROUP_PAGE},
            )
        )
        return [_agent(user, admin=True) for page in pages for user in page["Users"]]

    def invite(self, email: str, name: str | None) -> Agent:
        attributes = [
            {"Name": "email", "Value": email},
            # The invitation goes to this address and only its owner can use it to sign in.
            {"Name": "email_verified", "Value": "true"},
            *([{"Name": "name", "Value": name}] if name else []),
        ]
        try:
            user = _cognito().admin_create_user(
                UserPoolId=self._pool_id(),
                Username=email,
                UserAttributes=attributes,
                DesiredDeliveryMediums=["EMAIL"],
            )["User"]
        except ClientError as error:
            if _code(error) in ("UsernameExistsException", "AliasExistsException"):
                raise AgentExists(email) from None
            raise
        return _agent(user, admin=False)

    def set_enabled(self, email: str, enabled: bool) -> None:
        call = _cognito().admin_enable_user if enabled else _cognito().admin_disable_user
        self._on_agent(call, email)

    def set_admin(self, email: str, admin: bool) -> None:
        cognito = _cognito()
        call = cognito.admin_add_user_to_group if admin else cognito.admin_remove_user_from_group
        self._on_agent(call, email, GroupName=ADMIN_GROUP)

    def _on_agent(self, call: Any, email: str, **extra: str) -> None:
        try:
            call(UserPoolId=self._pool_id(), Username=email, **extra)
        except ClientError as error:
            if _code(error) == "UserNotFoundException":
                raise UnknownAgent(email) from None
            raise

    @staticmethod
    def _pool_id() -> str:
        pool_id = get_settings().user_pool_id
        if not pool_id:
            raise RuntimeError("HELPDESK_USER_POOL_ID is not set: no user pool to manage agents in")
        return pool_id


def _cognito() -> Any:
    return client("cognito-idp")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _pagination_token(cursor: str) -> str:
    position = decode_cursor(cursor, dict)
    token = position.get("token") if isinstance(position, dict) else None
    if not isinstance(token, str):
        raise bad_cursor()
    return token


def _attributes(user: dict[str, Any]) -> dict[str, str]:
    # AdminGetUser names them `UserAttributes`; the lists and AdminCreateUser, `Attributes`.
    listed = user.get("Attributes") or user.get("UserAttributes") or []
    return {attribute["Name"]: attribute["Value"] for attribute in listed}


def _email(user: dict[str, Any]) -> str:
    return _attributes(user).get("email", "").lower()


def _agent(user: dict[str, Any], admin: bool) -> Agent:
    return Agent(
        email=_email(user),
        name=_attributes(user).get("name"),
        enabled=bool(user["Enabled"]),
        confirmed=user["UserStatus"] not in NOT_CONFIRMED,
        admin=admin,
    )
