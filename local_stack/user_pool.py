"""The user pool agents sign in with, on the emulator.

The emulator's CloudFormation skips Cognito, so the pool, the console's app client and the admin
group are made here by API, from the shared stack's own declarations of them; the app client also
allows USER_PASSWORD_AUTH, so `helpdesk sign-in` can sign in from a terminal. The default admin
gets a known password, as nobody can read the emulator's invitation mail. Running it again (the
local stack starts again on the same emulator) finds what exists by name.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

from infra.templates import shared_stack
from local_stack.tokens import DEFAULT_ADMIN
from shared.aws import client, reset_process_state
from shared.identity import ADMIN_GROUP
from shared.settings import Settings

ADMIN_PASSWORD_VARIABLE = "HELPDESK_LOCAL_ADMIN_PASSWORD"  # noqa: S105 - a variable's name
# The local default admin's password unless that variable gives one; meets the pool's policy.
DEFAULT_ADMIN_PASSWORD = "Helpdesk-local-1"  # noqa: S105 - documented, and only ever local
LOCAL_AUTH_FLOW = "ALLOW_USER_PASSWORD_AUTH"
PAGE = 60  # the most the pool and client lists return at once


@dataclass(frozen=True)
class LocalUserPool:
    pool_id: str
    client_id: str
    admin_email: str
    admin_password: str


class SignInRefused(Exception):
    """The pool gave no ID token; the message says why."""


def set_up_user_pool(settings: Settings) -> LocalUserPool:
    """Find or create the pool, its app client, the admin group and the default admin, then point
    the settings (`HELPDESK_USER_POOL_ID`, `HELPDESK_USER_POOL_CLIENT_ID`) at them."""
    declared = _declared(settings)
    cognito = client("cognito-idp")
    pool = declared["AWS::Cognito::UserPool"]
    pool_id = _pool_id(cognito, pool["UserPoolName"]) or _create_pool(cognito, pool)
    app_client = declared["AWS::Cognito::UserPoolClient"]
    client_id = _client_id(cognito, pool_id, app_client["ClientName"]) or _create_client(
        cognito, pool_id, app_client
    )
    _ensure_group(cognito, pool_id, declared["AWS::Cognito::UserPoolGroup"])
    password = os.environ.get(ADMIN_PASSWORD_VARIABLE) or DEFAULT_ADMIN_PASSWORD
    _ensure_default_admin(cognito, pool_id, password)
    os.environ.update(HELPDESK_USER_POOL_ID=pool_id, HELPDESK_USER_POOL_CLIENT_ID=client_id)
    reset_process_state()  # the settings are read again, with the pool
    return LocalUserPool(pool_id, client_id, DEFAULT_ADMIN, password)


def sign_in(cognito: Any, settings: Settings, email: str, password: str) -> str:
    """The ID token of the agent, signed in to the local pool with their password; `SignInRefused`
    if the pool does not give one."""
    declared = _declared(settings)
    pool_id = _pool_id(cognito, declared["AWS::Cognito::UserPool"]["UserPoolName"])
    if pool_id is None:
        raise SignInRefused("The emulator has no user pool: is the local stack running?")
    client_id = _client_id(cognito, pool_id, declared["AWS::Cognito::UserPoolClient"]["ClientName"])
    if client_id is None:
        raise SignInRefused("The user pool has no app client: restart the local stack.")
    try:
        answer = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException):
        raise SignInRefused("Wrong email or password, or the agent is disabled.") from None
    if "AuthenticationResult" not in answer:
        raise SignInRefused(
            f"The pool asks for {answer.get('ChallengeName')} first: an invited agent must set "
            "their own password before signing in here."
        )
    return str(answer["AuthenticationResult"]["IdToken"])


def _declared(settings: Settings) -> dict[str, dict[str, Any]]:
    """The properties of the shared stack's Cognito resources, by type, without the references
    to the pool (the pool's id is known only once it exists)."""
    resources = shared_stack(settings)["Resources"].values()
    return {
        resource["Type"]: {
            key: value for key, value in resource["Properties"].items() if key != "UserPoolId"
        }
        for resource in resources
        if resource["Type"].startswith("AWS::Cognito::")
    }


def _pool_id(cognito: Any, name: str) -> str | None:
    pages = cognito.get_paginator("list_user_pools").paginate(PaginationConfig={"PageSize": PAGE})
    return next(
        (pool["Id"] for page in pages for pool in page["UserPools"] if pool["Name"] == name), None
    )


def _create_pool(cognito: Any, properties: dict[str, Any]) -> str:
    # The API names the pool `PoolName` where CloudFormation says `UserPoolName`.
    request = {key: value for key, value in properties.items() if key != "UserPoolName"}
    pool = cognito.create_user_pool(PoolName=properties["UserPoolName"], **request)["UserPool"]
    return str(pool["Id"])


def _client_id(cognito: Any, pool_id: str, name: str) -> str | None:
    pages = cognito.get_paginator("list_user_pool_clients").paginate(
        UserPoolId=pool_id, PaginationConfig={"PageSize": PAGE}
    )
    return next(
        (
            app_client["ClientId"]
            for page in pages
            for app_client in page["UserPoolClients"]
            if app_client["ClientName"] == name
        ),
        None,
    )


def _create_client(cognito: Any, pool_id: str, properties: dict[str, Any]) -> str:
    flows = [*properties.get("ExplicitAuthFlows", []), LOCAL_AUTH_FLOW]
    request = {**properties, "ExplicitAuthFlows": sorted(set(flows))}
    created = cognito.create_user_pool_client(UserPoolId=pool_id, **request)
    return str(created["UserPoolClient"]["ClientId"])


def _ensure_group(cognito: Any, pool_id: str, properties: dict[str, Any]) -> None:
    with contextlib.suppress(cognito.exceptions.GroupExistsException):
        cognito.create_group(UserPoolId=pool_id, **properties)


def _ensure_default_admin(cognito: Any, pool_id: str, password: str) -> None:
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=DEFAULT_ADMIN,
            UserAttributes=[
                {"Name": "email", "Value": DEFAULT_ADMIN},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",  # nobody reads the emulator's mail: the password is known
        )
    # Every start, so the password printed is the one that works.
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=DEFAULT_ADMIN, Password=password, Permanent=True
    )
    cognito.admin_add_user_to_group(
        UserPoolId=pool_id, Username=DEFAULT_ADMIN, GroupName=ADMIN_GROUP
    )
