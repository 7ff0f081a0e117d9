"""Starting and stopping the whole local system (what `make run` runs)."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from local_stack import emulator_patches
from local_stack.console import ConsoleSite
from local_stack.environment import quiet
from local_stack.files import LocalFiles, signing_environment
from local_stack.gateway import Gateway, GatewayServer, LocalRoute
from local_stack.mail import LocalMailReports, MailReceiver, SentMail, smtp_server
from local_stack.provision import LOCAL_MAIL_DOMAIN, provision
from local_stack.state import dump, load
from local_stack.system import LocalSystem
from local_stack.tokens import DEFAULT_ADMIN, DevTokens
from local_stack.user_pool import set_up_user_pool
from shared.aws import client, reset_process_state
from shared.clock import get_clock, isoformat
from shared.errors import FieldError, Invalid
from shared.settings import get_settings

STREAM_POLL_SECONDS = 0.2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Ports:
    http: int
    smtp: int
    aws: int


def _emulator_environment(aws_port: int) -> None:
    """Point every AWS client at the emulator; fake credentials must exist before any client."""
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{aws_port}",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - any key works on the emulator
        AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"),
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    reset_process_state()


class LocalStack:
    def __init__(self, ports: Ports, state_dir: Path, keep_state: bool = True) -> None:
        self.ports = ports
        self.state_dir = state_dir
        self.keep_state = keep_state
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=ports.aws, verbose=False)
        self._http: GatewayServer | None = None
        self._smtp: Any = None
        self.ready = False

    @property
    def snapshot(self) -> Path:
        return self.state_dir / "snapshot.json"

    def start(self) -> None:
        _emulator_environment(self.ports.aws)
        # Reply-to addresses stay valid across restarts: the secret lives with the state.
        secret_file = self.state_dir / "reply-token.key"
        if not secret_file.exists():
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secrets.token_hex(16))
        os.environ.setdefault("HELPDESK_REPLY_TOKEN_SECRET", secret_file.read_text().strip())
        # Channels take addresses at the domain the emulated SES receives and sends for.
        os.environ.setdefault("HELPDESK_MAIL_DOMAIN", LOCAL_MAIL_DOMAIN)
        # Mail to agents links to the console this stack serves.
        os.environ.setdefault("HELPDESK_CONSOLE_URL", f"http://localhost:{self.ports.http}")
        # Links to files go to this stack's gateway, which serves them as the edge does in AWS,
        # with a key of its own.
        os.environ.update(
            HELPDESK_EDGE_URL=f"http://localhost:{self.ports.http}", **signing_environment()
        )
        quiet()
        emulator_patches.apply_all()
        self._moto.start()
        settings = get_settings()
        with warnings.catch_warnings():  # resources the emulator skips (SES rules, Cognito)
            warnings.simplefilter("ignore")
            provision(settings)
        self.user_pool = set_up_user_pool(settings)
        client("ses").verify_domain_identity(Domain=LOCAL_MAIL_DOMAIN)
        if self.keep_state:
            load(self.snapshot, settings)
        system = LocalSystem(settings)
        tokens = DevTokens(self.state_dir / "dev-token.key")
        self.tokens = tokens
        self.sent_mail = SentMail(self.state_dir / "outbox")

        for queue in system.queue_sources():
            self._spawn(f"queue {queue.queue_name}", lambda q=queue: q.poll_once(wait_seconds=1))
        for stream in system.stream_sources():
            self._spawn(f"stream {stream.table_name}", stream.poll_once, STREAM_POLL_SECONDS)
        self._spawn("mail reports", LocalMailReports.of(settings).publish_once, 1)
        for schedule in system.schedules():
            self._spawn(
                f"schedule {schedule.name}",
                schedule.run,
                schedule.every.total_seconds(),
            )
        receiver = MailReceiver(
            settings.mail_bucket,
            lambda event: system.invoke("channels", "receive_mail", event),
        )
        self._smtp = smtp_server(receiver, self.ports.smtp)
        self._smtp.start()
        console = ConsoleSite(
            self.user_pool,
            os.environ["AWS_ENDPOINT_URL"],
            os.environ["AWS_DEFAULT_REGION"],
            files=settings.edge_url,
        )
        gateway = Gateway(system.apps, tokens, self._local_routes(), console, LocalFiles(settings))
        self._http = GatewayServer(("127.0.0.1", self.ports.http), gateway)
        self._spawn_server(self._http)
        self.ready = True

    def _local_routes(self) -> dict[tuple[str, str], LocalRoute]:
        def health(_: dict[str, Any]) -> tuple[int, Any]:
            return (200, {"status": "ok"}) if self.ready else (503, {"status": "starting"})

        def openapi(_: dict[str, Any]) -> tuple[int, Any]:
            from infra.openapi import project_document

            return 200, project_document()

        def token(body: dict[str, Any]) -> tuple[int, Any]:
            email, role = body.get("email") or DEFAULT_ADMIN, body.get("role", "agent")
            if role not in ("admin", "agent"):
                raise Invalid("role is admin or agent", [FieldError("role", "admin or agent")])
            return 200, {"token": self.tokens.issue(str(email), role)}

        def clock(body: dict[str, Any]) -> tuple[int, Any]:
            minutes = body.get("advance_minutes")
            if not isinstance(minutes, int | float) or minutes < 0:
                raise Invalid(
                    "advance_minutes must be a number of minutes, zero or more",
                    [FieldError("advance_minutes", "a number, zero or more")],
                )
            return 200, {"now": isoformat(get_clock().advance(timedelta(minutes=minutes)))}

        def outbox(_: dict[str, Any]) -> tuple[int, Any]:
            return 200, self.sent_mail.messages()

        return {
            ("GET", "/health"): health,
            ("GET", "/openapi.json"): openapi,
            ("POST", "/local/token"): token,
            ("POST", "/local/clock"): clock,
            ("GET", "/local/outbox"): outbox,
        }

    def _spawn(self, name: str, step: Any, pause: float = 0.0) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    step()
                except Exception:
                    logging.getLogger("local_stack").exception("%s failed; retrying", name)
                    self._stop.wait(1)
                if pause:
                    self._stop.wait(pause)

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _spawn_server(self, server: GatewayServer) -> None:
        thread = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
        thread.start()

    def stop(self) -> None:
        self.ready = False
        self._stop.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._smtp is not None:
            self._smtp.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.keep_state:
            dump(self.snapshot, get_settings())
        self._moto.stop()
