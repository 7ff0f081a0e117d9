"""Mail in, end to end against moto: every corpus mail stored as SES stores it, then parsed,
routed, recorded and announced by the inbound function. Prints mails ingested per second.

moto copies a whole table for every transaction, so the rate falls as the table fills; it is a
floor for this machine, not a forecast for DynamoDB.
"""

from __future__ import annotations

import time

from bench.bench_mail_parse import corpus_mail
from bench.harness import Row, emulated_system
from local_stack.mail import MailReceiver
from shared.settings import get_settings


def run() -> list[Row]:
    mails = corpus_mail()
    if not mails:
        return [Row("mail ingest: corpus", "absent (../shared/corpus/mail)", "-")]
    with emulated_system() as system:
        receiver = MailReceiver(
            get_settings().mail_bucket,
            lambda event: system.invoke("channels", "receive_mail", event),
        )
        started = time.perf_counter()
        for raw in mails:
            receiver.receive(raw, "sender@example.org", ["support@example.com"])
        seconds = time.perf_counter() - started
    return [
        Row(
            f"mail ingest: {len(mails)} corpus mails (store, parse, route, record)",
            f"{len(mails) / seconds:.1f} mails/s",
            "-",
        )
    ]
