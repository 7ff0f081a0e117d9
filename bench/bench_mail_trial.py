"""Mail in: the library trial behind `services/channels/logic/mail_parser/`. For HTML to text and
for quoted history, our code against maintained libraries, on the corpus and the hand-labelled
replies in tests/service/reply_samples.py; the package docstring holds the figures and the choice.

The candidates are not dependencies: to re-run their rows, install them beside the project
(`pip install inscriptis==2.7.6 quotequail==0.5.4 mail-parser-reply==1.36`); without them the
rows say so and only ours is measured.

- HTML to text: zammad's HTML mails (its `expected_summary.json` holds the start of each body as
  its own sanitised HTML). A mail counts when every text run of that body (tags taken out, at
  least six characters, the last run left out when the body was cut off) is in the text.
- Quoted history: replies with a known new text (talon's, two of chatwoot's, our samples). A
  reply counts when what is left equals that text, white space aside: the new text kept whole,
  the quoted mail and its attribution line removed. Every candidate gets the same text: the
  mail's text as our parser reads it (HTML rendered, quotes as "> " lines).
- Time: the best of three passes, per message.
"""

from __future__ import annotations

import html
import importlib
import json
import re
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from bench.harness import Row
from services.channels.logic.mail_parser import (
    ParsedMail,
    html_to_text,
    parse_mail,
    strip_quoted_history,
)
from tests.service.reply_samples import REPLY_SAMPLES

MAIL = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "mail"
PASSES = 3
MIN_RUN = 6  # shorter runs of text ("Hi", "--") say nothing about a renderer
# What the corpus says a reply's new text is (talon's fixtures and chatwoot's EXPECTED.md).
CORPUS_REPLIES = {
    "talon/reply-quotations-share-block.eml": None,  # checked by its start: see _kept
    "chatwoot/mail_with_quote.eml": "Yes, I am providing you step how to reproduce this issue",
    "chatwoot/forwarder_email.eml": "Let's talk about these images:",
}
SHARE_BLOCK_START = "Hi Katharine."


def run() -> list[Row]:
    if not MAIL.is_dir():
        return [Row("mail trial: corpus", f"absent ({MAIL} not found)", "-")]
    return _html_rows() + _quote_rows()


# --- HTML to text ---------------------------------------------------------------------------


def _html_rows() -> list[Row]:
    cases = _zammad_html()
    candidates: dict[str, Callable[[str], str] | None] = {
        "ours (html.parser)": html_to_text,
        "inscriptis 2.7.6 (lxml)": _inscriptis(),
    }
    rows = []
    for name, render in candidates.items():
        what = f"mail trial: HTML to text, {name}"
        if render is None:
            rows.append(Row(what, "not installed", "-"))
            continue
        kept = sum(_runs_kept(expected, render(markup)) for markup, expected in cases)
        per_mail = _best_time(lambda r=render: [r(markup) for markup, _ in cases]) / len(cases)
        rows.append(
            Row(what, f"{kept}/{len(cases)} zammad bodies, {per_mail * 1e3:.2f} ms/mail", "-")
        )
    return rows


def _zammad_html() -> list[tuple[str, list[str]]]:
    """(the mail's HTML, the text runs of zammad's body) for zammad's HTML mails."""
    summary = MAIL / "zammad" / "expected_summary.json"
    cases = []
    for case, expected in sorted(json.loads(summary.read_text())["cases"].items()):
        if expected["content_type"] != "text/html":
            continue
        markup = _html_parts((MAIL / "zammad" / case).read_bytes())
        if markup:
            cases.append((markup, _text_runs(expected)))
    return cases


def _html_parts(raw: bytes) -> str:
    parts = []
    for part in message_from_bytes(raw, policy=policy.default).walk():
        if part.get_content_type() == "text/html" and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    parts.append(payload.decode(charset, "replace"))
                except LookupError:
                    parts.append(payload.decode("utf-8", "replace"))
    return "\n".join(parts)


def _text_runs(expected: dict[str, Any]) -> list[str]:
    head = expected["body_head"]
    runs = [_words(html.unescape(run)) for run in re.split(r"<[^>]*>?", head)]
    if int(expected["body_len"]) > len(head) and runs:
        runs = runs[:-1]  # cut off inside the last run
    return [run for run in runs if len(run) >= MIN_RUN]


def _runs_kept(runs: list[str], text: str) -> bool:
    words = _words(text)
    return all(run in words for run in runs)


def _inscriptis() -> Callable[[str], str] | None:
    try:
        inscriptis = importlib.import_module("inscriptis")
        config = importlib.import_module("inscriptis.model.config")
    except ImportError:
        return None
    settings = config.ParserConfig(display_links=True)
    return lambda markup: str(inscriptis.get_text(markup, settings))


# --- quoted history -------------------------------------------------------------------------


def _quote_rows() -> list[Row]:
    corpus = _corpus_replies()
    samples = [_case(parse_mail(sample.raw), sample.expected) for sample in REPLY_SAMPLES]
    cases = corpus + samples
    candidates: dict[str, Callable[[str, str], str] | None] = {
        "ours (markers)": _ours,
        "quotequail 0.5.4": _quotequail(),
        "mail-parser-reply 1.36": _mail_parser_reply(),
    }
    rows = []
    for name, strip in candidates.items():
        what = f"mail trial: quoted history, {name}"
        if strip is None:
            rows.append(Row(what, "not installed", "-"))
            continue
        on_corpus = sum(_kept(strip(text, subject), expected) for text, expected, subject in corpus)
        on_samples = sum(
            _kept(strip(text, subject), expected) for text, expected, subject in samples
        )
        per_mail = _best_time(lambda s=strip: [s(text, subj) for text, _, subj in cases])
        rows.append(
            Row(
                what,
                f"{on_corpus}/{len(corpus)} corpus, {on_samples}/{len(samples)} samples, "
                f"{per_mail / len(cases) * 1e3:.3f} ms/mail",
                "-",
            )
        )
    return rows


def _corpus_replies() -> list[tuple[str, str | None, str]]:
    """(text, expected new text, subject); None expects the share-block reply's start."""
    replies: dict[str, str | None] = {}
    for path in sorted((MAIL / "talon" / "standard_replies").glob("*.eml")):
        expected = path.with_name(f"{path.stem}_reply_text")
        replies[path.relative_to(MAIL).as_posix()] = (
            expected.read_text() if expected.exists() else "Hello"
        )
    replies.update(CORPUS_REPLIES)
    return [
        _case(parse_mail((MAIL / name).read_bytes()), expected)
        for name, expected in replies.items()
    ]


def _case(parsed: ParsedMail, expected: str | None) -> tuple[str, str | None, str]:
    return parsed.text, expected, parsed.subject


def _kept(reply: str, expected: str | None) -> bool:
    if expected is None:
        return reply.startswith(SHARE_BLOCK_START) and "From" not in reply
    return _words(reply) == _words(expected)


def _ours(text: str, subject: str) -> str:
    return strip_quoted_history(text, subject=subject)


def _quotequail() -> Callable[[str, str], str] | None:
    try:
        quotequail = importlib.import_module("quotequail")
    except ImportError:
        return None
    return lambda text, subject: "\n".join(part for shown, part in quotequail.quote(text) if shown)


def _mail_parser_reply() -> Callable[[str, str], str] | None:
    try:
        module = importlib.import_module("mailparser_reply")
        constants = importlib.import_module("mailparser_reply.constants")
    except ImportError:
        return None
    parser = module.EmailReplyParser(languages=list(constants.MAIL_LANGUAGES))
    return lambda text, subject: str(parser.parse_reply(text=text))


# --- shared ---------------------------------------------------------------------------------


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _best_time(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(PASSES):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best
