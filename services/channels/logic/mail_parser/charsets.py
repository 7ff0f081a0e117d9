"""Bytes to text, for bodies and raw 8-bit headers alike.

The declared charset comes first (bytes labelled ASCII or Latin-1 that pass a UTF-8 check are read
as UTF-8, a common mislabel), then UTF-8, then, for a broken CJK text, the declared charset with
the odd bad byte replaced; the last resort reads UTF-8 with every byte that is not UTF-8 taken as
cp1252 (Latin-1 for cp1252's five gaps): it never fails and it reads mail that mixes the two.
Unknown and broken labels are named in the defects.
"""

from __future__ import annotations

import codecs
from functools import cache

from services.channels.logic.mail_parser.defects import Defects

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


def decode(
    data: bytes, declared: str | None, defects: Defects, what: str, guessed: bool = False
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
