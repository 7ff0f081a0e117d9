"""How a file of a ticket is served: as a download always, under its own name, and never as a
type a browser would run as a page."""

from __future__ import annotations

import pytest

from services.tickets.logic.attachments import content_disposition, served_type


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
