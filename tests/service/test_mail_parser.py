"""Reading inbound mail: every real-world mail in ../shared/corpus/mail is read without an
exception and matches the expectations its source project wrote down; hand-written cases cover
sanitising, HTML to text, encoded words, line endings and input that is not mail at all."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

from services.channels.logic import mail_parser
from services.channels.logic.mail_parser import (
    MailAddress,
    ParsedAttachment,
    ParsedMail,
    html_text,
    html_to_text,
    parse_mail,
    sanitize_html,
    strip_quoted_history,
)
from tests.conftest import CORPUS
from tests.service.reply_samples import REPLY_SAMPLES, ReplySample

pytestmark = pytest.mark.service

MAIL = CORPUS / "mail"
NO_CORPUS = "../shared/corpus/mail is not present: the real-world mail tests need it"
# Manifests and expectations sit beside the mail; everything else in the folder is a mail.
NOT_MAIL_SUFFIXES = {".tsv", ".md", ".yml", ".json"}


def _corpus_mail() -> list[Path]:
    if not MAIL.is_dir():
        return []
    return sorted(
        path
        for path in MAIL.rglob("*")
        if path.is_file()
        and path.suffix not in NOT_MAIL_SUFFIXES
        and not path.name.endswith("_reply_text")
        and path.parent.name != "address_lists"  # flanker's address lists, not mails
    )


def _relative(path: Path) -> str:
    return path.relative_to(MAIL).as_posix()


def _words(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _header_block(raw: bytes) -> bytes:
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw.split(b"\n\n", 1)[0]


# --- the whole corpus -----------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.skipif(not MAIL.is_dir(), reason=NO_CORPUS)
@pytest.mark.parametrize("path", _corpus_mail(), ids=_relative)
def test_every_corpus_mail_is_read_without_an_exception(path: Path) -> None:
    # Given a real-world mail, broken or not
    raw = path.read_bytes()
    # When it is read
    parsed = parse_mail(raw)
    # Then a result comes back, with its problems named rather than raised
    assert isinstance(parsed, ParsedMail)
    assert isinstance(parsed.subject, str)
    assert all(isinstance(defect, str) and defect for defect in parsed.defects)
    # and a From header gives a sender address, or says why not
    if re.search(rb"(?im)^from\s*:", _header_block(raw)):
        has_address = parsed.sender is not None and "@" in parsed.sender.email
        assert has_address or any("From" in defect for defect in parsed.defects)
    # and the new text is part of the full text, attachments are whole, nothing runs as script
    assert parsed.reply_text.strip() in parsed.text
    assert all(attachment.size == len(attachment.data) for attachment in parsed.attachments)
    assert all(attachment.name for attachment in parsed.attachments)
    assert parsed.html is None or "<script" not in parsed.html.lower()


# --- zammad: expected_summary.json ----------------------------------------------------------------

ZAMMAD = MAIL / "zammad"
# Where our reading of a zammad fixture differs from zammad's on purpose, and why.
ZAMMAD_DIFFERENCES = {
    ("test_data_mail/mail018.box", "subject"): (
        "the subject is UTF-7 (unicode-1-1-utf-7): zammad leaves '+ANw-' as it is, we decode it"
    ),
    ("test_data_mail/mail018.box", "body"): "the body is UTF-7 as well, as above",
    ("test_data_mail/mail025.box", "attachments"): (
        "the uuencoded block in the text is lifted out as rulesets-report.csv; zammad leaves it"
    ),
    ("test_data_mail/mail025.box", "body"): "the uuencoded block is an attachment, not text",
    ("test_data_mail/mail026.box", "body"): (
        "zammad's body starts with the HTML <title>; we leave the title out, as mail clients do"
    ),
    ("test_data_mail/mail047.box", "body"): "zammad's body starts with the <title>, as above",
    ("test_data_mail/mail049.box", "body"): "zammad's body starts with the <title>, as above",
    ("test_data_mail/mail066.box", "body"): "zammad's body starts with the <title>, as above",
    ("test_data_mail/mail035.box", "from"): (
        'zammad keeps the quotes of "finances8@…" as part of the address'
    ),
    ("test_data_mail/mail046.box", "subject"): (
        "raw 8-bit GB2312 headers in a mail that declares only ISO-8859-1: zammad guesses the "
        "charset from byte statistics, we do not guess"
    ),
    ("test_data_mail/mail046.box", "from"): "the display name is raw 8-bit GB2312, as above",
    ("test_data_mail/mail046.box", "attachments"): "named after the GB2312 subject, as above",
    ("test_data_mail/mail053.box", "attachments"): (
        "zammad names the nameless text/rfc822-headers part 'file'; we use its description"
    ),
    ("test_data_mail/mail054.box", "body"): (
        "the header block is broken (folded lines without indent): zammad finds no body, we "
        "repair the headers and read 'some text'"
    ),
    ("test_data_mail/mail060.box", "body"): (
        "the part mixes UTF-8 and another charset; zammad's text is mojibake, ours reads both"
    ),
    ("test_data_mail/mail064.box", "attachments"): (
        "zammad's expected name is mojibake of the decomposed (NFD) UTF-8 name; ours is the name"
    ),
    ("test_data_mail/mail065.box", "from"): (
        "zammad's expected display name is a fragment of an encoded word split at its comma"
    ),
    ("test_data_mail/mail071.box", "from"): (
        "'<power quadrant system@example.com>' has spaces in the address: zammad keeps them "
        "all, we take the last word"
    ),
    ("test_data_mail/mail072.box", "body"): (
        "zammad reads windows-1258 as windows-1250 ('ŕ' for 'à'); we decode the declared charset"
    ),
    ("test_data_mail/mail076.box", "from"): "a garbage From; zammad keeps its trailing '>'",
    ("test_data_mail/mail085.box", "attachments"): (
        "zammad makes the second HTML part of an Apple Mail multipart/mixed a file; we show it "
        "in the body, as Apple Mail does"
    ),
    ("test_data_mail/mail087.box", "from"): (
        "'Test test@example.com' without brackets: we read the name 'Test' and the address"
    ),
    ("test_data_mail/mail087.box", "attachments"): (
        "a part without Content-Type is text/plain (RFC 2045): we show it as the body, zammad "
        "as a file"
    ),
    ("test_data_mail/mail087.box", "body"): "as above: the fax text is our body",
    ("test_data_mail/mail092.box", "from"): (
        "the comment '(Mail Delivery System)' stays in the display name"
    ),
    ("test_data_mail/mail102.box", "attachments"): (
        "two files sent under one name: zammad renames the second, we keep the names as sent"
    ),
    ("upstream_newer/mail117.box", "from"): (
        "encoded words inside an address are not decoded (RFC 2047 section 5): decoding them "
        "lets a sender forge the domain"
    ),
    ("upstream_newer/mail118.box", "from"): "as mail117: no decoding inside an address",
}
GENERATED_NAME = re.compile(r"attachment-\d+(\.\w+)?$")


def _zammad_cases() -> list[tuple[str, dict[str, Any]]]:
    summary = ZAMMAD / "expected_summary.json"
    if not summary.is_file():
        return []
    return sorted(json.loads(summary.read_text())["cases"].items())


@pytest.fixture(scope="module")
def zammad_parsed() -> dict[str, ParsedMail]:
    return {case: parse_mail((ZAMMAD / case).read_bytes()) for case, _ in _zammad_cases()}


def _differs(case: str, field: str) -> bool:
    return (case, field) in ZAMMAD_DIFFERENCES


def _emails(header: str) -> set[str]:
    return {address.lower() for _, address in getaddresses([header]) if "@" in address}


@pytest.mark.corpus
@pytest.mark.skipif(not ZAMMAD.is_dir(), reason=NO_CORPUS)
@pytest.mark.parametrize(("case", "expected"), _zammad_cases(), ids=[c for c, _ in _zammad_cases()])
def test_zammad_fixture_matches_its_expected_summary(
    case: str, expected: dict[str, Any], zammad_parsed: dict[str, ParsedMail]
) -> None:
    # Given a zammad parser fixture and what zammad's spec expects of it
    parsed = zammad_parsed[case]
    # Then subject, sender and recipients are read alike
    if not _differs(case, "subject"):
        assert _words(parsed.subject) == _words(expected["subject"])
    if not _differs(case, "from"):
        assert parsed.sender is not None
        assert parsed.sender.email == expected["from_email"].lower()
        assert _words(parsed.sender.name) == _words(expected["from_display_name"])
    for field, ours in (("to", parsed.to), ("cc", parsed.cc), ("reply-to", parsed.reply_to)):
        assert _emails(expected.get(field) or "") <= {address.email for address in ours}
    # and every attachment is there, byte for byte, under its name
    if not _differs(case, "attachments"):
        _assert_attachments(expected["attachments"], parsed.attachments)
    # and the body says what zammad's body says (theirs is their own sanitised HTML)
    if not _differs(case, "body"):
        _assert_body(expected, parsed)


def _assert_attachments(expected: list[dict[str, Any]], ours: list[ParsedAttachment]) -> None:
    wanted = [
        attachment
        for attachment in expected
        # zammad's copy of the HTML body, not a file the sender attached
        if not attachment.get("preferences", {}).get("original-format")
    ]
    pool = list(ours)
    unmatched = []
    for attachment in wanted:  # exact name and bytes first, so equal files pair up right
        match = next(
            (
                a
                for a in pool
                if a.name == attachment["filename"] and _md5(a) == attachment["md5_of_data"]
            ),
            None,
        )
        if match is None:
            unmatched.append(attachment)
        else:
            pool.remove(match)
    for attachment in unmatched:
        match = next((a for a in pool if _md5(a) == attachment["md5_of_data"]), None)
        assert match is not None, f"{attachment['filename']} ({attachment['size_bytes']} bytes)"
        assert match.size == attachment["size_bytes"]
        # zammad invents names for nameless parts ("file", "image.jpg"); we invent others
        assert GENERATED_NAME.match(match.name), f"{match.name} != {attachment['filename']}"
        pool.remove(match)


def _md5(attachment: ParsedAttachment) -> str:
    return hashlib.md5(attachment.data, usedforsecurity=False).hexdigest()


def _assert_body(expected: dict[str, Any], parsed: ParsedMail) -> None:
    head = expected["body_head"]
    if head == "no visible content":  # zammad's placeholder for an empty body
        assert not parsed.text.strip()
        return
    if expected["content_type"] == "text/html":
        if head.rfind("<") > head.rfind(">"):  # cut inside a tag
            head = head[: head.rfind("<")]
        head = html_to_text(head)
    if expected["body_len"] <= len(expected["body_head"]):  # the whole body: every word counts
        lines = [_words(head)] if _words(head) else []
    else:  # cut off: the last line may be a fragment; any whole line of some length will do
        lines = [_words(line) for line in head.split("\n")[:-1] or head.split("\n")]
        lines = [line for line in lines if len(line) >= 6]
    ours = _words(parsed.text) + " " + _words(html_to_text(parsed.html or ""))
    assert not lines or any(line in ours for line in lines), lines


@pytest.mark.corpus
def test_zammad_differences_name_real_fixtures() -> None:
    # The list of deliberate differences must not outlive the fixtures it excuses
    cases = {case for case, _ in _zammad_cases()}
    if not cases:
        pytest.skip(NO_CORPUS)
    assert {case for case, _ in ZAMMAD_DIFFERENCES} <= cases


@pytest.mark.corpus
@pytest.mark.skipif(not ZAMMAD.is_dir(), reason=NO_CORPUS)
def test_uuencoded_text_becomes_a_file_like_the_mime_attachment() -> None:
    # Given the same daily report sent once as a MIME attachment, once uuencoded in the text
    mime = parse_mail((ZAMMAD / "test_data_mail/mail024.box").read_bytes())
    uuencoded = parse_mail((ZAMMAD / "test_data_mail/mail025.box").read_bytes())
    # Then both give a file of that name with the same columns; the block is gone from the text
    [mime_file], [uu_file] = mime.attachments, uuencoded.attachments
    assert (uu_file.name, uu_file.content_type) == (mime_file.name, "text/csv")
    header = b"RULESET_ID;NAME;ACTIV;RUN_MODE;AUDIT_MODIFY_DATE"
    assert uu_file.data.split(b"\n")[0] == mime_file.data.split(b"\n")[0] == header
    assert "begin 644" not in uuencoded.text


@pytest.mark.corpus
@pytest.mark.skipif(not ZAMMAD.is_dir(), reason=NO_CORPUS)
def test_utf7_bounce_is_decoded() -> None:
    # Given an Exchange bounce written in UTF-7, subject and body
    parsed = parse_mail((ZAMMAD / "test_data_mail/mail018.box").read_bytes())
    # Then both read as German, not as UTF-7 escapes
    assert _words(parsed.subject) == "Benachrichtung zum Übermittlungsstatus (Fehlgeschlagen)"
    assert "Benachrichtigung über den Zustellstatus" in parsed.text


@pytest.mark.corpus
@pytest.mark.skipif(not ZAMMAD.is_dir(), reason=NO_CORPUS)
def test_broken_header_block_is_repaired() -> None:
    # Given a mail whose gateway broke a folded header line (no leading space)
    parsed = parse_mail((ZAMMAD / "test_data_mail/mail054.box").read_bytes())
    # Then the headers below that line, and the MIME body, are still read
    assert parsed.subject == "AW: One Net Business"
    assert parsed.sender == MailAddress(
        email="karoline.smith@example.com", name="Smith, Karoline, Example DE"
    )
    assert parsed.text == "some text"
    assert any("not headers" in defect for defect in parsed.defects)


# --- talon: quoted history ------------------------------------------------------------------------

TALON = MAIL / "talon"


def _talon_replies() -> list[Path]:
    return sorted((TALON / "standard_replies").glob("*.eml")) if TALON.is_dir() else []


@pytest.mark.corpus
@pytest.mark.skipif(not TALON.is_dir(), reason=NO_CORPUS)
@pytest.mark.parametrize("path", _talon_replies(), ids=lambda path: path.name)
def test_talon_reply_shows_only_the_new_text(path: Path) -> None:
    # Given a reply from a real mail client, quoting the mail it answers
    expected_file = path.with_name(f"{path.stem}_reply_text")
    expected = expected_file.read_text() if expected_file.exists() else "Hello"
    # When it is read
    parsed = parse_mail(path.read_bytes())
    # Then the new text is the reply alone, and the full text keeps the history
    assert parsed.reply_text.strip() == expected.strip()
    assert len(parsed.text) > len(parsed.reply_text)


@pytest.mark.corpus
@pytest.mark.skipif(not TALON.is_dir(), reason=NO_CORPUS)
def test_talon_quote_with_a_header_block_inside_is_cut_at_the_attribution() -> None:
    # Given a reply whose quote starts "--- On …, … wrote:" followed by a From: block
    parsed = parse_mail((TALON / "reply-quotations-share-block.eml").read_bytes())
    # Then the new text keeps the reply and drops the quoted mail (talon's own check)
    assert parsed.reply_text.startswith("Hi Katharine.")
    assert "From" not in parsed.reply_text


@pytest.mark.parametrize("sample", REPLY_SAMPLES, ids=lambda sample: sample.name)
def test_hand_labelled_reply_shows_only_the_new_text(sample: ReplySample) -> None:
    # Given a made-up reply in one client's way of quoting, and its new text (the trial's set)
    # When it is read
    parsed = parse_mail(sample.raw)
    # Then the new text is kept whole, and the quoted mail and its attribution are gone
    assert _words(parsed.reply_text) == _words(sample.expected)


# --- chatwoot: EXPECTED.md ------------------------------------------------------------------------

CHATWOOT = MAIL / "chatwoot"
corpus_chatwoot = pytest.mark.skipif(not CHATWOOT.is_dir(), reason=NO_CORPUS)


def _chatwoot(name: str) -> ParsedMail:
    return parse_mail((CHATWOOT / name).read_bytes())


@pytest.mark.corpus
@corpus_chatwoot
def test_chatwoot_mail_without_subject_has_an_empty_subject() -> None:
    assert _chatwoot("mail_with_no_subject.eml").subject == ""


@pytest.mark.corpus
@corpus_chatwoot
def test_chatwoot_references_are_listed_without_brackets() -> None:
    assert _chatwoot("references.eml").references == [
        "4e6e35f5a38b4_479f13bb90078178@small-app-01.mail",
        "test-reference-id",
    ]


@pytest.mark.corpus
@corpus_chatwoot
def test_chatwoot_several_in_reply_to_ids_give_the_first() -> None:
    parsed = _chatwoot("multiple_in_reply_to.eml")
    assert parsed.in_reply_to == "4e6e35f5a38b4_479f13bb90078171@small-app-01.mail"
    assert _chatwoot("in_reply_to.eml").in_reply_to == (
        "0CB459E0-0336-41DA-BC88-E6E28C697DDB@chatwoot.com"
    )


@pytest.mark.corpus
@corpus_chatwoot
def test_chatwoot_welcome_mail_has_its_text_and_two_images() -> None:
    parsed = _chatwoot("welcome.eml")
    assert parsed.subject == "Discussion: Let's debate these attachments"
    assert parsed.text.strip() == "Let's talk about these images:"
    assert [(a.name, a.content_type) for a in parsed.attachments] == [
        ("avatar1.jpeg", "image/jpg"),
        ("avatar2.jpg", "image/jpg"),
    ]
    assert all(a.size > 1000 and a.inline for a in parsed.attachments)


@pytest.mark.corpus
@corpus_chatwoot
def test_chatwoot_forwarded_reply_has_its_text_and_forwarding_headers() -> None:
    parsed = _chatwoot("forwarder_email.eml")
    assert parsed.reply_text == "Let's talk about these images:"
    assert parsed.in_reply_to == "reply+6bdc3f4d-0bec-4515-a284-5d916fdde489@test.com"


@pytest.mark.corpus
@corpus_chatwoot
def test_chatwoot_auto_replies_and_bounces_show_the_headers_loop_protection_needs() -> None:
    assert _chatwoot("auto_reply.eml").headers_of_interest["x-autoreply"] == "yes"
    assert (
        _chatwoot("auto_reply_with_auto_submitted.eml").headers_of_interest["auto-submitted"]
        == "auto-generated"
    )
    non_utf = _chatwoot("non_utf_encoded_mail.eml")
    assert non_utf.headers_of_interest["auto-submitted"] == "auto-replied"
    assert "أنظروا" in non_utf.text  # the body is read as text, whatever its charset
    bounce = _chatwoot("bounced_gmail.eml").headers_of_interest
    assert bounce["content-type"] == "multipart/report"
    assert bounce["x-failed-recipients"] == "alex.jones@fictionalcorp.com"


@pytest.mark.corpus
@corpus_chatwoot
def test_chatwoot_bounce_without_from_is_read_with_the_problem_named() -> None:
    parsed = _chatwoot("bounced_with_no_from.eml")
    assert parsed.sender is None
    assert any("From" in defect for defect in parsed.defects)
    assert "could not\nbe delivered" in parsed.text
    assert [a.content_type for a in parsed.attachments] == [
        "message/delivery-status",
        "message/rfc822",
    ]


@pytest.mark.corpus
@corpus_chatwoot
def test_chatwoot_google_group_mail_shows_the_original_sender() -> None:
    parsed = _chatwoot("group_sender_support.eml")
    assert parsed.headers_of_interest["x-original-sender"] == "jane@example.com"
    assert parsed.sender is not None
    assert parsed.sender.name == "ACME group"


# --- tnefparse: winmail.dat -----------------------------------------------------------------------

TNEF = MAIL / "tnefparse"


def _tnef_expectations() -> list[tuple[str, list[str], str]]:
    """(file, attachment names, body kind) from the table in EXPECTED.md."""
    expected = TNEF / "EXPECTED.md"
    if not expected.is_file():
        return []
    rows = []
    for line in expected.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].endswith(".tnef"):
            names = [] if cells[2] == "(none)" else [n.strip('" ') for n in cells[2].split(", ")]
            rows.append((cells[0], names, cells[3]))
    return rows


def _mail_with_winmail_dat(payload: bytes) -> bytes:
    import base64

    encoded = base64.encodebytes(payload)
    return (
        b"From: Outlook User <user@example.com>\nTo: support@example.com\n"
        b"Subject: With winmail.dat\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        b'See attached.\n--b\nContent-Type: application/ms-tnef; name="winmail.dat"\n'
        b"Content-Transfer-Encoding: base64\n\n" + encoded + b"--b--\n"
    )


@pytest.mark.corpus
@pytest.mark.skipif(not TNEF.is_dir(), reason=NO_CORPUS)
@pytest.mark.parametrize(
    ("file", "names", "body"), _tnef_expectations(), ids=[r[0] for r in _tnef_expectations()]
)
def test_winmail_dat_is_unpacked_into_its_attachments(
    file: str, names: list[str], body: str
) -> None:
    # Given an Outlook mail whose attachments travel inside winmail.dat
    raw = _mail_with_winmail_dat((TNEF / file).read_bytes())
    # When it is read
    parsed = parse_mail(raw)
    # Then the files inside are the attachments, by their long names
    assert [attachment.name for attachment in parsed.attachments] == names
    assert all(attachment.size > 0 for attachment in parsed.attachments)
    if body == "htmlbody":
        assert parsed.html is not None
    assert "See attached." in parsed.text


def test_broken_winmail_dat_stays_an_attachment() -> None:
    parsed = parse_mail(_mail_with_winmail_dat(b"not TNEF at all"))
    assert [attachment.name for attachment in parsed.attachments] == ["winmail.dat"]
    assert any("winmail.dat" in defect for defect in parsed.defects)


# --- hand-written: HTML ---------------------------------------------------------------------------


def test_sanitising_removes_what_could_run_or_track_and_keeps_inline_images() -> None:
    # Given HTML with every kind of active content a mail can carry
    dirty = (
        '<p onclick="steal()" style="color: red; background-image: url(https://t.example/x)">'
        "Hi<script>alert(1)</script></p><style>p { color: red }</style>"
        '<img src="cid:logo@example.com" alt="logo"><img src="https://tracker.example/p.gif">'
        '<a href="javascript:alert(1)">bad</a><a href="https://example.com/help">help</a>'
        '<iframe src="https://evil.example"></iframe><form action="https://evil.example">'
        '<input name="password"></form><a href="/relative">relative</a>'
    )
    # When it is sanitised
    clean = sanitize_html(dirty)
    # Then nothing runs, loads or submits, and the mail's own images still show
    for forbidden in ("script", "onclick", "iframe", "<form", "<input", "javascript:", "<style"):
        assert forbidden not in clean
    assert "tracker.example" not in clean
    assert "url(" not in clean
    assert 'src="cid:logo@example.com"' in clean
    assert 'href="https://example.com/help"' in clean
    assert "noopener" in clean
    assert 'href="/relative"' not in clean
    assert "color:red" in clean.replace(" ", "")


def test_html_becomes_readable_text() -> None:
    markup = (
        "<html><head><title>Newsletter</title><style>p {}</style></head><body>"
        "<p>Hello&nbsp;there,<br>second line</p><ul><li>one</li><li>two</li></ul>"
        '<p>See <a href="https://example.com/faq">the FAQ</a>.</p>'
        "<blockquote>quoted<br>lines</blockquote><script>bad()</script></body></html>"
    )
    assert html_to_text(markup) == (
        "Hello there,\nsecond line\n\n- one\n- two\n\nSee the FAQ (https://example.com/faq).\n\n"
        "> quoted\n> lines"
    )


def test_huge_html_is_kept_whole_but_rendered_as_text_only_in_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an HTML body larger than what is worth rendering as text (made small here)
    monkeypatch.setattr(html_text, "MAX_HTML_FOR_TEXT", 200)
    paragraphs = "".join(f"<p>paragraph {n}</p>" for n in range(100))
    raw = b"From: a@example.com\nContent-Type: text/html\n\n" + paragraphs.encode()
    # When it is read
    parsed = parse_mail(raw)
    # Then the text stops short and says so, and the sanitised HTML is all there
    assert parsed.text.startswith("paragraph 0\n\nparagraph 1")
    assert "paragraph 99" not in parsed.text
    assert "paragraph 99" in (parsed.html or "")
    assert any("too large" in defect for defect in parsed.defects)


def test_html_only_mail_gets_text_and_sanitised_html() -> None:
    raw = (
        b"From: a@example.com\nSubject: html\nContent-Type: text/html; charset=utf-8\n\n"
        b"<div>Gr\xc3\xbc\xc3\x9fe<script>x()</script></div>"
    )
    parsed = parse_mail(raw)
    assert parsed.text == "Grüße"
    assert parsed.html == "<div>Grüße</div>"


# --- hand-written: headers, charsets, line endings ------------------------------------------------


def test_encoded_words_in_subject_names_and_file_names_are_decoded() -> None:
    raw = (
        b"From: =?iso-8859-1?Q?B=FCrling,=20Andreas?= <andreas@example.com>\n"
        b"To: =?utf-8?B?Wm/Dqw==?= <zoe@example.org>, plain@example.org\n"
        b"Subject: =?utf-8?B?R3LDvMOfZQ==?= =?utf-8?Q?_aus_K=C3=B6ln?=\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nHi\n'
        b"--b\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=utf-8''Erkl%C3%A4rung.pdf\n\n%PDF\n"
        b'--b\nContent-Type: text/plain; name="=?utf-8?Q?R=C3=A9sum=C3=A9.txt?="\n'
        b"Content-Disposition: attachment\n\nCV\n--b--\n"
    )
    parsed = parse_mail(raw)
    assert parsed.subject == "Grüße aus Köln"
    assert parsed.sender is not None
    assert (parsed.sender.email, parsed.sender.name) == ("andreas@example.com", "Bürling, Andreas")
    assert [(a.email, a.name) for a in parsed.to] == [
        ("zoe@example.org", "Zoë"),
        ("plain@example.org", ""),
    ]
    assert [a.name for a in parsed.attachments] == ["Erklärung.pdf", "Résumé.txt"]
    assert parsed.text == "Hi"


def test_encoded_words_inside_an_address_are_not_decoded() -> None:
    # A sender hiding another domain in an encoded word must not get that domain
    raw = b"From: =?utf-8?q?attacker=40evil.example=3e?=@victim.example\nSubject: x\n\nx\n"
    parsed = parse_mail(raw)
    assert parsed.sender is not None
    assert parsed.sender.email.endswith("@victim.example")
    assert "evil.example>" not in parsed.sender.email


def test_unknown_and_mislabelled_charsets_fall_back_and_say_so() -> None:
    raw = (
        b"From: a@example.com\nSubject: caf\xe9\nContent-Type: text/plain; charset=x-bogus\n\n"
        b"caf\xe9 \x93quoted\x94\n"
    )
    parsed = parse_mail(raw)
    assert parsed.text == "café “quoted”"
    assert parsed.subject == "café"
    assert any("x-bogus" in defect for defect in parsed.defects)
    utf8_as_latin1 = b"From: a@example.com\nContent-Type: text/plain; charset=iso-8859-1\n\n"
    assert parse_mail(utf8_as_latin1 + "Grüße".encode()).text == "Grüße"


def test_cr_only_and_crlf_line_endings_read_like_lf() -> None:
    lf = (
        b"From: Old Mac <mac@example.com>\nSubject: Line endings\n"
        b"Content-Type: text/plain\n\nfirst line\nsecond line\n"
    )
    for raw in (lf, lf.replace(b"\n", b"\r"), lf.replace(b"\n", b"\r\n")):
        parsed = parse_mail(raw)
        assert parsed.subject == "Line endings"
        assert parsed.sender == MailAddress(email="mac@example.com", name="Old Mac")
        assert parsed.text == "first line\nsecond line"


def test_mbox_separator_line_is_not_a_header() -> None:
    raw = (
        b"From bob@example.com Sat Jan  1 00:00:00 2000\nFrom: bob@example.com\nSubject: mbox\n\nx"
    )
    parsed = parse_mail(raw)
    assert parsed.subject == "mbox"
    assert parsed.sender == MailAddress(email="bob@example.com", name="")
    assert not [defect for defect in parsed.defects if "mbox" in defect]


def test_headers_and_ids() -> None:
    raw = (
        b"From: Bob <BOB@Example.COM>\nReply-To: help@example.com\nCc: c@example.com\n"
        b"Message-ID: <m1@example.com>\nIn-Reply-To: <a@x> <b@x>\nReferences: <r1@x>\n <r2@x>\n"
        b"Date: Tue, 2 Apr 2024 10:00:00 +0200\nAuto-Submitted: auto-replied\n"
        b"Precedence: bulk\nList-Id: <list.example.com>\n\nbody\n"
    )
    parsed = parse_mail(raw)
    assert parsed.sender == MailAddress(email="bob@example.com", name="Bob")
    assert parsed.message_id == "m1@example.com"
    assert parsed.in_reply_to == "a@x"
    assert parsed.references == ["r1@x", "r2@x"]
    assert parsed.date == datetime(2024, 4, 2, 8, 0, tzinfo=UTC)
    assert [a.email for a in parsed.reply_to] == ["help@example.com"]
    assert [a.email for a in parsed.cc] == ["c@example.com"]
    assert parsed.headers_of_interest["auto-submitted"] == "auto-replied"
    assert parsed.headers_of_interest["precedence"] == "bulk"
    assert parsed.headers_of_interest["list-id"] == "<list.example.com>"
    assert parsed.headers_of_interest["content-type"] == "text/plain"


# --- hand-written: structure ----------------------------------------------------------------------


def test_forwarded_message_becomes_an_attachment_named_after_its_subject() -> None:
    enclosed = b"From: c@example.com\nSubject: Invoice 42\n\nPlease pay.\n"
    raw = (
        b"From: a@example.com\nSubject: Fwd: Invoice 42\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nSee below.\n--b\nContent-Type: message/rfc822\n\n"
        + enclosed
        + b"--b--\n"
    )
    parsed = parse_mail(raw)
    assert [(a.name, a.content_type, a.data) for a in parsed.attachments] == [
        ("Invoice 42.eml", "message/rfc822", enclosed.rstrip(b"\n"))
    ]
    assert parsed.text == "See below."


def test_nameless_attachments_are_named_from_their_type() -> None:
    raw = (
        b'From: a@example.com\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nscan attached\n"
        b"--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERg==\n"
        b"--b\nContent-Type: image/png\nContent-ID: <image001.png@01D0>\n\nPNG\n--b--\n"
    )
    parsed = parse_mail(raw)
    assert [(a.name, a.size, a.content_id, a.inline) for a in parsed.attachments] == [
        ("attachment-1.pdf", 4, None, False),
        ("image001.png", 3, "image001.png@01D0", True),
    ]


def test_alternative_gives_plain_text_and_html_and_keeps_inline_images() -> None:
    raw = (
        b'From: a@example.com\nContent-Type: multipart/alternative; boundary="a"\n\n'
        b"--a\nContent-Type: text/plain\n\nplain version\n"
        b'--a\nContent-Type: multipart/related; boundary="r"\n\n'
        b'--r\nContent-Type: text/html\n\n<p>html <img src="cid:pic"></p>\n'
        b"--r\nContent-Type: image/gif\nContent-ID: <pic>\n\nGIF\n--r--\n--a--\n"
    )
    parsed = parse_mail(raw)
    assert parsed.text == "plain version"
    assert parsed.html == '<p>html <img src="cid:pic"></p>'
    assert [(a.content_id, a.inline) for a in parsed.attachments] == [("pic", True)]


def test_truncated_mail_is_read_as_far_as_it_goes() -> None:
    raw = (
        b'From: a@example.com\nSubject: cut\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nstill here\n--b\nContent-Type: application/pdf\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK"
    )
    parsed = parse_mail(raw)
    assert parsed.text == "still here"
    assert parsed.attachments[0].data.startswith(b"%PDF")
    assert any("closing boundary" in defect for defect in parsed.defects)


# --- hand-written: quoted history -----------------------------------------------------------------


@pytest.mark.parametrize(
    "history",
    [
        "On Mon, 1 Apr 2024 at 10:00, Bob <bob@example.com> wrote:\n> Hi",
        "On Mon, 1 Apr 2024 at 10:00, Bob Example <\nbob@example.com> wrote:\n\n> Hi",
        "Am 01.04.2024 um 10:00 schrieb Bob Beispiel <bob@example.com>:\n> Hallo",
        "Le lun. 1 avr. 2024 à 10:00, Bob <bob@example.com> a écrit :\n> Salut",
        "-----Original Message-----\nFrom: Bob\nSent: Monday\nSubject: Hi\n\nHi",
        "From: Bob <bob@example.com>\nSent: Monday, April 1, 2024 10:00\nTo: Support\n\nHi",
        "________________________________\nFrom: Bob <bob@example.com>\nSent: Monday\n\nHi",
        "> Hi\n> there",
    ],
)
def test_quoted_history_is_cut_below_the_new_text(history: str) -> None:
    text = f"Thanks, that fixed it.\n\n{history}"
    assert strip_quoted_history(text) == "Thanks, that fixed it."


def test_a_forward_is_new_text_and_is_not_cut() -> None:
    forwarded = (
        "Please look at this.\n\n---------- Forwarded message ---------\nFrom: Bob\n"
        "Date: Mon\nSubject: Hi\n\n> quoted in the original"
    )
    assert strip_quoted_history(forwarded) == forwarded
    outlook_forward = "FYI\n\nFrom: Bob\nSent: Monday\nTo: me\n\nOriginal text"
    assert strip_quoted_history(outlook_forward, subject="FW: report") == outlook_forward


def test_text_without_history_is_returned_as_it_is() -> None:
    assert strip_quoted_history("Just a question:\nwhy?\n") == "Just a question:\nwhy?\n"


def test_gmail_quote_in_html_only_mail_is_cut() -> None:
    raw = (
        b"From: a@example.com\nContent-Type: text/html\n\n<div>Sounds good</div>"
        b'<div class="gmail_quote"><div>Someone said something</div>'
        b"<blockquote>old text</blockquote></div>"
    )
    parsed = parse_mail(raw)
    assert parsed.reply_text == "Sounds good"
    assert "old text" in parsed.text


# --- never raises ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        bytes(range(256)) * 40,
        b"\x00\xff" * 1000,
        b"not a mail at all",
        b"Content-Type: multipart/mixed; boundary=\n\n--\n--",
        b"From: <<<@@@>>>\nSubject: =?utf-8?B?not base64!?=\nDate: yesterday\n\nx",
        b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n!!!",
        b'Content-Type: multipart/mixed; boundary="b"\n\n' + b"--b\nContent-Type: multipart/mixed; "
        b'boundary="b"\n\n' * 200,
    ],
    ids=[
        "empty",
        "all bytes",
        "binary",
        "text",
        "empty boundary",
        "bad headers",
        "bad rfc822",
        "deep",
    ],
)
def test_garbage_input_gives_a_result_with_its_problems(raw: bytes) -> None:
    parsed = parse_mail(raw)
    assert isinstance(parsed, ParsedMail)
    assert parsed.defects
    assert parsed.reply_text.strip() in parsed.text


def test_a_parser_failure_still_returns_the_mail_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bug deep in the parser
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(mail_parser, "message_from_bytes", broken)
    # When a mail is read
    parsed = parse_mail(b"From: a@example.com\nSubject: hello\n\nthe body")
    # Then nothing is lost: the bytes are the text, and the failure is named
    assert "the body" in parsed.text
    assert any("parser bug" in defect for defect in parsed.defects)
