"""How a file of a ticket is served: as a download always, under its own name, never as a type a
browser would run as a page, and only to a link the tickets API signed, until it expires."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from local_stack.files import LocalFiles
from services.tickets.data.files import CloudFrontFileLinks
from services.tickets.logic.attachments import LINK_LIFETIME, content_disposition, served_type
from shared.clock import get_clock
from shared.settings import get_settings


@pytest.mark.parametrize(
    "declared",
    [
        "text/html",
        "TEXT/HTML",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/javascript",
        "text/html; charset=utf-8",  # not a plain type: nothing to trust
        "",
    ],
)
def test_a_type_a_browser_could_run_is_served_as_bytes(declared: str) -> None:
    assert served_type(declared) == "application/octet-stream"


@pytest.mark.parametrize("declared", ["application/pdf", "image/png", "text/plain", "text/csv"])
def test_other_types_are_served_as_the_mail_said(declared: str) -> None:
    assert served_type(declared) == declared


def test_the_disposition_is_a_download_with_the_exact_name_and_an_ascii_stand_in() -> None:
    assert content_disposition('rapport "final" 2026/été.pdf') == (
        'attachment; filename="rapport _final_ 2026__t_.pdf"; '
        "filename*=UTF-8''rapport%20%22final%22%202026%2F%C3%A9t%C3%A9.pdf"
    )
    assert content_disposition("\u00e9\u00e9").startswith('attachment; filename="__";')


KEY = "attachments/0100018c/1-rapport été.pdf"
DISPOSITION = content_disposition("rapport été.pdf")


def _signed(expires_at: datetime, content_type: str = "application/pdf") -> str:
    return CloudFrontFileLinks().download_url(KEY, DISPOSITION, content_type, expires_at)


def _target(url: str) -> str:
    """The path and query the edge gets for a link."""
    return url.removeprefix(get_settings().edge_url or "")


def test_a_link_names_the_file_on_the_edge_and_is_signed_for_the_stage_key_until_it_expires() -> (
    None
):
    expires_at = get_clock().now() + LINK_LIFETIME
    url = urlparse(_signed(expires_at))
    assert f"{url.scheme}://{url.netloc}" == get_settings().edge_url
    assert unquote(url.path) == f"/{KEY}"
    query = parse_qs(url.query)
    assert query["response-content-disposition"] == [DISPOSITION]
    assert query["response-content-type"] == ["application/pdf"]
    assert query["Expires"] == [str(int(expires_at.timestamp()))]
    assert query["Key-Pair-Id"] == [get_settings().file_link_key_id]
    assert timedelta(minutes=5) == LINK_LIFETIME


def test_the_edge_refuses_a_changed_or_expired_link() -> None:
    files = LocalFiles(get_settings())
    url = _signed(get_clock().now() + LINK_LIFETIME)
    assert files.signed(_target(url))
    for changed in (
        url.replace("application%2Fpdf", "text%2Fhtml"),  # served as a page
        url.replace("1-rapport", "2-rapport"),  # another file
        re.sub(r"Expires=(\d+)", lambda m: f"Expires={int(m[1]) + 60}", url),  # for longer
        url.replace("Key-Pair-Id=", "Key-Pair-Id=K"),  # for another key
        re.sub(r"Signature=[^&]+", "Signature=AAAA", url),
        url.split("&Expires=")[0],  # not signed at all
    ):
        assert not files.signed(_target(changed)), changed
        assert files.answer("GET", _target(changed)).status == 403
    expired = _signed(get_clock().now() - timedelta(seconds=1))
    assert not files.signed(_target(expired))
    assert files.answer("GET", _target(expired)).status == 403
    assert files.answer("POST", _target(url)).status == 403
