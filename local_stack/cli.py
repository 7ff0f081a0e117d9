"""The `helpdesk` command, for the local stack:

helpdesk token --email alice@example.com --role agent     a dev token, no password needed
helpdesk sign-in --email admin@example.com --password …   an ID token from the emulator's pool
"""

from __future__ import annotations

import argparse
import os
import sys

import boto3
from botocore.exceptions import EndpointConnectionError

from local_stack.paths import state_dir
from local_stack.tokens import DEFAULT_ADMIN, DevTokens
from local_stack.user_pool import SignInRefused, sign_in
from shared.settings import get_settings


def _emulator_address() -> str | None:
    port = os.environ.get("HELPDESK_AWS_PORT")
    return os.environ.get("AWS_ENDPOINT_URL") or (f"http://127.0.0.1:{port}" if port else None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="helpdesk")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a dev token for the local stack")
    token.add_argument("--email", default=DEFAULT_ADMIN)
    token.add_argument("--role", choices=["admin", "agent"], default="admin")
    signing_in = commands.add_parser(
        "sign-in", help="sign in to the running local stack's user pool; print the ID token"
    )
    signing_in.add_argument("--email", default=DEFAULT_ADMIN)
    signing_in.add_argument("--password", required=True)
    signing_in.add_argument(
        "--endpoint",
        default=_emulator_address(),
        help="the emulated AWS address `make run` prints (default: AWS_ENDPOINT_URL)",
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "token":
        print(DevTokens(state_dir() / "dev-token.key").issue(arguments.email, arguments.role))
    elif arguments.command == "sign-in":
        if not arguments.endpoint:
            parser.error("give --endpoint: the emulated AWS address `make run` prints")
        # Only ever the emulator, with its stand-in credentials: never an account's.
        cognito = boto3.client(
            "cognito-idp",
            endpoint_url=arguments.endpoint,
            region_name=get_settings().region,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - any key works on the emulator
        )
        try:
            print(sign_in(cognito, get_settings(), arguments.email, arguments.password))
        except SignInRefused as refused:
            sys.exit(str(refused))
        except EndpointConnectionError:
            sys.exit(f"Nothing answers at {arguments.endpoint}: is the local stack running?")


if __name__ == "__main__":
    main()
