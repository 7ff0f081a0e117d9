"""The ticket view: a client's mail, the agent's reply and note, the controls, a stale write, an
expired session, an attached file that downloads again, a mail shown as sent with its inline
image, a client's file forwarded in a reply and the client's rating of a resolved ticket, in a
real browser against the local stack."""

from __future__ import annotations

import email
import re
import smtplib
import struct
import threading
import uuid
import zlib
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.console.conftest import screenshot, serious_violations, sign_in_with_dev_token
from tests.flow.conftest import RunningStack, eventually

ADMIN = ("admin@example.com", "admin")
ALICE = "alice@example.com"


@pytest.fixture(scope="module")
def support(stack: RunningStack) -> str:
    """A Support department with its own address, Alice and the admin in it."""
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Support"}, admin)[0] == 201
    for member in (ALICE, ADMIN[0]):
        assert (
            stack.call("POST", "/departments/support/members", {"email": member}, admin)[0] == 200
        )
    channel = {"address": "support@example.com", "department_id": "support"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    return "support"


def _mailed_ticket(stack: RunningStack, sender: str, subject: str, text: str) -> dict[str, Any]:
    """A ticket opened by a client's mail over SMTP."""
    raw = (
        f"From: Client <{sender}>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4()}@client.example.org>\r\n\r\n{text}\r\n"
    )
    return _ticket_of_mail(stack, sender, subject, raw.encode())


def _ticket_of_mail(stack: RunningStack, sender: str, subject: str, raw: bytes) -> dict[str, Any]:
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail(sender, ["support@example.com"], raw)
    admin = stack.token()
    _, page = eventually(
        lambda: stack.call("GET", "/tickets?department_id=support", token=admin),
        done=lambda answer: any(t["subject"] == subject for t in answer[1]["items"]),
    )
    (ticket,) = [t for t in page["items"] if t["subject"] == subject]
    return ticket  # type: ignore[no-any-return]


def _opened_ticket(stack: RunningStack, subject: str) -> dict[str, Any]:
    """A ticket an agent opened for a client over the API."""
    body = {
        "subject": subject,
        "body": "Please help.",
        "department_id": "support",
        "requester": {"email": "grace@client.example.org", "name": "Grace"},
    }
    status, ticket = stack.call("POST", "/tickets", body, stack.token())
    assert status == 201, ticket
    return ticket  # type: ignore[no-any-return]


def _open(page: Page, stack: RunningStack, ticket: dict[str, Any]) -> None:
    page.goto(f"{stack.base}/#/tickets/{ticket['id']}")
    page.get_by_role("heading", name=f"{ticket['number']}: {ticket['subject']}").wait_for()


def _outbox(stack: RunningStack) -> list[dict[str, Any]]:
    return stack.call("GET", "/local/outbox")[1]  # type: ignore[no-any-return]


def _write(page: Page, text: str) -> None:
    page.get_by_label("Your reply", exact=True).or_(
        page.get_by_label("Your note", exact=True)
    ).fill(text)


def test_a_mailed_ticket_is_answered_and_the_reply_is_delivered(
    page: Page, stack: RunningStack, support: str
):
    ticket = _mailed_ticket(stack, "dora@client.example.org", "Lost password", "I cannot log in.")
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation.get_by_text("I cannot log in.")).to_be_visible()

    _write(page, "A reset link is on its way.")
    page.get_by_role("button", name="Send reply to dora@client.example.org").click()

    reply = page.get_by_role("article", name="Agent from admin@example.com")
    expect(reply.get_by_text("A reset link is on its way.")).to_be_visible()
    eventually(
        lambda: _outbox(stack),
        done=lambda sent: any("A reset link is on its way." in m["text"] for m in sent),
    )
    expect(reply.get_by_text("Delivered to dora@client.example.org")).to_be_visible(timeout=60_000)
    expect(page.get_by_label("Your reply", exact=True)).to_have_value("")


def test_an_internal_note_is_marked_and_never_mailed(page: Page, stack: RunningStack, support: str):
    ticket = _mailed_ticket(
        stack, "erin@client.example.org", "Broken invoice", "The total is wrong."
    )
    marker = f"note-{uuid.uuid4().hex[:8]}"
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)

    _write(page, "We are correcting the invoice today.")
    page.get_by_role("button", name="Send reply to erin@client.example.org").click()
    page.get_by_text("We are correcting the invoice today.").wait_for()
    page.get_by_role("radio", name="Internal note").check()
    expect(page.get_by_role("button", name="Add internal note")).to_be_visible()
    _write(page, f"Finance confirmed the error ({marker}).")
    page.get_by_role("button", name="Add internal note").click()

    note = page.get_by_role("article", name="Internal note from admin@example.com")
    expect(note.get_by_text(marker)).to_be_visible()
    expect(note.get_by_text("Internal note")).to_be_visible()
    page.get_by_text("Delivered to erin@client.example.org").wait_for(timeout=60_000)
    screenshot(page, "ticket")

    sent = _outbox(stack)
    assert any("We are correcting the invoice today." in m["text"] for m in sent)
    assert not [m for m in sent if marker in m["raw"]]


def test_status_and_assignee_change_through_the_controls(
    page: Page, stack: RunningStack, support: str
):
    ticket = _opened_ticket(stack, "Printer offline")
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)

    page.get_by_role("combobox", name="Status", exact=True).select_option("in_progress")
    page.get_by_text(f"Version {ticket['version'] + 1}").wait_for()
    page.get_by_role("combobox", name="Assignee").select_option(ALICE)
    page.get_by_text(f"Version {ticket['version'] + 2}").wait_for()

    _, now = stack.call("GET", f"/tickets/{ticket['id']}", token=stack.token())
    assert (now["status"], now["assignee"]) == ("in_progress", ALICE)
    page.get_by_role("tab", name="History").click()
    history = page.get_by_role("tabpanel", name="History")
    expect(history.get_by_text("Assignee")).to_be_visible()
    expect(history.get_by_text(ALICE)).to_be_visible()
    expect(history.get_by_text("In progress")).to_be_visible()


def test_a_stale_write_keeps_the_draft_and_offers_a_reload(
    page: Page, stack: RunningStack, support: str
):
    ticket = _opened_ticket(stack, "Screen flickers")
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)
    _write(page, "Half-written answer")
    # Someone else changes the ticket after this page read it
    change = {"priority": "urgent", "version": ticket["version"]}
    assert stack.call("PATCH", f"/tickets/{ticket['id']}", change, stack.token())[0] == 200

    page.get_by_role("combobox", name="Status", exact=True).select_option("in_progress")
    page.get_by_role("alert").get_by_text("Someone else changed this ticket").wait_for()
    expect(page.get_by_label("Your reply", exact=True)).to_have_value("Half-written answer")

    page.get_by_role("button", name="Reload ticket").click()
    expect(page.get_by_role("combobox", name="Priority")).to_have_value("urgent")
    expect(page.get_by_label("Your reply", exact=True)).to_have_value("Half-written answer")
    page.get_by_role("combobox", name="Status", exact=True).select_option("in_progress")
    page.get_by_text(f"Version {ticket['version'] + 2}").wait_for()
    _, now = stack.call("GET", f"/tickets/{ticket['id']}", token=stack.token())
    assert (now["status"], now["priority"]) == ("in_progress", "urgent")


def test_the_draft_survives_an_expired_session(page: Page, stack: RunningStack, support: str):
    ticket = _opened_ticket(stack, "Wifi drops")
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)
    page.get_by_role("radio", name="Internal note").check()
    _write(page, "Check the router logs first")
    # The token is no longer accepted: the next call is a 401 and the console signs out
    page.evaluate(
        """() => {
          const session = JSON.parse(localStorage.getItem("helpdesk.session"));
          session.token = session.token.slice(0, -4) + "AAAA";
          localStorage.setItem("helpdesk.session", JSON.stringify(session));
        }"""
    )
    page.reload()
    page.get_by_role("button", name="Sign in", exact=True).wait_for()

    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)
    expect(page.get_by_label("Your note", exact=True)).to_have_value("Check the router logs first")
    expect(page.get_by_role("radio", name="Internal note")).to_be_checked()


def test_a_reply_carries_an_attached_file(
    page: Page, stack: RunningStack, support: str, tmp_path: Path
):
    ticket = _mailed_ticket(stack, "fred@client.example.org", "Need the manual", "Where is it?")
    attached = tmp_path / "manual.txt"
    attached.write_text("Turn it off and on again.\n")
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)

    page.get_by_label("Attach files").set_input_files(str(attached))
    files = page.get_by_role("list", name="Files to attach")
    expect(files.get_by_text("Uploaded")).to_be_visible()
    _write(page, "The manual is attached.")
    page.get_by_role("button", name="Send reply to fred@client.example.org").click()

    reply = page.get_by_role("article", name="Agent from admin@example.com")
    expect(reply.get_by_role("list", name="Attachments").get_by_text("manual.txt")).to_be_visible()
    sent = eventually(lambda: [m for m in _outbox(stack) if "The manual is attached." in m["text"]])
    (mail,) = sent
    files = {
        part.get_filename(): part.get_content()
        for part in email.message_from_string(mail["raw"], policy=policy.default).iter_attachments()
    }
    assert files == {"manual.txt": "Turn it off and on again.\n"}
    # And the file downloads from the conversation, through a fresh short-lived link
    with page.expect_download() as downloading:
        reply.get_by_role("button", name="Download manual.txt").click()
    assert Path(downloading.value.path()).read_text() == "Turn it off and on again.\n"


# A 3 x 2 picture: its width, read in the browser, shows that the image loaded.
IMAGE_WIDTH = 3
MAIL_HTML = """<p>The error looks like <b>this</b>:</p>
<p><img src="cid:screenshot.png@client.example.org" alt="Screenshot"></p>
<p><img src="{tracker}/open.gif?who=client" alt="" width="1" height="1"></p>
<script>document.body.append("SCRIPT RAN")</script>
<img src="nothing" alt="" onerror="document.body.append('HANDLER RAN')">
<p><a href="https://client.example.org/help">Our help page</a></p>"""


@pytest.fixture
def tracker() -> Iterator[tuple[str, list[str]]]:
    """A sender's server that counts who fetches its pictures: its address, and what was asked."""
    asked: list[str] = []

    class Pixel(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pixel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()
    server.server_close()


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = (b"\x00" + b"\xd0\x30\x20" * width) * height
    return b"".join(
        (b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header), chunk(b"IDAT", zlib.compress(rows)))
    ) + chunk(b"IEND", b"")


def _html_mail_ticket(
    stack: RunningStack, sender: str, subject: str, tracker: str = "http://tracker.example.net"
) -> dict[str, Any]:
    """A ticket opened by an HTML mail with an inline picture, a remote one on `tracker`, a
    script and a report attached."""
    mail = EmailMessage()
    mail["From"] = f"Client <{sender}>"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{uuid.uuid4()}@client.example.org>"
    mail.set_content("The error looks like this: [Screenshot]")
    mail.add_alternative(MAIL_HTML.format(tracker=tracker), subtype="html")
    html = mail.get_body(("html",))
    assert html is not None
    html.add_related(
        _png(IMAGE_WIDTH, 2), "image", "png", cid="<screenshot.png@client.example.org>"
    )
    mail.add_attachment(b"Error 42 at 10:14\n", "text", "plain", filename="report.txt")
    return _ticket_of_mail(stack, sender, subject, mail.as_bytes())


def test_a_mail_is_shown_as_sent_with_its_inline_image_and_nothing_remote(
    page: Page, stack: RunningStack, support: str, tracker: tuple[str, list[str]]
):
    address, asked = tracker
    ticket = _html_mail_ticket(stack, "ivy@client.example.org", "Error on save", address)
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)
    mail = page.get_by_role("article", name="Client from Client <ivy@client.example.org>")
    expect(mail.get_by_text("The error looks like this: [Screenshot]")).to_be_visible()

    mail.get_by_role("button", name="Show formatted").click()
    frame = mail.locator("iframe")
    expect(frame).to_have_attribute("sandbox", "allow-popups allow-popups-to-escape-sandbox")
    shown = mail.frame_locator("iframe")
    image = shown.get_by_role("img", name="Screenshot")
    # A short-lived link signed for the edge (the gateway locally)
    edge = f"http://localhost:{stack.http}"
    expect(image).to_have_attribute(
        "src", re.compile(rf"^{re.escape(edge)}/attachments/.*&Signature=.*&Key-Pair-Id=")
    )
    # Another origin: the console cannot reach into the mail, nor the mail out; and the mail's
    # own policy admits pictures from the edge's files alone
    assert frame.evaluate("frame => frame.contentDocument") is None
    policy = f"default-src 'none'; img-src {edge}"
    assert f'content="{policy}"' in (frame.get_attribute("srcdoc") or "")
    loaded_width = "img => img.decode().then(() => img.naturalWidth, () => 0)"
    assert image.evaluate(loaded_width) == IMAGE_WIDTH
    expect(shown.get_by_text("The error looks like")).to_be_visible()
    link = shown.get_by_role("link", name="Our help page")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    # Nothing of the remote picture, nor of the script
    assert shown.locator("img").count() == 1
    expect(shown.locator("body")).not_to_contain_text("RAN")
    assert asked == []

    mail.get_by_role("button", name="Show text").click()
    expect(frame).to_have_count(0)
    expect(mail.get_by_text("The error looks like this: [Screenshot]")).to_be_visible()


def test_a_reply_forwards_a_file_of_the_ticket(page: Page, stack: RunningStack, support: str):
    ticket = _html_mail_ticket(stack, "jack@client.example.org", "Please check the report")
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)

    picker = page.get_by_role("button", name="Attach from this ticket")
    expect(picker).to_have_attribute("aria-expanded", "false")
    picker.click()
    expect(picker).to_have_attribute("aria-expanded", "true")
    ticket_files = page.get_by_role("group", name="Files on this ticket")
    report = ticket_files.get_by_role("checkbox", name="report.txt")
    expect(ticket_files.get_by_role("checkbox")).to_have_count(2)  # the report and the picture
    expect(ticket_files.get_by_role("checkbox").first).to_be_focused()
    report.check()
    page.keyboard.press("Escape")
    expect(picker).to_be_focused()
    expect(ticket_files).to_have_count(0)
    files = page.get_by_role("list", name="Files to attach")
    expect(files.get_by_text("report.txt")).to_be_visible()
    expect(files.get_by_text("From this ticket")).to_be_visible()

    # A note forwards nothing: the choice shows again when it is a reply again
    page.get_by_role("radio", name="Internal note").check()
    expect(page.get_by_role("button", name="Attach from this ticket")).to_have_count(0)
    expect(files).to_have_count(0)
    page.get_by_role("radio", name="Reply to client").check()
    expect(files.get_by_text("report.txt")).to_be_visible()

    _write(page, "Your report is back, annotated.")
    page.get_by_role("button", name="Send reply to jack@client.example.org").click()
    reply = page.get_by_role("article", name="Agent from admin@example.com")
    expect(reply.get_by_role("button", name="Download report.txt")).to_be_visible()
    expect(page.get_by_role("list", name="Files to attach")).to_have_count(0)
    sent = eventually(
        lambda: [m for m in _outbox(stack) if "Your report is back, annotated." in m["text"]]
    )
    (mail,) = sent
    files_sent = {
        part.get_filename(): part.get_content()
        for part in email.message_from_string(mail["raw"], policy=policy.default).iter_attachments()
    }
    assert files_sent == {"report.txt": "Error 42 at 10:14\n"}


@pytest.mark.axe
def test_the_mail_as_sent_and_the_files_of_the_ticket_have_no_serious_violation(
    page: Page, stack: RunningStack, support: str
):
    ticket = _html_mail_ticket(stack, "kim@client.example.org", "Formatted and forwarded")
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)
    page.get_by_role("button", name="Show formatted").click()
    page.frame_locator("iframe").get_by_role("img", name="Screenshot").wait_for()
    page.get_by_role("button", name="Attach from this ticket").click()
    page.get_by_role("checkbox", name="report.txt").check()
    assert not serious_violations(page)


@pytest.mark.axe
def test_the_pending_close_then_the_clients_rating_show_on_the_ticket(
    page: Page, stack: RunningStack, support: str
):
    ticket = _opened_ticket(stack, "Mouse double-clicks")
    resolved = {"status": "resolved"}
    assert stack.call("PATCH", f"/tickets/{ticket['id']}", resolved, stack.token())[0] == 200
    sign_in_with_dev_token(page, stack, *ADMIN)
    _open(page, stack, ticket)
    expect(page.get_by_role("group", name="Client's rating")).to_have_count(0)
    # Until then the resolved ticket says when it closes by itself (auto_close_after)
    due = stack.call("GET", f"/tickets/{ticket['id']}", token=stack.token())[1]["automation"]
    assert due["step"] == "close"
    pending = page.get_by_text("Closes by itself")
    expect(pending.locator(f'time[datetime="{due["due_at"]}"]')).to_be_visible()

    # The client follows the "bad" link of the rating mail and sends the page's form
    asked = eventually(
        lambda: [
            m for m in _outbox(stack) if "/ratings/" in m["text"] and ticket["number"] in m["text"]
        ]
    )
    assert asked, "the rating mail was never sent"
    (bad,) = re.findall(r"http\S+/ratings/\S+\?choice=bad", asked[0]["text"])
    page.goto(bad)
    expect(page.get_by_role("radio", name="Bad, I am not satisfied")).to_be_checked()
    page.get_by_label("Anything to add?").fill("Fixed, but it took a week.")
    page.get_by_role("button", name="Send my rating").click()
    page.get_by_role("heading", name="Thank you").wait_for()

    _open(page, stack, ticket)
    rated = stack.call("GET", f"/tickets/{ticket['id']}", token=stack.token())[1]["satisfaction"]
    rating = page.get_by_role("group", name="Client's rating")
    expect(rating.get_by_text("Rated bad", exact=True)).to_be_visible()
    expect(rating.get_by_text("Fixed, but it took a week.", exact=True)).to_be_visible()
    expect(rating.locator(f'time[datetime="{rated["rated_at"]}"]')).to_be_visible()
    assert not serious_violations(page)


def test_a_ticket_that_does_not_exist_says_so(page: Page, stack: RunningStack):
    sign_in_with_dev_token(page, stack, *ADMIN)
    page.goto(f"{stack.base}/#/tickets/no-such-ticket")
    page.get_by_text("This ticket does not exist or you may not see it.").wait_for()
