"""A client's file through the whole local system: mailed over SMTP, stored by the channels
service in the emulated S3, and fetched by an agent through the tickets API's download link from
the gateway, which serves files as the edge does."""

from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from typing import Any

import pytest

from infra.file_links import FILE_HEADERS
from tests.flow.conftest import RunningStack, eventually

pytestmark = pytest.mark.flow
CAROL = "carol@client.example.org"
PDF = b"%PDF-1.4 the invoice, as Carol sent it"


def _mail() -> bytes:
    return (
        (
            f"From: Carol <{CAROL}>\r\nTo: billing@example.com\r\nSubject: My invoice\r\n"
            "Message-ID: <invoice-1@client.example.org>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt is attached.\r\n"
            "--b\r\nContent-Type: application/pdf\r\n"
            'Content-Disposition: attachment; filename="invoice.pdf"\r\n\r\n'
        ).encode()
        + PDF
        + b"\r\n--b--\r\n"
    )


def _messages(stack: RunningStack, token: str) -> list[dict[str, Any]]:
    tickets = stack.call("GET", "/tickets", token=token)[1]["items"]
    if not tickets:
        return []
    return stack.call("GET", f"/tickets/{tickets[0]['id']}/messages", token=token)[1]["items"]  # type: ignore[no-any-return]


def test_an_agent_downloads_the_file_a_client_mailed(stack: RunningStack) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Billing"}, admin)[0] == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    # When Carol mails an invoice to Billing
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail(CAROL, ["billing@example.com"], _mail())
    # Then her ticket's message lists the file
    (message,) = eventually(lambda: _messages(stack, admin))
    (file,) = message["attachments"]
    assert (file["name"], file["size"]) == ("invoice.pdf", len(PDF))
    # And its download path answers a link that fetches the very bytes, as a download
    status, link = stack.call("GET", file["download_path"], token=admin)
    assert status == 200, link
    assert link["url"].startswith(f"http://localhost:{stack.http}/attachments/")
    with urllib.request.urlopen(link["url"], timeout=10) as answer:
        assert answer.read() == PDF
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.headers["Content-Disposition"].startswith("attachment;")
        assert {name: answer.headers[name] for name in FILE_HEADERS} == FILE_HEADERS
    # A link changed to serve the file as a page is refused
    changed = link["url"].replace("application%2Fpdf", "text%2Fhtml")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(changed, timeout=10)
    assert refused.value.code == 403
