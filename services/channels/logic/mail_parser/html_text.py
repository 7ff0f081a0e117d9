"""HTML as readable text, by a small renderer on the standard library's `html.parser`.

Blocks and `<br>` become line breaks, list items "- ", links "text (url)", and `<blockquote>`
"> " lines, so that the quote detection reads HTML mail and plain mail alike; script, style and
title are left out. The renderer also notes where Gmail's, Yahoo's, Thunderbird's, ProtonMail's
and Outlook's quote containers start. It won the trial against inscriptis (see the package
docstring).
"""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser
from typing import NamedTuple

MAX_HTML_FOR_TEXT = 2_000_000  # characters of HTML rendered as text; the HTML itself is kept

_SKIPPED = frozenset({"script", "style", "title", "template", "head"})
_LINE_BLOCKS = frozenset(
    {"address", "article", "aside", "center", "dd", "details", "div", "dt", "fieldset"}
    | {"figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "nav"}
    | {"section", "summary", "tr", "caption"}
)
_PARAGRAPH_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"})
_PARAGRAPH_BLOCKS |= {"dl", "pre"}
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")
_QUOTE_IDS = frozenset({"divrplyfwdmsg", "appendonsend", "olk_src_body_section"})
_WHITESPACE = re.compile(r"\s+")
_DATA_URI = re.compile(r"""(["'])data:[^"']*\1""", re.IGNORECASE)


class _TextRenderer(HTMLParser):
    """Renders HTML as plain text and notes the line where quoted history starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.quote_line: int | None = None
        self._line: list[str] = []
        self._breaks = 0  # line breaks owed before the next text
        self._quote_depth = 0
        self._pre = 0
        self._skip = 0
        self._lists = 0
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += tag != "head"  # an unclosed <head> must not hide the body
            return
        if tag == "br":
            self._breaks = min(self._breaks + 1, 3)
        elif tag == "blockquote":
            self._block(2)
            self._mark_quote()
            self._quote_depth += 1
        elif tag in _PARAGRAPH_BLOCKS:
            self._block(2)
            self._pre += tag == "pre"
            self._lists += tag in ("ul", "ol")
        elif tag in _LINE_BLOCKS:
            self._block(1)
            if tag == "li":
                self._write("  " * max(self._lists - 1, 0) + "- ")
        elif tag in ("td", "th"):
            self._write(" ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self._line)))
        if tag in ("div", "span", "blockquote", "table") and attrs:
            self._check_quote_container(attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img", "a"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(self._skip - (tag != "head"), 0)
        elif tag == "blockquote":
            self._finish_line()
            self._quote_depth = max(self._quote_depth - 1, 0)
            self._block(2)
        elif tag in _PARAGRAPH_BLOCKS:
            self._pre = max(self._pre - (tag == "pre"), 0)
            self._lists = max(self._lists - (tag in ("ul", "ol")), 0)
            self._block(2)
        elif tag in _LINE_BLOCKS:
            self._block(1)
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self._line[start:]).strip()
            if label and href.startswith(("http:", "https:")) and href.rstrip("/") not in label:
                self._write(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            for number, line in enumerate(data.split("\n")):
                if number:
                    self._breaks = max(self._breaks, 1)
                self._write(line)
            return
        text = _WHITESPACE.sub(" ", data)
        if text == " " and not self._line:
            return
        self._write(text)

    def _write(self, text: str) -> None:
        self._flush_breaks()
        if not self._line:
            text = text.lstrip(" ")
            if not text:
                return
            if self._quote_depth:
                self._line.append("> " * self._quote_depth)
        self._line.append(text)

    def _block(self, breaks: int) -> None:
        if self._line or self.lines:
            self._breaks = max(self._breaks, breaks)

    def _flush_breaks(self) -> None:
        """Write the line breaks owed; blank lines inside a quote keep its mark."""
        if self._breaks:
            self._finish_line()
            if self.lines:  # no blank lines at the top
                self.lines.extend([">" * self._quote_depth] * (self._breaks - 1))
            self._breaks = 0

    def _finish_line(self) -> None:
        if self._line:
            self.lines.append("".join(self._line).rstrip())
            self._line = []

    def _mark_quote(self) -> None:
        self._flush_breaks()
        self._finish_line()
        if self.quote_line is None:
            self.quote_line = len(self.lines)

    def _check_quote_container(self, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not value:
                continue
            if (name == "class" and any(c in value for c in _QUOTE_CLASSES)) or (
                name == "id" and value.lower() in _QUOTE_IDS
            ):
                self._block(1)
                self._mark_quote()

    def result(self) -> str:
        self._finish_line()
        while self.lines and not self.lines[-1].strip(" >"):
            self.lines.pop()
        return "\n".join(self.lines)


class RenderedHtml(NamedTuple):
    text: str
    quote_line: int | None  # the line where quoted history starts, if the HTML marks one
    cut_short: bool  # the HTML was longer than MAX_HTML_FOR_TEXT: the text stops short


def render_html(markup: str) -> RenderedHtml:
    cut_short = len(markup) > MAX_HTML_FOR_TEXT
    if cut_short:
        # html.parser reads about 1 MB a second: keep a huge mail from eating the function's
        # time. Inline images (data: URIs) go first, as they carry no text.
        markup = _DATA_URI.sub('""', markup)[:MAX_HTML_FOR_TEXT]
    renderer = _TextRenderer()
    with contextlib.suppress(Exception):  # html.parser rarely fails; keep what was read
        renderer.feed(markup)
        renderer.close()
    return RenderedHtml(renderer.result(), renderer.quote_line, cut_short)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body (see the module docstring)."""
    return render_html(markup).text
