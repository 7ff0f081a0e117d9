"""The new text of a reply, without the quoted history below (or above) it.

Quoted history is found by the markers clients write: "> " lines, "On … wrote:" (over up to
three lines, and its German, French, Spanish, Italian, Dutch, Nordic, Polish, Russian… forms),
"-----Original Message-----", Outlook's "From: … Sent: …" block and the line of underscores above
it, and in HTML the quote containers `html_text` notes. A forward (by its marker line or its
"Fwd:" subject) is new text and is never cut; a bottom-posted reply gives the text below the
quote. The sender's signature stays: it is part of what they wrote. It won the trial against
quotequail and mail-parser-reply (see the package docstring).
"""

from __future__ import annotations

import re

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
