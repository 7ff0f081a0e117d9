"""Files on tickets: a short-lived link that downloads one through the edge, for those who may see
the ticket; inline images of HTML mail by their content id; files on a new ticket; forwarding a
client's file in a reply."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from infra.file_links import FILE_HEADERS, public_key
from infra.least_privilege import AwsCall, service_refusals
from local_stack.files import LOCAL_KEY_ID
from local_stack.mail import MailReceiver
from local_stack.provision import local_parameters
from local_stack.system import LocalSystem
from shared.aws import client
from shared.clock import get_clock
from shared.settings import get_settings
from tests.conftest import Delivery, Fetched, HttpClient, sent_mail

pytestmark = pytest.mark.service

ALICE = ("alice@example.com", "agent")  # Billing
BOB = ("bob@example.com", "agent")  # Technical
CLIENT = "carol@client.example.org"
PDF = b"%PDF-1.4 the invoice"


@pytest.fixture
def billing(http: HttpClient) -> None:
    for name, member in (("Billing", ALICE[0]), ("Technical", BOB[0])):
        department = http.expect(201, "POST", "/departments", {"name": name})
        path = f"/departments/{department['id']}/members"
        http.expect(200, "POST", path, {"email": member})
    channel = {"address": "billing@example.com", "department_id": "billing"}
    http.expect(201, "POST", "/channels", channel)


@pytest.fixture
def inbox(system: LocalSystem) -> MailReceiver:
    return MailReceiver(
        get_settings().mail_bucket, lambda e: system.invoke("channels", "receive_mail", e)
    )


def _mail(subject: str, *parts: bytes, kind: str = "mixed") -> bytes:
    head = (
        f"From: Carol <{CLIENT}>\r\nTo: billing@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@client.example.org>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/{kind}; boundary="b"\r\n\r\n'
    ).encode()
    text = b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the file.\r\n"
    body = b"".join(b"--b\r\n" + part + b"\r\n" for part in parts)
    return head + (text if kind == "mixed" else b"") + body + b"--b--\r\n"


def _file(name: str, content_type: str, data: bytes) -> bytes:
    return (
        f'Content-Type: {content_type}\r\nContent-Disposition: attachment; filename="{name}"\r\n'
        "\r\n"
    ).encode() + data


def _received(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver, subject: str, *parts: bytes
) -> dict[str, Any]:
    """A client's mail with these parts arrives in Billing; its message on the new ticket."""
    inbox.receive(_mail(subject, *parts), CLIENT, ["billing@example.com"])
    delivery.run()
    (ticket,) = [t for t in http.expect(200, "GET", "/tickets")["items"] if t["subject"] == subject]
    (message,) = http.expect(200, "GET", f"/tickets/{ticket['id']}/messages")["items"]
    return dict(message)


def _link(http: HttpClient, path: str, as_: tuple[str, str] = ALICE) -> dict[str, Any]:
    answer = http.call("GET", path, as_=as_)
    assert answer.status == 200, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    return dict(answer.body)


def _fetched(http: HttpClient, url: str) -> Fetched:
    answer = http.fetch(url)
    assert answer.status == 200, answer.content
    # Whatever the file, the edge's headers: never sniffed, never run as a page
    assert {name: answer.headers[name] for name in FILE_HEADERS} == FILE_HEADERS
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    return answer


@pytest.mark.usefixtures("billing")
def test_an_agent_of_the_department_downloads_a_mails_file_by_its_link(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    message = _received(
        http, delivery, inbox, "Invoice", _file("facture été.pdf", "application/pdf", PDF)
    )
    (file,) = message["attachments"]
    assert file["download_path"] == f"/tickets/{message['ticket_id']}/attachments/{file['id']}"
    assert file["inline"] is False
    link = _link(http, file["download_path"])
    assert (link["name"], link["content_type"], link["size"]) == (
        "facture été.pdf",
        "application/pdf",
        len(PDF),
    )
    answer = _fetched(http, link["url"])
    assert answer.content == PDF
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename=\"facture _t_.pdf\"; filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf"
    )
    # The ticket's number works as well as its id
    (ticket,) = http.expect(200, "GET", "/tickets")["items"]
    _link(http, f"/tickets/{ticket['number']}/attachments/{file['id']}")


@pytest.mark.usefixtures("billing")
def test_the_link_is_signed_for_the_edge_key_for_five_minutes(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    message = _received(http, delivery, inbox, "Scan", _file("a.pdf", "application/pdf", PDF))
    file = message["attachments"][0]
    asked = get_clock().now()
    link = _link(http, file["download_path"])
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert asked + timedelta(minutes=5) <= expires_at <= get_clock().now() + timedelta(minutes=5)
    url = urlparse(link["url"])
    assert f"{url.scheme}://{url.netloc}" == get_settings().edge_url
    assert url.path == f"/{file['key']}"
    signed = parse_qs(url.query)
    # A canned policy: the expiry, the key it is signed with, and the signature of both and the
    # URL, response overrides included, so the holder can change none of them
    assert signed["Key-Pair-Id"] == [LOCAL_KEY_ID]
    assert int(signed["Expires"][0]) == int(expires_at.timestamp())
    assert {"response-content-disposition", "response-content-type"} <= set(signed)
    resource = link["url"].split("&Expires=", 1)[0]
    policy = (
        f'{{"Statement":[{{"Resource":"{resource}","Condition":'
        f'{{"DateLessThan":{{"AWS:EpochTime":{signed["Expires"][0]}}}}}}}]}}'
    )
    signature = base64.b64decode(signed["Signature"][0].translate(str.maketrans("-_~", "+=/")))
    key: Any = serialization.load_pem_public_key(
        public_key(get_settings().file_link_key or "").encode()
    )
    key.verify(signature, policy.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


@pytest.mark.usefixtures("billing")
def test_an_expired_or_changed_link_is_refused(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    message = _received(http, delivery, inbox, "Old", _file("a.pdf", "application/pdf", PDF))
    url = _link(http, message["attachments"][0]["download_path"])["url"]
    # Served as inline HTML, for another key, for longer, or for another file: refused
    for changed in (
        url.replace("response-content-type=application%2Fpdf", "response-content-type=text%2Fhtml"),
        url.replace(f"Key-Pair-Id={LOCAL_KEY_ID}", "Key-Pair-Id=K2OTHER"),
        re.sub(r"Expires=(\d+)", lambda m: f"Expires={int(m[1]) + 3600}", url),
        url.replace("/attachments/", "/attachments/x"),
        url.split("&Expires=", 1)[0],
    ):
        assert changed != url
        refused = http.fetch(changed)
        assert refused.status == 403, changed
        assert PDF not in refused.content
    # Nor is anything of the bucket but the files of messages served there
    assert http.fetch(url.replace("/attachments/", "/inbound/")).status in (403, 404)
    # Five minutes on, by the one clock, the very link is refused too
    assert _fetched(http, url).content == PDF
    get_clock().advance(timedelta(minutes=5))
    assert http.fetch(url).status == 403


@pytest.mark.usefixtures("billing")
def test_an_agent_outside_the_department_gets_the_same_404_as_for_no_ticket(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    message = _received(http, delivery, inbox, "Private", _file("a.pdf", "application/pdf", PDF))
    file = message["attachments"][0]
    hidden = http.call("GET", file["download_path"], as_=BOB)
    missing = http.call(
        "GET", f"/tickets/00000000-0000-4000-8000-000000000000/attachments/{file['id']}", as_=BOB
    )
    assert hidden.status == missing.status == 404
    assert hidden.headers["Content-Type"] == "application/problem+json"
    assert hidden.body["type"] == missing.body["type"]
    assert "url" not in hidden.body


@pytest.mark.usefixtures("billing")
def test_an_unknown_attachment_answers_404(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    message = _received(http, delivery, inbox, "One", _file("a.pdf", "application/pdf", PDF))
    second, message_id, _ = message["attachments"][0]["id"].split(".")
    ticket = message["ticket_id"]
    for unknown in (
        f"{second}.{message_id}.2",  # beyond the message's files
        f"{second}.00000000-0000-4000-8000-000000000000.1",  # no such message
        f"20200101T000000.{message_id}.1",  # the message, but not then
        "not-an-id",
    ):
        answer = http.call("GET", f"/tickets/{ticket}/attachments/{unknown}", as_=ALICE)
        assert answer.status == 404, unknown
        assert answer.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("page.html", "text/html"),
        ("logo.svg", "image/svg+xml"),
        ("x.xhtml", "application/xhtml+xml"),
    ],
)
@pytest.mark.usefixtures("billing")
def test_a_file_a_browser_would_render_is_served_as_a_download(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver, name: str, content_type: str
) -> None:
    page = b"<html><script>alert(1)</script></html>"
    message = _received(http, delivery, inbox, f"Page {name}", _file(name, content_type, page))
    (file,) = message["attachments"]
    assert file["content_type"] == content_type  # as the mail said
    link = _link(http, file["download_path"])
    assert link["content_type"] == "application/octet-stream"
    answer = _fetched(http, link["url"])
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert answer.content == page


@pytest.mark.usefixtures("billing")
def test_an_inline_image_of_html_mail_is_reachable_by_its_content_id(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    png = b"\x89PNG\r\n\x1a\n logo"
    html = b'Content-Type: text/html; charset=utf-8\r\n\r\n<p>Our logo: <img src="cid:logo@client">'
    image = (
        b"Content-Type: image/png\r\nContent-ID: <logo@client>\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: inline; filename="logo.png"\r\n\r\n' + base64.b64encode(png)
    )
    inbox.receive(_mail("Logo", html, image, kind="related"), CLIENT, ["billing@example.com"])
    delivery.run()
    (ticket,) = http.expect(200, "GET", "/tickets")["items"]
    (message,) = http.expect(200, "GET", f"/tickets/{ticket['id']}/messages")["items"]
    assert "cid:logo@client" in message["html"]
    # A client maps each `cid:` of the HTML to the file with that content id
    (file,) = [a for a in message["attachments"] if a["content_id"] == "logo@client"]
    assert file["inline"] is True
    answer = _fetched(http, _link(http, file["download_path"])["url"])
    assert (answer.content, answer.headers["Content-Type"]) == (png, "image/png")


def _uploaded(http: HttpClient, name: str, data: bytes) -> dict[str, Any]:
    """Ask for the form, then store the file as the browser's POST of that form does."""
    form = http.expect(
        201,
        "POST",
        "/channels/uploads",
        {"name": name, "content_type": "application/pdf", "size": len(data)},
        as_=ALICE,
    )
    (tag,) = re.findall(r"<Key>(.+?)</Key><Value>(.+?)</Value>", form["fields"]["tagging"])
    client("s3").put_object(
        Bucket=get_settings().mail_bucket,
        Key=form["key"],
        Body=data,
        ContentType="application/pdf",
        Tagging=f"{tag[0]}={tag[1]}",
    )
    return {"name": name, "content_type": "application/pdf", "size": len(data), "key": form["key"]}


def _tags(key: str) -> dict[str, str]:
    tags = client("s3").get_object_tagging(Bucket=get_settings().mail_bucket, Key=key)["TagSet"]
    return {t["Key"]: t["Value"] for t in tags}


@pytest.mark.usefixtures("billing")
def test_an_agent_opens_a_ticket_with_files_which_are_then_kept(
    http: HttpClient, delivery: Delivery
) -> None:
    contract = _uploaded(http, "contract.pdf", PDF)
    opened = http.call(
        "POST",
        "/tickets",
        {
            "subject": "Your contract",
            "body": "Attached, as promised.",
            "department_id": "billing",
            "requester": {"email": CLIENT},
            "attachments": [contract],
        },
        as_=ALICE,
    )
    assert opened.status == 201, opened.body
    delivery.run()
    (message,) = http.expect(200, "GET", f"/tickets/{opened.body['id']}/messages")["items"]
    (file,) = message["attachments"]
    assert (file["name"], file["key"]) == ("contract.pdf", contract["key"])
    # Named by the ticket: it no longer expires with the uploads nobody named
    assert _tags(contract["key"]) == {"upload": "named"}
    assert _fetched(http, _link(http, file["download_path"])["url"]).content == PDF


@pytest.mark.usefixtures("billing")
def test_a_ticket_takes_only_files_uploaded_for_it(http: HttpClient) -> None:
    attachment = {"name": "x", "content_type": "image/jpeg", "size": 1, "key": "inbound/0100018c"}
    answer = http.call(
        "POST",
        "/tickets",
        {
            "subject": "Hi",
            "body": "Hi",
            "department_id": "billing",
            "requester": {"email": CLIENT},
            "attachments": [attachment],
        },
        as_=ALICE,
    )
    assert answer.status == 422
    assert [e["field"] for e in answer.body["errors"]] == ["attachments.0.key"]


@pytest.mark.usefixtures("billing")
def test_a_forwarded_attachment_goes_out_in_the_reply_mail(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    message = _received(
        http, delivery, inbox, "Receipt", _file("receipt.pdf", "application/pdf", PDF)
    )
    (file,) = message["attachments"]
    reply = {"body": "Forwarding your receipt to finance.", "forward": [file["id"]]}
    path = f"/tickets/{message['ticket_id']}/messages"
    posted = http.expect(201, "POST", path, reply, as_=ALICE)
    assert [a["key"] for a in posted["message"]["attachments"]] == [file["key"]]
    delivery.run()
    (mail,) = [m for m in sent_mail() if m["To"] == CLIENT]  # Alice was also told of the ticket
    (attached,) = list(mail.iter_attachments())
    assert (attached.get_filename(), attached.get_content()) == ("receipt.pdf", PDF)


@pytest.mark.usefixtures("billing")
def test_a_reply_may_forward_only_files_of_its_own_ticket(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    first = _received(http, delivery, inbox, "First", _file("a.pdf", "application/pdf", PDF))
    second = _received(http, delivery, inbox, "Second", _file("b.pdf", "application/pdf", PDF))
    reply = {"body": "Here.", "forward": [first["attachments"][0]["id"]]}
    answer = http.call("POST", f"/tickets/{second['ticket_id']}/messages", reply, as_=ALICE)
    assert answer.status == 422
    assert [e["field"] for e in answer.body["errors"]] == ["forward.0"]
    # And to an agent who may not see the ticket it is the usual 404, whatever it names
    hidden = http.call("POST", f"/tickets/{second['ticket_id']}/messages", reply, as_=BOB)
    assert hidden.status == 404


def test_the_tickets_api_reads_its_signing_key_and_the_edge_but_no_file() -> None:
    settings = get_settings()

    def refused(aws_service: str, operation: str, parameters: dict[str, str]) -> list[str]:
        call = AwsCall("tickets", aws_service, operation, settings.region, parameters)
        refusals = service_refusals([call], settings, local_parameters(settings))
        return [r.permission.action for r in refusals]

    for parameter in (
        settings.edge_url_parameter,
        settings.file_link_key_id_parameter,
        settings.file_link_key_parameter,
    ):
        assert refused("ssm", "GetParameter", {"Name": parameter}) == []
    # The edge reads the files for the link's holder: the functions read none
    for key in ("attachments/0100018c/1-a.pdf", "uploads/6f1c/a.pdf", "inbound/0100018c"):
        assert refused("s3", "GetObject", {"Bucket": settings.mail_bucket, "Key": key}) == [
            "s3:GetObject"
        ]


@pytest.mark.usefixtures("billing")
def test_a_link_asked_before_the_deployment_stored_the_edge_is_a_503_that_says_so(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _received(http, delivery, inbox, "Early", _file("a.pdf", "application/pdf", PDF))
    # Given a first deployment under way: the edge's address is named, but not stored yet
    monkeypatch.delenv("HELPDESK_EDGE_URL")
    monkeypatch.setenv("HELPDESK_EDGE_URL_REF", get_settings().edge_url_parameter)
    get_settings.cache_clear()
    try:
        answer = http.call("GET", message["attachments"][0]["download_path"])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    # Then the agent is told it is not ready, not that the server failed
    assert (answer.status, answer.headers["Content-Type"]) == (503, "application/problem+json")
    assert "not ready" in answer.body["detail"]
