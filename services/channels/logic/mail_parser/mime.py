"""The MIME tree, walked once: the readable pieces in order, everything else as attachments.

The tree comes from the standard library's parser with the modern policy (`email.policy.default`):
structure, transfer encodings, defects. Parameters (RFC 2231 file names) are read by its classic
parser from the raw values. Parts sent as 8bit or binary, and enclosed messages, are cut from the
mail as received instead, so their bytes stay whole.

- TNEF (winmail.dat) is unpacked with `tnefparse`: pure Python, no dependencies, stable but
  without a release since 2021, so it is imported only when a mail has such a part, and a
  winmail.dat it cannot read (or a missing package) leaves winmail.dat as the attachment.
- uuencoded files, as a transfer encoding or as "begin 644 name" blocks in the text, become
  attachments; nameless attachments are named after an Outlook content id ("image001.png@…"),
  a bounce part's description, the subject of an enclosed message, or "attachment-N.ext".
"""

from __future__ import annotations

import binascii
import html
import mimetypes
import re
from dataclasses import dataclass, field, replace
from email import errors as email_errors
from email import message_from_bytes, policy
from email.message import Message

from services.channels.logic.mail_parser.charsets import decode
from services.channels.logic.mail_parser.defects import Defects
from services.channels.logic.mail_parser.headers import (
    RawHeaders,
    first_id,
    fix_8bit,
    header_text,
    nfc,
    unfold,
)
from services.channels.logic.mail_parser.html_text import render_html
from shared.text import without_controls

MAX_DEPTH = 30  # MIME nesting deeper than this is not a real mail; stop rather than recurse on


@dataclass(frozen=True)
class ParsedAttachment:
    """A file of the mail: attached, inline (an image the HTML shows by cid:), or unpacked."""

    name: str
    content_type: str
    size: int
    content_id: str | None  # without <>
    inline: bool
    data: bytes = field(repr=False)


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


def describe(part: Message, hint: str | None, defects: Defects) -> _Part:
    # Parameters are read by the standard library's classic parser from the raw values: the
    # modern header objects have already turned 8-bit file names into U+FFFD.
    view = Message()
    content_id = description = None
    transfer_encoding = ""
    for name, value in part.raw_items():
        key = name.lower()
        if key in ("content-type", "content-disposition") and key not in view:
            view[key] = fix_8bit(unfold(str(value)), hint, defects, key)
        elif key == "content-id" and content_id is None:
            content_id = first_id(fix_8bit(str(value), hint, defects, key))
        elif key == "content-description" and description is None:
            description = header_text(unfold(str(value)), hint, defects, key).strip()
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
        filename=nfc(header_text(filename, hint, defects, "file name").strip()),
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


class Body:
    """Walks the MIME tree once: readable pieces in order, everything else as attachments."""

    def __init__(self, defects: Defects, hint: str | None, source: Source) -> None:
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
            self._walk(part, describe(part, self.hint, self.defects), path, where, resource)
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
            version = Body(self.defects, self.hint, self.source)
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
        text = decode(_payload(part, info), info.charset, self.defects, where)
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
            subject = RawHeaders(enclosed, self.hint, self.defects).text("subject") or ""
        else:
            data, subject = _payload(part, info), ""
        name = info.filename or nfc(subject.strip()) or info.description
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
                    rendered = render_html(piece.html)
                    if rendered.cut_short:
                        self.defects.add("HTML body too large: its text may stop short")
                    part, quote_line = rendered.text, rendered.quote_line
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


class Source:
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


def with_names(attachments: list[ParsedAttachment]) -> list[ParsedAttachment]:
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


def _text_of(value: bytes | str, defects: Defects, where: str) -> str:
    return value if isinstance(value, str) else decode(value, None, defects, where)


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
