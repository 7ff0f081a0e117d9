"""Mail in: how fast every real-world mail in ../shared/corpus/mail is parsed, beside the standard
library's bare parse of the same bytes (machines are noisy; the ratio means more than the rate).

The mails are read into memory once; each pass parses all of them, the two parsers take turns,
and the best of three passes counts for each.
"""

from __future__ import annotations

import email
import time
from collections.abc import Callable
from email import policy
from pathlib import Path

from bench.harness import Row
from services.channels.logic.mail_parser import parse_mail

MAIL = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "mail"
PASSES = 3
TARGET = "<= 3x"
# Manifests and expectations sit beside the mail; everything else in the folder is a mail.
NOT_MAIL_SUFFIXES = {".tsv", ".md", ".yml", ".json"}


def run() -> list[Row]:
    mails = corpus_mail()
    if not mails:
        return [Row("mail parse: corpus", f"absent ({MAIL} not found)", TARGET)]

    def ours() -> None:
        for raw in mails:
            parse_mail(raw)

    def bare() -> None:
        for raw in mails:
            email.message_from_bytes(raw, policy=policy.default)

    timings: dict[Callable[[], None], float] = {bare: float("inf"), ours: float("inf")}
    for _ in range(PASSES):
        for parse in timings:
            started = time.perf_counter()
            parse()
            timings[parse] = min(timings[parse], time.perf_counter() - started)
    megabytes = sum(map(len, mails)) / 1e6
    return [
        Row(
            f"mail parse: parse_mail, {len(mails)} corpus mails ({megabytes:.1f} MB)",
            f"{len(mails) / timings[ours]:.0f} mails/s",
            "-",
        ),
        Row(
            "mail parse: bare email.message_from_bytes, same mails",
            f"{len(mails) / timings[bare]:.0f} mails/s",
            "baseline",
        ),
        Row(
            "mail parse: parse_mail time / bare time",
            f"{timings[ours] / timings[bare]:.2f}x",
            TARGET,
        ),
    ]


def corpus_mail() -> list[bytes]:
    if not MAIL.is_dir():
        return []
    return [
        path.read_bytes()
        for path in sorted(MAIL.rglob("*"))
        if path.is_file()
        and path.suffix not in NOT_MAIL_SUFFIXES
        and not path.name.endswith("_reply_text")
        and path.parent.name != "address_lists"  # flanker's address lists, not mails
    ]
