"""Header values: addresses, ids, dates, RFC 2047 encoded words and raw 8-bit bytes.

Values are read raw and decoded here (RFC 2047 words, `email.utils.getaddresses`), not through
the standard library's modern header objects: those have already turned 8-bit and mislabelled
bytes into U+FFFD before another charset can be tried, and building them costs about as much
again as the parse itself. Raw 8-bit headers are tried as UTF-8, then as the first charset the
mail declares. Control characters in a subject, a name or a file name become spaces.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from services.channels.logic.mail_parser.charsets import decode
from services.channels.logic.mail_parser.defects import Defects
from shared.text import without_controls


@dataclass(frozen=True)
class MailAddress:
    """One address of a header, as a ticket shows it."""

    email: str  # lowercased
    name: str  # display name, "" when none


class RawHeaders:
    """Header values as the mail carries them, unfolded, with raw 8-bit bytes decoded; encoded
    words are decoded only where asked for (never in ids)."""

    def __init__(self, message: Message, hint: str | None, defects: Defects) -> None:
        self.hint = hint
        self.defects = defects
        self._values: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self._values.setdefault(name.lower(), []).append(str(value))

    def all(self, name: str) -> list[str]:
        return [
            fix_8bit(unfold(value), self.hint, self.defects, name)
            for value in self._values.get(name, [])
        ]

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return fix_8bit(unfold(values[0]), self.hint, self.defects, name) if values else None

    def text(self, name: str) -> str | None:
        value = self.first(name)
        return None if value is None else decode_words(value, self.hint, self.defects, name)

    def addresses(self, name: str) -> list[MailAddress]:
        values = self.all(name)
        return addresses_of(values, self.hint, self.defects, name) if values else []


# In a subject, a name or a file name a control character (NUL, CR, LF, escape...) or a line
# separator only breaks lines where no line may break: a header we write from it, a log line, a
# file name on disk. Each becomes a space, one for one (`without_controls`), so what the sender
# wrote stays visible.


def unfold(value: str) -> str:
    return value.replace("\r", "").replace("\n", "") if "\n" in value or "\r" in value else value


def nfc(text: str) -> str:
    """One Unicode form: macOS writes "é" as "e" plus a combining accent."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


_CHARSET_PARAMETER = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)


def charset_hint(message: Message) -> str | None:
    """The first charset the mail declares beyond ASCII: the best guess for raw 8-bit headers."""
    for part in message.walk():
        for name, value in part.raw_items():
            if name.lower() == "content-type":
                found = _CHARSET_PARAMETER.search(str(value))
                if found and found.group(1).lower() not in ("us-ascii", "ascii"):
                    return found.group(1)
    return None


def sender_of(headers: RawHeaders, defects: Defects) -> MailAddress | None:
    """The first usable From address; else Sender, else Reply-To (the address a reply goes to)."""
    values = headers.all("from")
    if not values:
        defects.add("no From header")
    elif len(values) > 1:
        defects.add(f"{len(values)} From headers")
    found = [a for value in values for a in addresses_of([value], headers.hint, defects, "From")]
    if found:  # a full address first; a bare "MAILER-DAEMON" still says who wrote
        return min(found, key=lambda address: "@" not in address.email)
    if values:
        defects.add(f"From header has no usable address: {values[0]!r}")
    for fallback in ("sender", "reply-to"):
        found = headers.addresses(fallback)
        if found:
            return found[0]
    return None


def addresses_of(
    values: list[str], hint: str | None, defects: Defects, header: str
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
            nfc(without_controls(decode_words(name, hint, defects, header)).strip()) if name else ""
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
        decoded = decode_words(match.group(1), None, Defects(), "")
        if not any(char in decoded for char in _SPECIALS):
            return match.group(0)
        escaped = decoded.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"{match.group(2)}'

    return _NAME_OF_WORDS.sub(quoted, value)


_SPECIALS = frozenset('()<>@,;:\\".[]')
_NAME_OF_WORDS = re.compile(r"((?:=\?[^?\s]+\?[bBqQ]\?[^?]*\?=\s*)+)(<)")
_BARE_ADDRESS = re.compile(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+")
_ID = re.compile(r"<([^<>\s]+)>")


def first_id(value: str | None) -> str | None:
    ids = ids_in(value)
    return ids[0] if ids else None


def ids_in(value: str | None) -> list[str]:
    if not value:
        return []
    found = _ID.findall(value)
    if not found:  # some mailers leave out the brackets
        found = [token.strip("<>,;") for token in value.split() if token.strip("<>,;")]
    return list(dict.fromkeys(found))


def date_of(value: str | None, defects: Defects) -> datetime | None:
    if value is None:
        defects.add("no Date header")
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.add(f"Date header could not be read: {value.strip()!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- RFC 2047 encoded words and raw 8-bit bytes -----------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")


def header_text(value: str, hint: str | None, defects: Defects, header: str) -> str:
    return decode_words(fix_8bit(value, hint, defects, header), hint, defects, header)


def fix_8bit(value: str, hint: str | None, defects: Defects, header: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; decode them with the fallback chain.
    Japanese mailers also send raw ISO-2022-JP, which is 7-bit but full of escape sequences."""
    if "\x1b" in value and value.isascii():
        return decode(value.encode("ascii"), "iso-2022-jp", defects, f"{header} header")
    if value.isascii() or not _has_surrogates(value):
        return value
    data = value.encode("ascii", "surrogateescape")
    return decode(data, hint, defects, f"{header} header", guessed=True)


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in value)


def decode_words(value: str, hint: str | None, defects: Defects, header: str) -> str:
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
            pieces.append(decode(bytes(run), run_charset, defects, f"{header} header"))
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
