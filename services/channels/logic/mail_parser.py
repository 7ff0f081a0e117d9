"""Inbound mail, from raw MIME bytes to what a ticket needs: who, about what, the new text, the
attachments, and the header facts that loop protection and quarantine decide on.

`parse_mail` never raises. What it could not read is listed in `ParsedMail.defects`, so a broken
mail is quarantined with its problems named instead of vanishing.

Choices, and why:

- The MIME tree comes from the standard library's parser with the modern policy
  (`email.policy.default`): structure, transfer encodings, defects. Header values are read raw
  and decoded by small functions here (RFC 2047 words, `email.utils.getaddresses`, the classic
  parameter parser for RFC 2231 file names): the modern header objects have already turned 8-bit
  and mislabelled bytes into U+FFFD before another charset can be tried, and building them
  costs about as much again as the parse itself.
- Line endings become LF before parsing (CR-only mail too). Parts sent as 8bit or binary, and
  enclosed messages, are cut from the mail as received instead, so their bytes stay whole.
- Charsets: the declared one first (bytes labelled ASCII or Latin-1 that pass a UTF-8 check are
  read as UTF-8, a common mislabel), then UTF-8, then, for a broken CJK text, the declared
  charset with the odd bad byte replaced; the last resort reads UTF-8 with every byte that is
  not UTF-8 taken as cp1252 (Latin-1 for cp1252's five gaps): it never fails and it reads mail
  that mixes the two. Unknown and broken labels are named in the defects. Raw 8-bit headers
  are tried as UTF-8, then as the first charset the mail declares.
- HTML is sanitised by nh3 (the Rust ammonia library): no script, style, forms, frames or event
  handlers; links get `rel="noopener noreferrer"`; inline styles keep only text, colour and box
  properties (nothing that loads a URL); relative URLs go. Links keep `http`, `https` and
  `mailto` URLs, read as a browser reads them (control characters dropped before the scheme is
  checked). Images keep `cid:` sources only (the mail's own inline images). Remote image sources
  are removed, not kept as links: a remote image tells the sender when, and from where, an
  agent read the mail.
- HTML becomes text through a small renderer on the standard library's `html.parser` (no HTML
  to text library is installed, and a mail needs little): blocks and `<br>` as line breaks,
  list items as "- ", links as "text (url)", `<blockquote>` as "> " lines so that the quote
  detection reads HTML mail and plain mail alike; script, style and title are left out.
- Quoted history (for `reply_text`) is found by the markers clients write: "> " lines, "On …
  wrote:" (over up to three lines, and its German, French, Spanish, Italian, Dutch, Nordic,
  Polish, Russian… forms), "-----Original Message-----", Outlook's "From: … Sent: …" block and
  the line of underscores above it, and in HTML Gmail's, Yahoo's, Thunderbird's and Outlook's
  quote containers. A forward (by its marker line or its "Fwd:" subject) is new text and is
  never cut; a bottom-posted reply gives the text below the quote.
- TNEF (winmail.dat) is unpacked with `tnefparse`: pure Python, no dependencies, stable but
  without a release since 2021, so it is imported only when a mail has such a part, and a
  winmail.dat it cannot read (or a missing package) leaves winmail.dat as the attachment.
- uuencoded files, as a transfer encoding or as "begin 644 name" blocks in the text, become
  attachments; nameless attachments are named after an Outlook content id ("image001.png@…"),
  a bounce part's description, the subject of an enclosed message, or "attachment-N.ext".
"""

from __future__ import annotations

import binascii
import codecs
import contextlib
import html
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import errors as email_errors
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from functools import cache
from html.parser import HTMLParser

import nh3

from shared.text import without_controls

# Headers that loop protection, bounce handling and routing decide on, kept as decoded text.
HEADERS_OF_INTEREST = (
    "auto-submitted",
    "precedence",
    "x-auto-response-suppress",
    "list-id",
    "list-unsubscribe",
    "x-autoreply",
    "x-autorespond",
    "x-failed-recipients",
    "return-path",
    "delivered-to",
    "x-original-to",
    "x-original-sender",
    "x-forwarded-to",
    "x-forwarded-for",
)
UNPARSEABLE = "message could not be parsed"  # the defect of a mail the parser gave up on
MAX_DEPTH = 30  # MIME nesting deeper than this is not a real mail; stop rather than recurse on
MAX_DEFECTS = 50
MAX_HTML_FOR_TEXT = 2_000_000  # characters of HTML rendered as text; the HTML itself is kept


@dataclass(frozen=True)
class MailAddress:
    """One address of a header, as a ticket shows it."""

    email: str  # lowercased
    name: str  # display name, "" when none


@dataclass(frozen=True)
class ParsedAttachment:
    """A file of the mail: attached, inline (an image the HTML shows by cid:), or unpacked."""

    name: str
    content_type: str
    size: int
    content_id: str | None  # without <>
    inline: bool
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedMail:
    """What one inbound mail says, as far as it could be read."""

    message_id: str | None  # without <>
    in_reply_to: str | None  # the first id, without <>
    references: list[str]
    subject: str
    sender: MailAddress | None
    reply_to: list[MailAddress]
    to: list[MailAddress]
    cc: list[MailAddress]
    date: datetime | None
    text: str  # everything readable, quoted history included
    reply_text: str  # the new text above the quoted history; `text` when none was found
    html: str | None  # sanitised
    attachments: list[ParsedAttachment]
    headers_of_interest: dict[str, str]  # lowercased names; "content-type" is the top type
    defects: list[str]


def parse_mail(raw: bytes) -> ParsedMail:
    """Read one raw mail; never raises: problems are listed in `defects`."""
    defects = _Defects()
    try:
        return _parse(*_prepared(raw, defects), defects)
    except Exception as error:  # a mail must never be lost to a parser bug
        defects.add(f"{UNPARSEABLE}: {type(error).__name__}: {error}")
        return _unparsed(raw, defects)


# --- reading the message ---------------------------------------------------------------------


class _Defects:
    """Human-readable problems, each once, capped so a hostile mail cannot flood a ticket."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if text not in self.items and len(self.items) < MAX_DEFECTS:
            self.items.append(text)


def _prepared(raw: bytes, defects: _Defects) -> tuple[bytes, bytes]:
    """The mail as received (less an mbox line) and the same with LF line endings."""
    if not isinstance(raw, bytes):
        raw = bytes(raw) if isinstance(raw, bytearray | memoryview) else str(raw).encode()
    if not raw.strip():
        defects.add("the mail is empty")
    if raw.startswith(b"From "):  # an mbox separator line, not a header
        end = raw.find(b"\n")
        raw = b"" if end < 0 else raw[end + 1 :]
    head = raw[:4096]
    if b"\r" in head and b"\n" not in head:  # old Mac line endings: CR only
        raw = raw.replace(b"\r", b"\n")
    # One line ending, LF, as the parser and the text want it. Base64 does not care, and parts
    # in 7bit, 8bit or quoted-printable are lines of text by definition.
    return raw, raw.replace(b"\r\n", b"\n") if b"\r\n" in raw else raw


def _parse(received: bytes, raw: bytes, defects: _Defects) -> ParsedMail:
    message = message_from_bytes(raw, policy=policy.default)
    if any(isinstance(d, email_errors.MissingHeaderBodySeparatorDefect) for d in message.defects):
        repaired = _repaired_headers(raw)
        if repaired is not None:
            defects.add("header block has lines that are not headers; read them as folded lines")
            message = message_from_bytes(repaired, policy=policy.default)
            received = repaired
    hint = _charset_hint(message)
    headers = _RawHeaders(message, hint, defects)
    body = _Body(defects, hint, _Source(received, raw, message))
    body.walk(message)
    subject = _nfc(without_controls(headers.text("subject") or "")).strip()
    text = body.text()
    return ParsedMail(
        message_id=_first_id(headers.first("message-id")),
        in_reply_to=_first_id(headers.first("in-reply-to")),
        references=_ids(headers.first("references")),
        subject=subject,
        sender=_sender(headers, defects),
        reply_to=headers.addresses("reply-to"),
        to=headers.addresses("to"),
        cc=headers.addresses("cc"),
        date=_date(headers.first("date"), defects),
        text=text,
        reply_text=strip_quoted_history(text, subject=subject, quote_line=body.quote_line),
        html=_sanitized(body, defects),
        attachments=_named(body.attachments),
        headers_of_interest=_headers_of_interest(message, headers, hint, defects),
        defects=defects.items,
    )


def _sanitized(body: _Body, defects: _Defects) -> str | None:
    if not body.has_html():
        return None
    try:
        return sanitize_html(body.html())
    except Exception as error:  # without safe HTML the text still carries the mail
        defects.add(f"HTML could not be sanitised ({error}); only the text is kept")
        return None


_HEADER_START = re.compile(rb"[!-9;-~]+[ \t]*:")


def _repaired_headers(raw: bytes) -> bytes | None:
    """Mailers and gateways sometimes break the header block: a folded line without its leading
    space, or a banner line above the headers. The standard parser then ends the headers at
    that line and From, Subject and the MIME structure are lost in the body. Read such lines as
    folded lines (or drop them above the first header), if real headers follow them."""
    end = raw.find(b"\n\n")
    head, rest = (raw, b"") if end < 0 else (raw[: end + 1], raw[end + 1 :])
    lines = head.split(b"\n")
    fixed: list[bytes] = []
    broken = headers_after_broken = False
    for line in lines:
        if not line or line[:1] in b" \t":
            fixed.append(line)
        elif _HEADER_START.match(line):
            headers_after_broken = headers_after_broken or broken
            fixed.append(line)
        else:
            broken = True
            if fixed:
                fixed.append(b" " + line)
    if not headers_after_broken:
        return None  # the body just starts without a blank line: the parser read it right
    return b"\n".join(fixed) + rest


def _unparsed(raw: bytes, defects: _Defects) -> ParsedMail:
    """What a mail the parser gave up on still shows: its bytes as text, so nothing is lost."""
    try:
        text = _decode(bytes(raw), None, defects, "message").replace("\r\n", "\n")
    except Exception:  # last resort for input that is not even bytes
        text = ""
    return ParsedMail(
        message_id=None,
        in_reply_to=None,
        references=[],
        subject="",
        sender=None,
        reply_to=[],
        to=[],
        cc=[],
        date=None,
        text=text,
        reply_text=text,
        html=None,
        attachments=[],
        headers_of_interest={},
        defects=defects.items,
    )


class _RawHeaders:
    """Header values as the mail carries them, unfolded, with raw 8-bit bytes decoded; encoded
    words are decoded only where asked for (never in ids)."""

    def __init__(self, message: Message, hint: str | None, defects: _Defects) -> None:
        self.hint = hint
        self.defects = defects
        self._values: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self._values.setdefault(name.lower(), []).append(str(value))

    def all(self, name: str) -> list[str]:
        return [
            _fix_8bit(_unfold(value), self.hint, self.defects, name)
            for value in self._values.get(name, [])
        ]

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return _fix_8bit(_unfold(values[0]), self.hint, self.defects, name) if values else None

    def text(self, name: str) -> str | None:
        value = self.first(name)
        return None if value is None else _decode_words(value, self.hint, self.defects, name)

    def addresses(self, name: str) -> list[MailAddress]:
        values = self.all(name)
        return _addresses(values, self.hint, self.defects, name) if values else []


# In a subject, a name or a file name a control character (NUL, CR, LF, escape...) or a line
# separator only breaks lines where no line may break: a header we write from it, a log line, a
# file name on disk. Each becomes a space, one for one (`without_controls`), so what the sender
# wrote stays visible.


def _unfold(value: str) -> str:
    return value.replace("\r", "").replace("\n", "") if "\n" in value or "\r" in value else value


def _nfc(text: str) -> str:
    """One Unicode form: macOS writes "é" as "e" plus a combining accent."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


_CHARSET_PARAMETER = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)


def _charset_hint(message: Message) -> str | None:
    """The first charset the mail declares beyond ASCII: the best guess for raw 8-bit headers."""
    for part in message.walk():
        for name, value in part.raw_items():
            if name.lower() == "content-type":
                found = _CHARSET_PARAMETER.search(str(value))
                if found and found.group(1).lower() not in ("us-ascii", "ascii"):
                    return found.group(1)
    return None


def _sender(headers: _RawHeaders, defects: _Defects) -> MailAddress | None:
    """The first usable From address; else Sender, else Reply-To (the address a reply goes to)."""
    values = headers.all("from")
    if not values:
        defects.add("no From header")
    elif len(values) > 1:
        defects.add(f"{len(values)} From headers")
    found = [a for value in values for a in _addresses([value], headers.hint, defects, "From")]
    if found:  # a full address first; a bare "MAILER-DAEMON" still says who wrote
        return min(found, key=lambda address: "@" not in address.email)
    if values:
        defects.add(f"From header has no usable address: {values[0]!r}")
    for fallback in ("sender", "reply-to"):
        found = headers.addresses(fallback)
        if found:
            return found[0]
    return None


def _addresses(
    values: list[str], hint: str | None, defects: _Defects, header: str
) -> list[MailAddress]:
    """Addresses of one header. Encoded words are decoded in display names only, never in the
    address itself (RFC 2047 forbids them there; decoding them lets a sender forge a domain)."""
    values = [_quoted_words(value) for value in values]
    found: list[MailAddress] = []
    try:
        pairs = getaddresses(values)
    except Exception as error:  # the address parser is not hardened
        defects.add(f"{header} header could not be parsed: {error}")
        return found
    for name, address in pairs:
        address = address.strip().strip("<>").strip()
        name = (
            _nfc(without_controls(_decode_words(name, hint, defects, header)).strip())
            if name
            else ""
        )
        if not address:
            # A bare "foo@example.com" in quotes ends up as the display name.
            match = _BARE_ADDRESS.search(name)
            if match is None:
                if name:
                    defects.add(f"{header} header has a name without an address: {name!r}")
                continue
            address, name = match.group(0), ""
        if " " in address and "@" in address:
            # "Name name@example.com" without brackets.
            words = address.split()
            address, name = words[-1], name or " ".join(words[:-1])
        if "@" not in address:
            defects.add(f"{header} header has an address without a domain: {address!r}")
            if " " in address:
                continue
        found.append(MailAddress(email=address.lower(), name=name))
    return found


def _quoted_words(value: str) -> str:
    """A display name of encoded words that hide a comma or other special ("=?…?B=FCrling,=20
    Andreas?=") is decoded into a quoted string first, or the address parser splits it there.
    Only a name followed by "<address>" qualifies: nothing is decoded inside an address."""
    if "=?" not in value:
        return value

    def quoted(match: re.Match[str]) -> str:
        decoded = _decode_words(match.group(1), None, _Defects(), "")
        if not any(char in decoded for char in _SPECIALS):
            return match.group(0)
        escaped = decoded.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"{match.group(2)}'

    return _NAME_OF_WORDS.sub(quoted, value)


_SPECIALS = frozenset('()<>@,;:\\".[]')
_NAME_OF_WORDS = re.compile(r"((?:=\?[^?\s]+\?[bBqQ]\?[^?]*\?=\s*)+)(<)")
_BARE_ADDRESS = re.compile(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+")
_ID = re.compile(r"<([^<>\s]+)>")


def _first_id(value: str | None) -> str | None:
    ids = _ids(value)
    return ids[0] if ids else None


def _ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = _ID.findall(value)
    if not found:  # some mailers leave out the brackets
        found = [token.strip("<>,;") for token in value.split() if token.strip("<>,;")]
    return list(dict.fromkeys(found))


def _date(value: str | None, defects: _Defects) -> datetime | None:
    if value is None:
        defects.add("no Date header")
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.add(f"Date header could not be read: {value.strip()!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _headers_of_interest(
    message: Message, headers: _RawHeaders, hint: str | None, defects: _Defects
) -> dict[str, str]:
    found = {}
    for name in HEADERS_OF_INTEREST:
        values = headers.all(name)
        if values:
            found[name] = ", ".join(
                without_controls(_decode_words(value, hint, defects, name)).strip()
                for value in values
            )
    top = _describe(message, hint, defects)
    found["content-type"] = top.content_type
    if top.report_type:
        found["report-type"] = top.report_type
    return found


# --- headers: charsets and RFC 2047 encoded words --------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")


def _header_text(value: str, hint: str | None, defects: _Defects, header: str) -> str:
    return _decode_words(_fix_8bit(value, hint, defects, header), hint, defects, header)


def _fix_8bit(value: str, hint: str | None, defects: _Defects, header: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; decode them with the fallback chain.
    Japanese mailers also send raw ISO-2022-JP, which is 7-bit but full of escape sequences."""
    if "\x1b" in value and value.isascii():
        return _decode(value.encode("ascii"), "iso-2022-jp", defects, f"{header} header")
    if value.isascii() or not _has_surrogates(value):
        return value
    data = value.encode("ascii", "surrogateescape")
    return _decode(data, hint, defects, f"{header} header", guessed=True)


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in value)


def _decode_words(value: str, hint: str | None, defects: _Defects, header: str) -> str:
    """RFC 2047: decode encoded words; adjacent words of one charset are joined as bytes first,
    because mailers split multi-byte characters across words."""
    if "=?" not in value:
        return value
    pieces: list[str] = []
    run = bytearray()
    run_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal run, run_charset
        if run_charset is not None:
            pieces.append(_decode(bytes(run), run_charset, defects, f"{header} header"))
        run, run_charset = bytearray(), None

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if run_charset is None or between.strip():
            flush()
            pieces.append(between)
        charset, encoding, encoded = match.groups()
        decoded = _decode_word(encoding, encoded)
        if decoded is None:
            flush()
            defects.add(f"{header} header has a broken encoded word: {match.group(0)!r}")
            pieces.append(match.group(0))
        else:
            charset = charset.split("*", 1)[0].lower()  # RFC 2231 language suffix
            if charset != run_charset:
                flush()
                run_charset = charset
            run += decoded
        position = match.end()
    flush()
    pieces.append(value[position:])
    return "".join(pieces)


def _decode_word(encoding: str, encoded: str) -> bytes | None:
    data = encoded.encode("utf-8", "surrogateescape")
    try:
        if encoding in "qQ":
            return binascii.a2b_qp(data, header=True)
        data = data.strip()
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None


# --- bodies: charsets ------------------------------------------------------------------------

# Labels mailers use that Python does not know, or knows as a narrower charset than meant.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "unicode-1-1-utf-7": "utf-7",
    "x-mac-roman": "mac-roman",
    "windows-874": "cp874",
    "utf8": "utf-8",
    "latin-1": "cp1252",
    "iso-8859-1": "cp1252",  # as browsers read it: C1 bytes are cp1252 punctuation in practice
    "us-ascii": "ascii",
}
# Labels whose bytes are more likely UTF-8 than the label when they pass a UTF-8 check.
_WEAK_LABELS = frozenset({"ascii", "cp1252", "iso8859-1", "iso8859-15"})
_SINGLE_BYTE_CODECS = ("ascii", "iso8859", "cp12", "cp8", "cp4", "koi8", "mac-")
_SEVEN_BIT_CODECS = ("iso2022", "utf-7", "utf-16", "utf-32", "hz")  # ASCII bytes mean more


@cache
def _codec(label: str) -> str | None:
    label = label.strip().strip("\"'").lower()
    try:
        return codecs.lookup(_CHARSET_ALIASES.get(label, label)).name
    except (LookupError, UnicodeError):  # unknown, or not even ASCII
        return None


def _decode(
    data: bytes, declared: str | None, defects: _Defects, what: str, guessed: bool = False
) -> str:
    """Bytes to text: the declared charset (a `guessed` one only after UTF-8), then UTF-8 with
    each byte that is not UTF-8 read as cp1252 (Latin-1 for its five gaps). That last step
    never fails, and it reads mail that mixes UTF-8 and cp1252, which exists."""
    codec = _codec(declared) if declared else None
    if data.isascii() and (codec is None or not codec.startswith(_SEVEN_BIT_CODECS)):
        return data.decode("ascii")
    if declared and codec is None:
        defects.add(f"{what}: unknown charset {declared!r}")
    if codec is not None:
        if guessed or codec in _WEAK_LABELS:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
        text = _decode_sibling(data, codec)
        if text is not None:
            return text
        if not guessed:
            defects.add(f"{what}: bytes are not valid {declared}")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if not codec.startswith(_SINGLE_BYTE_CODECS):
            # A few bad bytes in CJK text: lose those, not every character around them.
            return data.decode(codec, "replace")
    return data.decode("utf-8", _CP1252_FOR_BAD_BYTES)


def _decode_sibling(data: bytes, codec: str) -> str | None:
    """Japanese mail labelled ISO-2022-JP often carries Shift_JIS, or NEC characters (①, ㈱)
    that only Microsoft's variant of ISO-2022-JP has."""
    if not codec.startswith("iso2022_jp"):
        return None
    if data.isascii():
        return _iso2022jp_as_cp932(data)
    for sibling in ("cp932", "euc_jp"):
        try:
            return data.decode(sibling)
        except UnicodeDecodeError:
            continue
    return None


def _iso2022jp_as_cp932(data: bytes) -> str | None:
    """ISO-2022-JP read through cp932, which has the NEC rows Python's ISO-2022-JP lacks."""
    converted = bytearray()
    double = kana = False
    position = 0
    while position < len(data):
        if data[position] == 0x1B:
            escape = data[position + 1 : position + 3]
            double, kana = escape in (b"$B", b"$@"), escape == b"(I"
            position += 3
        elif double and position + 1 < len(data) and data[position] > 0x20:
            high, low = data[position], data[position + 1]
            first = ((high + 1) >> 1) + (0x70 if high < 0x5F else 0xB0)
            second = low + (0x1F if low < 0x60 else 0x20) if high & 1 else low + 0x7E
            converted += bytes((first, second))
            position += 2
        else:
            converted.append(
                data[position] | 0x80 if kana and data[position] > 0x20 else data[position]
            )
            position += 1
    try:
        return converted.decode("cp932")
    except UnicodeDecodeError:
        return None


_CP1252_FOR_BAD_BYTES = "helpdesk-cp1252"
_BYTE_AS_CP1252 = [bytes((n,)).decode("cp1252", "ignore") or chr(n) for n in range(256)]


def _bytes_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)  # registered for decoding only
    bad = error.object[error.start : error.end]
    return "".join(_BYTE_AS_CP1252[byte] for byte in bad), error.end


codecs.register_error(_CP1252_FOR_BAD_BYTES, _bytes_as_cp1252)


# --- bodies: the MIME tree -------------------------------------------------------------------

_BODY_TYPES = frozenset({"text/plain", "text/html"})
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_ENCLOSED_TYPES = frozenset({"message/rfc822", "message/global"})
_UNTOUCHED = frozenset({"8bit", "binary"})  # transfer encodings whose bytes are kept as received
_UUENCODINGS = frozenset({"x-uuencode", "uuencode", "uue", "x-uue"})
_REPORT_TYPES = frozenset(
    {
        "message/rfc822",
        "message/global",
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
        "text/rfc822-headers",
    }
)
_EXTENSIONS = {
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "message/feedback-report": ".txt",
    "text/rfc822-headers": ".txt",
    "text/plain": ".txt",
    "image/jpeg": ".jpg",
    "application/octet-stream": "",
}


@dataclass(frozen=True)
class _Part:
    """What the headers of one MIME part say, read once from their raw values."""

    content_type: str
    disposition: str | None
    filename: str
    charset: str | None
    content_id: str | None
    description: str
    transfer_encoding: str
    report_type: str | None


def _describe(part: Message, hint: str | None, defects: _Defects) -> _Part:
    # Parameters are read by the standard library's classic parser from the raw values: the
    # modern header objects have already turned 8-bit file names into U+FFFD.
    view = Message()
    content_id = description = None
    transfer_encoding = ""
    for name, value in part.raw_items():
        key = name.lower()
        if key in ("content-type", "content-disposition") and key not in view:
            view[key] = _fix_8bit(_unfold(str(value)), hint, defects, key)
        elif key == "content-id" and content_id is None:
            content_id = _first_id(_fix_8bit(str(value), hint, defects, key))
        elif key == "content-description" and description is None:
            description = _header_text(_unfold(str(value)), hint, defects, key).strip()
        elif key == "content-transfer-encoding":
            transfer_encoding = str(value).strip().lower()
    content_type = view.get_content_type() if "content-type" in view else part.get_default_type()
    try:
        filename = view.get_filename() or ""
    except Exception as error:  # the classic parameter parser is not hardened either
        defects.add(f"an attachment name could not be read: {error}")
        filename = ""
    charset = view.get_content_charset() if "content-type" in view else None
    report_type = view.get_param("report-type")
    return _Part(
        content_type=content_type,
        disposition=view.get_content_disposition(),
        filename=_nfc(_header_text(filename, hint, defects, "file name").strip()),
        charset=charset,
        content_id=content_id,
        description=description or "",
        transfer_encoding=transfer_encoding,
        report_type=report_type.lower() if isinstance(report_type, str) else None,
    )


@dataclass
class _Piece:
    """One readable run of the body: plain text, HTML, or both (an alternative)."""

    text: str | None = None
    html: str | None = None


class _Body:
    """Walks the MIME tree once: readable pieces in order, everything else as attachments."""

    def __init__(self, defects: _Defects, hint: str | None, source: _Source) -> None:
        self.defects = defects
        self.hint = hint
        self.source = source
        self.pieces: list[_Piece] = []
        self.attachments: list[ParsedAttachment] = []
        self.quote_line: int | None = None
        self._text: str | None = None

    def walk(self, part: Message, path: tuple[int, ...] = (), resource: bool = False) -> None:
        """Read the part at `path` (child numbers from the top); a `resource` (what a
        multipart/related document shows) is an attachment."""
        where = "part " + ".".join(str(n + 1) for n in path) if path else "message"
        if len(path) > MAX_DEPTH:
            self.defects.add(f"{where}: MIME nesting deeper than {MAX_DEPTH}; the rest is skipped")
            return
        try:
            self._walk(part, _describe(part, self.hint, self.defects), path, where, resource)
        except Exception as error:  # one bad part must not lose the rest
            self.defects.add(f"{where}: could not be read ({type(error).__name__}: {error})")
        for defect in part.defects:
            self.defects.add(f"{where}: {_defect_text(defect)}")

    def _walk(
        self, part: Message, info: _Part, path: tuple[int, ...], where: str, resource: bool
    ) -> None:
        content_type = info.content_type
        if content_type in _ENCLOSED_TYPES:
            self._enclosed(part, info, path)
        elif content_type.startswith("message/") and part.is_multipart():
            self._report(part, info, path)
        elif part.is_multipart():
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            subtype = content_type.partition("/")[2]
            if subtype == "alternative":
                self._alternative(children, path)
            else:
                # In multipart/related the first part is the document, the rest what it shows.
                related = subtype == "related"
                for number, child in enumerate(children):
                    self.walk(child, (*path, number), resource or (related and number > 0))
        elif content_type in _BODY_TYPES and not resource and not _is_attachment(info):
            self._readable(part, info, where)
        elif content_type in _TNEF_TYPES:
            self._tnef(part, info, where)
        else:
            self._attachment(info, self._data(part, info, path))

    def _data(self, part: Message, info: _Part, path: tuple[int, ...]) -> bytes:
        """An attachment's bytes. 8bit and binary parts may carry any byte: they are cut from
        the mail as received, not from the copy whose line endings were made LF."""
        if (
            info.transfer_encoding in _UNTOUCHED
            and self.source.received is not self.source.normalised
        ):
            exact = self.source.body(path, exact=True)
            if exact is not None:
                return exact
        return _payload(part, info)

    def _alternative(self, children: list[Message], path: tuple[int, ...]) -> None:
        """Keep the best plain version and the best HTML version (the last of each wins)."""
        versions = []
        for number, child in enumerate(children):
            version = _Body(self.defects, self.hint, self.source)
            version.walk(child, (*path, number))
            versions.append(version)
        plain = next((v for v in reversed(versions) if v.has_text()), None)
        rich = next((v for v in reversed(versions) if v.has_html()), None)
        self.pieces.append(
            _Piece(
                text=plain.text() if plain is not None else None,
                html=rich.html() if rich is not None else None,
            )
        )
        for version in versions:  # a file in any version is a file the sender sent
            self.attachments.extend(version.attachments)

    def _readable(self, part: Message, info: _Part, where: str) -> None:
        text = _decode(_payload(part, info), info.charset, self.defects, where)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if info.content_type == "text/html":
            self.pieces.append(_Piece(html=text))
        else:
            self.pieces.append(_Piece(text=self._uuencoded(text)))

    def _uuencoded(self, text: str) -> str:
        """Old mailers put files in the text as uuencoded blocks; lift them out as attachments."""
        if "begin " not in text:
            return text
        for match in list(_UUENCODED.finditer(text)):
            data = _uudecode(match.group("body"))
            if data is None:
                self.defects.add(f"a uuencoded block for {match.group('name')!r} is broken")
                continue
            name = match.group("name").strip()
            self._add(name, _guess_type(name), data)
            text = text.replace(match.group(0), "", 1)
        return text

    def _enclosed(self, part: Message, info: _Part, path: tuple[int, ...]) -> None:
        """A forwarded or bounced message: an attachment named after its subject, with the bytes
        it came as (so its signatures still verify), or else as the parser read it."""
        enclosed = part.get_payload(0) if part.is_multipart() else None
        if isinstance(enclosed, Message):
            data = self.source.body(path, exact=info.transfer_encoding in _UNTOUCHED)
            if data is None:
                data = self._written(enclosed) if len(enclosed) else b""
            if info.transfer_encoding in ("base64", "quoted-printable"):
                # Not allowed on message/rfc822, but sent: the parser saw encoded text.
                data = _transfer_decoded(data, info.transfer_encoding)
                enclosed = message_from_bytes(data, policy=policy.default)
            subject = _RawHeaders(enclosed, self.hint, self.defects).text("subject") or ""
        else:
            data, subject = _payload(part, info), ""
        name = info.filename or _nfc(subject.strip()) or info.description
        if name and not name.lower().endswith(".eml"):
            name += ".eml"
        self._attachment(info, data, name=name)

    def _report(self, part: Message, info: _Part, path: tuple[int, ...]) -> None:
        """message/delivery-status and kin: header blocks, kept as the text they came as."""
        data = self.source.body(path, exact=False)
        if data is None:
            whole = self._written(part)
            data = whole[1:] if whole.startswith(b"\n") else whole.partition(b"\n\n")[2]
        self._attachment(info, data)

    def _written(self, part: Message) -> bytes:
        """A part written back by the standard library, when it cannot be cut from the mail."""
        try:
            return part.as_bytes(policy=_AS_RECEIVED)
        except Exception as error:  # the generator chokes on what the parser let through
            self.defects.add(f"an enclosed part could not be written back ({error})")
            return b""

    def _tnef(self, part: Message, info: _Part, where: str) -> None:
        data = _payload(part, info)
        try:
            from tnefparse import TNEF  # rare: kept off the cold start

            tnef = TNEF(data)
            files = [(a.long_filename() or a.name, a.data) for a in tnef.attachments]
            html_body, text_body = tnef.htmlbody, tnef.body
        except Exception as error:  # a broken winmail.dat stays an attachment
            self.defects.add(f"{where}: winmail.dat could not be unpacked ({error})")
            self._attachment(info, data)
            return
        for name, content in files:
            name = name.decode("latin-1") if isinstance(name, bytes) else str(name or "")
            self._add(name, _guess_type(name), bytes(content))
        if html_body:
            self.pieces.append(_Piece(html=_text_of(html_body, self.defects, where)))
        elif text_body:
            self.pieces.append(_Piece(text=_text_of(text_body, self.defects, where)))
        elif not files:
            self._attachment(info, data)

    def _attachment(self, info: _Part, data: bytes, name: str = "") -> None:
        name = name or info.filename
        if not name and info.content_id and _FILE_LIKE.match(info.content_id):
            name = info.content_id.partition("@")[0]  # Outlook: cid "image001.png@01D…"
        if not name and info.content_type in _REPORT_TYPES and 0 < len(info.description) <= 80:
            name = info.description + _EXTENSIONS[info.content_type]  # "Delivery report.txt"
        disposition = info.disposition
        self.attachments.append(
            ParsedAttachment(
                name=_safe_name(name),
                content_type=info.content_type,
                size=len(data),
                content_id=info.content_id,
                inline=disposition == "inline" or (disposition is None and bool(info.content_id)),
                data=data,
            )
        )

    def _add(self, name: str, content_type: str, data: bytes) -> None:
        self.attachments.append(
            ParsedAttachment(
                name=_safe_name(name),
                content_type=content_type,
                size=len(data),
                content_id=None,
                inline=False,
                data=data,
            )
        )

    def has_text(self) -> bool:
        return any(piece.text and piece.text.strip() for piece in self.pieces)

    def has_html(self) -> bool:
        return any(piece.html and piece.html.strip() for piece in self.pieces)

    def text(self) -> str:
        """All readable text in order; HTML-only pieces are rendered as text."""
        if self._text is None:
            parts: list[str] = []
            lines_before = 0
            for piece in self.pieces:
                if piece.text is not None and piece.text.strip():
                    part = piece.text.strip("\n")
                elif piece.html is not None:
                    if len(piece.html) > MAX_HTML_FOR_TEXT:
                        self.defects.add("HTML body too large: its text may stop short")
                    part, quote_line = _render_html(piece.html)
                    if quote_line is not None and self.quote_line is None:
                        self.quote_line = lines_before + quote_line
                else:
                    continue
                if part.strip():
                    parts.append(part)
                    lines_before += part.count("\n") + 2
            self._text = "\n\n".join(parts)
        return self._text

    def html(self) -> str:
        """All pieces as one HTML document; plain pieces are escaped into it."""
        parts = []
        for piece in self.pieces:
            if piece.html is not None and piece.html.strip():
                parts.append(piece.html)
            elif piece.text is not None and piece.text.strip():
                escaped = html.escape(piece.text.strip("\n")).replace("\n", "<br>\n")
                parts.append(f"<div>{escaped}</div>")
        return "\n".join(parts)


class _Source:
    """The mail as received, to cut a part's body out of it as it came."""

    def __init__(self, received: bytes, normalised: bytes, message: Message) -> None:
        self.received = received
        self.normalised = normalised
        self.message = message

    def body(self, path: tuple[int, ...], exact: bool) -> bytes | None:
        """The body of the part at `path`, with its line endings as received if `exact`, else
        as LF; None if the boundaries do not match the parse."""
        entity, part = self.received if exact else self.normalised, self.message
        for number in path:
            boundary = part.get_boundary()
            children = part.get_payload()
            if not boundary or not isinstance(children, list) or number >= len(children):
                return None
            parts = _split_multipart(_entity_body(entity), boundary.encode("ascii", "replace"))
            child = children[number]
            if len(parts) != len(children) or not isinstance(child, Message):
                return None
            entity, part = parts[number], child
        return _entity_body(entity)


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _entity_body(entity: bytes) -> bytes:
    if entity.startswith((b"\n", b"\r\n")):
        return entity[entity.index(b"\n") + 1 :]
    blank = _BLANK_LINE.search(entity)
    return entity[blank.end() :] if blank else b""


def _split_multipart(body: bytes, boundary: bytes) -> list[bytes]:
    """The parts between the delimiter lines (the line break before a delimiter is its own)."""
    delimiter = re.compile(
        rb"^--" + re.escape(boundary) + rb"(--)?[ \t]*\r?(?:\n|\Z)", re.MULTILINE
    )
    parts: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(body):
        if start is not None:
            end = match.start() - (2 if body[match.start() - 2 : match.start()] == b"\r\n" else 1)
            parts.append(body[start : max(end, start)])
        if match.group(1):
            return parts
        start = match.end()
    if start is not None:
        parts.append(body[start:])  # no closing delimiter: the part runs to the end
    return parts


# Writes a part back as it came: the standard policies refold long header lines.
_AS_RECEIVED = policy.default.clone(refold_source="none")
_FILE_LIKE = re.compile(r"[\w.-]+\.[A-Za-z0-9]{2,4}@")


def _named(attachments: list[ParsedAttachment]) -> list[ParsedAttachment]:
    """Attachments that came without a name get one from their place and type."""
    return [
        attachment
        if attachment.name
        else replace(attachment, name=f"attachment-{number}{_extension(attachment.content_type)}")
        for number, attachment in enumerate(attachments, 1)
    ]


def _extension(content_type: str) -> str:
    extension = _EXTENSIONS.get(content_type)
    if extension is None:
        extension = mimetypes.guess_extension(content_type, strict=False) or ""
    return extension


def _payload(part: Message, info: _Part) -> bytes:
    """A part's content, transfer encoding undone; the cases the standard library gets wrong
    are decoded here from the encoded text."""
    encoded = part.get_payload()
    # Non-ASCII here means 8-bit bytes in a 7-bit encoding: leave that to the standard library.
    if isinstance(encoded, str) and encoded.isascii():
        if info.transfer_encoding in _UUENCODINGS and "begin " not in encoded:
            # The standard library wants a "begin" line; some mailers leave it out.
            return _uudecode(encoded) or encoded.encode("ascii")
        if info.transfer_encoding == "quoted-printable" and not info.content_type.startswith(
            "text/"
        ):
            # A line break in quoted-printable stands for CRLF: binary files need it back.
            return binascii.a2b_qp(encoded.encode("ascii").replace(b"\n", b"\r\n"))
    data = part.get_payload(decode=True)
    if any(isinstance(d, email_errors.InvalidBase64LengthDefect) for d in part.defects):
        # Cut short (a truncated mail): the standard library gives up on the whole part.
        # Keep every complete group of four.
        compact = "".join(str(encoded).split()).encode("ascii", "ignore")
        return _transfer_decoded(compact[: len(compact) - len(compact) % 4], "base64")
    return data if isinstance(data, bytes) else b""


def _transfer_decoded(data: bytes, encoding: str) -> bytes:
    try:
        if encoding == "base64":
            return binascii.a2b_base64(data)
        return binascii.a2b_qp(data)
    except (binascii.Error, ValueError):
        return data


def _text_of(value: bytes | str, defects: _Defects, where: str) -> str:
    return value if isinstance(value, str) else _decode(value, None, defects, where)


def _is_attachment(info: _Part) -> bool:
    return info.disposition == "attachment" or bool(info.filename)


def _safe_name(name: str) -> str:
    """A file name with no path and no control characters."""
    name = without_controls(name).replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(char for char in name if char.isprintable()).strip().strip(".")


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


_UUENCODED = re.compile(
    r"^begin [0-7]{3,4} (?P<name>[^\n]+)\n(?P<body>(?:[^\n]*\n)*?)end[ \t]*$", re.MULTILINE
)


def _uudecode(body: str) -> bytes | None:
    decoded = bytearray()
    try:
        for line in body.split("\n"):
            if not line:
                continue
            try:
                decoded += binascii.a2b_uu(line)
            except binascii.Error:
                # Some encoders pad lines wrongly: decode only the bytes the length byte claims.
                length = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
                decoded += binascii.a2b_uu(line[:length])
    except (binascii.Error, ValueError, IndexError):
        return None
    return bytes(decoded)


_DEFECT_TEXTS: dict[type[email_errors.MessageDefect], str] = {
    email_errors.CloseBoundaryNotFoundDefect: "multipart has no closing boundary (truncated?)",
    email_errors.StartBoundaryNotFoundDefect: "multipart boundary never found",
    email_errors.NoBoundaryInMultipartDefect: "multipart without a boundary",
    email_errors.MultipartInvariantViolationDefect: "multipart without parts",
    email_errors.MissingHeaderBodySeparatorDefect: "header block not ended by a blank line",
    email_errors.FirstHeaderLineIsContinuationDefect: "first header line is a continuation",
    email_errors.MisplacedEnvelopeHeaderDefect: "mbox 'From ' line inside the headers",
    email_errors.InvalidBase64PaddingDefect: "base64 content has wrong padding",
    email_errors.InvalidBase64CharactersDefect: "base64 content has invalid characters",
    email_errors.InvalidBase64LengthDefect: "base64 content has an impossible length (truncated?)",
    email_errors.InvalidMultipartContentTransferEncodingDefect: (
        "multipart with a content transfer encoding"
    ),
}


def _defect_text(defect: email_errors.MessageDefect) -> str:
    text = _DEFECT_TEXTS.get(type(defect))
    if text is None:
        text = (type(defect).__doc__ or type(defect).__name__).strip().splitlines()[0]
    detail = str(defect).strip()
    return f"{text}: {detail[:120]!r}" if detail else text


# --- HTML: sanitising ------------------------------------------------------------------------

_STYLE_PROPERTIES = frozenset(
    {
        "color",
        "background-color",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "text-align",
        "text-decoration",
        "vertical-align",
        "white-space",
        "line-height",
        "margin",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "padding",
        "padding-top",
        "padding-right",
        "padding-bottom",
        "padding-left",
        "border",
        "border-left",
        "border-collapse",
        "width",
        "height",
    }
)


_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_IMAGE_SCHEMES = frozenset({"cid"})  # the mail's own parts: nothing loads from elsewhere
# A browser drops control characters from a URL before it reads the scheme (`java&#9;script:`,
# `&#1;data:`), so they go before the scheme is checked here too.
_URL_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _kept_attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute not in _URL_ATTRIBUTES:
        return value
    if attribute == "src" and element != "img":
        return None
    url = without_controls(value, instead="").strip()
    scheme = _URL_SCHEME.match(url)
    allowed = _IMAGE_SCHEMES if attribute == "src" else _LINK_SCHEMES
    return url if scheme is not None and scheme.group(1).lower() in allowed else None


@cache
def _cleaner() -> nh3.Cleaner:
    table = {"width", "height", "bgcolor", "valign", "border", "cellpadding", "cellspacing"}
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = {"style", "dir", "lang", "title", "align"}
    attributes["font"] = {"color", "face", "size"}
    attributes["a"] = {"href", "hreflang", "title"}
    for tag in ("table", "td", "th", "tr", "tbody", "thead"):
        attributes[tag] = attributes.get(tag, set()) | table
    return nh3.Cleaner(
        tags=nh3.ALLOWED_TAGS | {"font"},
        clean_content_tags={"script", "style", "title", "template", "iframe", "object", "embed"},
        attributes=attributes,
        attribute_filter=_kept_attribute,
        url_schemes=set(_LINK_SCHEMES | _IMAGE_SCHEMES),
        filter_style_properties=set(_STYLE_PROPERTIES),
        url_relative="deny",
    )


def sanitize_html(markup: str) -> str:
    """HTML safe to show beside the ticket (see the module docstring for what is kept)."""
    return _cleaner().clean(markup)


# --- HTML: readable text ---------------------------------------------------------------------

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


def _render_html(markup: str) -> tuple[str, int | None]:
    if len(markup) > MAX_HTML_FOR_TEXT:
        # html.parser reads about 1 MB a second: keep a huge mail from eating the function's
        # time. Inline images (data: URIs) go first, as they carry no text.
        markup = _DATA_URI.sub('""', markup)[:MAX_HTML_FOR_TEXT]
    renderer = _TextRenderer()
    with contextlib.suppress(Exception):  # html.parser rarely fails; keep what was read
        renderer.feed(markup)
        renderer.close()
    return renderer.result(), renderer.quote_line


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body (see the module docstring)."""
    return _render_html(markup)[0]


# --- quoted history --------------------------------------------------------------------------

_VERBS = (
    r"wrote|writes|schrieb|a écrit|escribió|ha scritto|schreef|skrev|napisał(?:\(a\)|a)?|"
    r"написал(?:\(а\)|а)?|kirjoitti|írta|escreveu|yazdı|napsal(?:a)?|a scris|έγραψε"  # noqa: RUF001
)
_ATTRIBUTION_START = re.compile(
    r"\s*-*\s*(?:(?:On|Am|Le|El|Il|Op|Den|Em|Dne|W dniu|På|Pe)\s|"
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4})"
)
# "… wrote:" or, in German clients, "… schrieb Name <address>:"
_ATTRIBUTION_END = re.compile(rf"(?:{_VERBS})(?:\s*:?|\b.*:)\s*$", re.IGNORECASE)
_ATTRIBUTION_VERB_COLON = re.compile(rf"(?:{_VERBS})\b.*:\s*$|(?:{_VERBS})\s*:\s*$", re.I)
_ORIGINAL_MESSAGE = re.compile(
    r"\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Originalnachricht|"
    r"Message d'origine|Mensaje original|Messaggio originale|Oorspronkelijk bericht|"
    r"Původní zpráva|Oryginalna wiadomość|Исходное сообщение)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(
    r"\s*\*?(?:From|Von|De|Van|Da|Od|Fra|Från|Lähettäjä|Feladó|От)\s*:", re.IGNORECASE
)
_HEADER_SENT = re.compile(
    r"\s*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Verzonden|Skickat|Sendt|"
    r"Wysłano|Отправлено|Data|Enviada)\s*:",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"\s*\*?[\w-]{2,20}\s*:\*?\s")
_UNDERSCORES = re.compile(r"\s*_{20,}\s*$")
_FORWARD_MARKER = re.compile(
    r"\s*(?:-{2,}\s*(?:Forwarded message|Forwarded Message|Weitergeleitete Nachricht|"
    r"Message transféré|Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht|"
    r"Mensagem encaminhada)\s*-{2,}|"
    r"(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht|"
    r"Début du message réexpédié|Inicio del mensaje reenviado)\s*:)",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"\s*(?:fwd?|fw|wg|tr|rv|vs|doorst|enc)\s*:", re.IGNORECASE)


def strip_quoted_history(text: str, subject: str = "", quote_line: int | None = None) -> str:
    """The new text of a reply: what stands above (or, bottom-posted, below) the quoted history.

    Returns `text` itself when no history is found, when cutting would leave nothing, or when
    the mail is a forward. `quote_line` is where the HTML said the quote begins, if it did.
    """
    if not text or _FORWARD_SUBJECT.match(subject):
        return text
    lines = text.split("\n")
    cut, forward = _history_start(lines)
    if quote_line is not None and 0 < quote_line < len(lines) and (cut is None or quote_line < cut):
        cut = quote_line
    if cut is None or (forward is not None and forward <= cut):
        return text
    above = "\n".join(lines[:cut]).strip()
    if above:
        return above
    below = _bottom_posted(lines, cut)
    return below or text


def _history_start(lines: list[str]) -> tuple[int | None, int | None]:
    """(first line of quoted history, first forward marker), as far as the scan went."""
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _FORWARD_MARKER.match(line):
            return None, number
        if stripped.startswith(">"):
            return _attribution_above(lines, number), None
        if _is_history_marker(lines, number):
            return number, None
    return None, None


def _is_history_marker(lines: list[str], number: int) -> bool:
    line = lines[number]
    if _attribution_length(lines, number) or _ORIGINAL_MESSAGE.match(line):
        return True
    if _HEADER_FROM.match(line):
        following = lines[number + 1 : number + 5]
        return any(_HEADER_SENT.match(other) for other in following)
    if _UNDERSCORES.match(line):
        following = [other for other in lines[number + 1 : number + 4] if other.strip()]
        return bool(following) and bool(_HEADER_LINE.match(following[0]))
    return False


def _attribution_length(lines: list[str], number: int) -> int:
    """How many lines (1 to 3) an "On … wrote:" attribution starting here spans; 0 if none."""
    if not _ATTRIBUTION_START.match(lines[number]):
        return 0
    joined = lines[number].strip()
    for length in (1, 2, 3):
        if _ATTRIBUTION_END.search(joined):
            return length
        following = number + length
        if following >= len(lines) or not lines[following].strip() or length == 3:
            return 0
        joined += " " + lines[following].strip()
    return 0


def _attribution_above(lines: list[str], quoted: int) -> int:
    """Where the history begins, given its first "> " line: include a "… wrote:" line above."""
    above = quoted - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above >= 0 and _ATTRIBUTION_VERB_COLON.search(lines[above]):
        for start in (above - 2, above - 1):
            if start >= 0 and _attribution_length(lines, start) == above - start + 1:
                return start
        return above
    return quoted


def _bottom_posted(lines: list[str], cut: int) -> str:
    """Text below an attribution and its "> " lines, when nothing stands above them."""
    attribution = _attribution_length(lines, cut)
    if not attribution and not lines[cut].strip().startswith(">"):
        return ""  # history without "> " marks runs to the end: nothing below is new
    number = cut + max(attribution, 1)
    while number < len(lines) and (not lines[number].strip() or lines[number].startswith(">")):
        number += 1
    rest = lines[number:]
    if any(line.startswith(">") for line in rest):
        return ""  # interleaved answers: show the whole text
    return "\n".join(rest).strip()
