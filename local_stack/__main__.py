"""`python -m local_stack`: run the whole helpdesk locally until Ctrl-C (what `make run` does)."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import threading
import time

from local_stack.aws_calls import record_to_file_if_asked
from local_stack.paths import state_dir
from local_stack.stack import LocalStack, Ports, free_port
from local_stack.tokens import DEFAULT_ADMIN


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("--reset", action="store_true", help="start empty (forget saved state)")
    arguments = parser.parse_args()
    folder = state_dir()
    if arguments.reset and folder.exists():
        shutil.rmtree(folder)
    ports = Ports(
        http=int(os.environ.get("HELPDESK_PORT", "8000")),
        smtp=int(os.environ.get("HELPDESK_SMTP_PORT", "2525")),
        aws=int(os.environ.get("HELPDESK_AWS_PORT") or free_port()),
    )
    record_to_file_if_asked()
    started = time.monotonic()
    stack = LocalStack(ports, folder)
    stack.start()
    base = f"http://127.0.0.1:{ports.http}"
    admin_token = stack.tokens.issue(DEFAULT_ADMIN, "admin")
    print(
        f"""
Helpdesk is running (ready in {time.monotonic() - started:.1f}s). Ctrl-C stops it.

  Console        {base}/           (the agent console: sign in as below, or with a dev token)
  API            {base}            (every service, routed by path)
  health         {base}/health
  OpenAPI        {base}/openapi.json
  SMTP           127.0.0.1:{ports.smtp}       (mail here takes SES's path)
  sent mail      {base}/local/outbox   and {folder / "outbox"}/*.eml
  emulated AWS   http://127.0.0.1:{ports.aws}  (AWS_ENDPOINT_URL for the aws cli)
  saved state    {folder}    (make reset starts empty)

  Default admin {DEFAULT_ADMIN}; a token for it:
  export TOKEN={admin_token}
  curl -H "Authorization: Bearer $TOKEN" {base}/tickets/TKT-0001

  In the console: {stack.user_pool.admin_email} / {stack.user_pool.admin_password}
  Or sign in as in AWS from a terminal, against the emulated user pool {stack.user_pool.pool_id}:
  export TOKEN=$(AWS_ENDPOINT_URL=http://127.0.0.1:{ports.aws} .venv/bin/helpdesk sign-in \\
    --email {stack.user_pool.admin_email} --password '{stack.user_pool.admin_password}')
""",
        flush=True,
    )
    stopping = threading.Event()
    # Explicit handlers: a shell that starts us in the background leaves SIGINT ignored.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stopping.set())
    while not stopping.wait(0.5):
        pass
    print("stopping...", flush=True)
    stack.stop()
    print("stopped; state saved.", flush=True)


if __name__ == "__main__":
    main()
