"""The `helpdesk` command: `helpdesk token --email alice@example.com --role agent`."""

from __future__ import annotations

import argparse

from local_stack.paths import state_dir
from local_stack.tokens import DEFAULT_ADMIN, DevTokens


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="helpdesk")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a dev token for the local stack")
    token.add_argument("--email", default=DEFAULT_ADMIN)
    token.add_argument("--role", choices=["admin", "agent"], default="admin")
    arguments = parser.parse_args(argv)
    if arguments.command == "token":
        print(DevTokens(state_dir() / "dev-token.key").issue(arguments.email, arguments.role))


if __name__ == "__main__":
    main()
