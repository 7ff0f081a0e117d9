"""What the mail bucket keeps: the attachments a message lists and no others, the uploads a
message names (the others expire), and nothing of a person once they are erased."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.templates import shared_stack
from local_stack.mail import MailReceiver
from local_stack.system import LocalSystem
from services.channels.logic.receive_mail import MAX_ATTACHMENTS
from services.channels.logic.uploads import UNNAMED_UPLOAD_DAYS, UPLOADS_PREFIX
from shared.aws import client
from shared.settings import Settings, get_settings
from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import find
from tests.service.test_tickets_events import BusTap, tap  # noqa: F401 - the fixture

pytestmark = pytest.mark.service


@pytest.fixture
def inbox(system: LocalSystem) -> MailReceiver:
    """Mail arriving as SES receives it: raw MIME under inbound/, then the receipt event."""
    return MailReceiver(
        get_settings().mail_bucket, lambda e: system.invoke("channels", "receive_mail", e)
    )


def _mail(sender: str, subject: str, files: dict[str, bytes]) -> bytes:
    parts = [
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the files.\r\n",
        *(
            b"--b\r\nContent-Type: application/octet-stream\r\n"
            + f'Content-Disposition: attachment; filename="{name}"\r\n\r\n'.encode()
            + data
            + b"\r\n"
            for name, data in files.items()
        ),
    ]
    return (
        (
            f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@client.example.org>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        ).encode()
        + b"".join(parts)
        + b"--b--\r\n"
    )


def _bucket() -> set[str]:
    pages = (
        client("s3").get_paginator("list_objects_v2").paginate(Bucket=get_settings().mail_bucket)
    )
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def _messages_of_the_ticket(http: HttpClient, subject: str) -> list[dict[str, Any]]:
    (ticket,) = [t for t in http.expect(200, "GET", "/tickets")["items"] if t["subject"] == subject]
    return list(http.expect(200, "GET", f"/tickets/{ticket['id']}/messages")["items"])


# --- attachments of received mail ------------------------------------------------------------


def test_every_attachment_stored_is_listed_and_the_rest_are_counted(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    # Given a mail with 200 attachments more than a mail may bring
    files = {f"scan-{n}.bin": f"page {n}".encode() for n in range(MAX_ATTACHMENTS + 200)}
    # When it arrives
    ses_id = inbox.receive(
        _mail("zoe@client.example.org", "Scans", files), "zoe@client.example.org", ["x@y.z"]
    )
    delivery.run()
    # Then the ticket's message lists the first ones and says how many were left out
    (message,) = _messages_of_the_ticket(http, "Scans")
    assert len(message["attachments"]) == MAX_ATTACHMENTS
    assert message["attachments_omitted"] == 200
    assert [a["name"] for a in message["attachments"]] == list(files)[:MAX_ATTACHMENTS]
    # And the bucket holds exactly the files listed, beside the raw mail that has them all
    stored = {key for key in _bucket() if key.startswith(f"attachments/{ses_id}/")}
    assert stored == {a["key"] for a in message["attachments"]}
    assert f"inbound/{ses_id}" in _bucket()
    # And the announcement says so too, in its second version
    (received,) = _channels_outbox("EmailReceived")
    assert (received["schema_version"], received["data"]["attachments_omitted"]) == (3, 200)
    assert received["data"]["truncated"] is True


def test_a_mail_within_the_limit_omits_nothing(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    inbox.receive(
        _mail("zoe@client.example.org", "One file", {"a.bin": b"a"}), "zoe@client.example.org", []
    )
    delivery.run()
    (message,) = _messages_of_the_ticket(http, "One file")
    assert (len(message["attachments"]), message["attachments_omitted"]) == (1, 0)


# --- uploads for replies ---------------------------------------------------------------------


def _upload_rule() -> dict[str, Any]:
    rules = shared_stack(Settings())["Resources"]["MailBucket"]["Properties"][
        "LifecycleConfiguration"
    ]["Rules"]
    (rule,) = [r for r in rules if r.get("Prefix") == UPLOADS_PREFIX]
    return dict(rule)


def _expired_by_the_rule(key: str) -> bool:
    """Whether the bucket's lifecycle rule for uploads applies to the object as it is now."""
    rule = _upload_rule()
    tags = client("s3").get_object_tagging(Bucket=get_settings().mail_bucket, Key=key)["TagSet"]
    return key.startswith(rule["Prefix"]) and all(
        {"Key": f["Key"], "Value": f["Value"]} in tags for f in rule["TagFilters"]
    )


def _uploaded(http: HttpClient, name: str, data: bytes) -> dict[str, Any]:
    """Ask for the form, then store the file as the browser's POST of that form does: with the
    form's key, type and tag."""
    form = http.expect(
        201,
        "POST",
        "/channels/uploads",
        {"name": name, "content_type": "application/pdf", "size": len(data)},
    )
    (tag,) = re.findall(r"<Key>(.+?)</Key><Value>(.+?)</Value>", form["fields"]["tagging"])
    client("s3").put_object(
        Bucket=get_settings().mail_bucket,
        Key=form["key"],
        Body=data,
        ContentType=form["fields"]["Content-Type"],
        Tagging=f"{tag[0]}={tag[1]}",
    )
    return {"name": name, "content_type": "application/pdf", "size": len(data), "key": form["key"]}


def test_the_bucket_forgets_uploads_no_message_names_after_a_week() -> None:
    rule = _upload_rule()
    assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", UNNAMED_UPLOAD_DAYS)
    assert UNNAMED_UPLOAD_DAYS == 7
    assert rule["TagFilters"] == [{"Key": "upload", "Value": "unnamed"}]
    # The raw mail keeps its own rule
    rules = shared_stack(Settings())["Resources"]["MailBucket"]["Properties"][
        "LifecycleConfiguration"
    ]["Rules"]
    assert {r["Id"] for r in rules} == {"ForgetReceivedMail", "ForgetUnnamedUploads"}


def test_a_file_a_reply_sends_outlives_the_uploads_nobody_named(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given Billing's address, a ticket, and two files uploaded for a reply
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert http.call("POST", "/channels", channel).status == 201
    ticket = http.expect(
        201,
        "POST",
        "/tickets",
        {
            "subject": "Invoice",
            "body": "Where is it?",
            "department_id": "billing",
            "requester": {"email": "carol@client.example.org"},
        },
    )
    sent = _uploaded(http, "invoice.pdf", b"%PDF-1.4 invoice")
    abandoned = _uploaded(http, "draft.pdf", b"%PDF-1.4 draft")
    # Then, uploaded, both would expire
    assert _expired_by_the_rule(sent["key"])
    assert _expired_by_the_rule(abandoned["key"])
    # When the reply names one of them and is mailed
    http.expect(
        201,
        "POST",
        f"/tickets/{ticket['id']}/messages",
        {"body": "Here it is.", "attachments": [sent]},
    )
    delivery.run()
    # Then the file the reply sent stays under the key the message names; the other still goes
    assert not _expired_by_the_rule(sent["key"])
    assert _expired_by_the_rule(abandoned["key"])
    (reply,) = [
        m
        for m in http.expect(200, "GET", f"/tickets/{ticket['id']}/messages")["items"]
        if m["attachments"]
    ]
    assert [a["key"] for a in reply["attachments"]] == [sent["key"]]
    assert reply["delivery"]["carol@client.example.org"]["state"] == "delivered"


def test_a_file_a_note_holds_is_kept_and_its_name_never_leaves(
    http: HttpClient, delivery: Delivery, request: pytest.FixtureRequest
) -> None:
    bus: BusTap = request.getfixturevalue("tap")  # every event on the bus
    # Given a ticket, and a file uploaded for an internal note
    ticket = http.expect(
        201,
        "POST",
        "/tickets",
        {"subject": "Refund", "body": "Please", "requester": {"email": "dan@client.example.org"}},
    )
    secret = _uploaded(http, "fraud-report-on-dan.pdf", b"%PDF-1.4 report")
    # When the note names it and its events are delivered
    http.expect(
        201,
        "POST",
        f"/tickets/{ticket['id']}/messages",
        {"body": "See the report.", "visibility": "internal", "attachments": [secret]},
    )
    delivery.run()
    bus.drain()
    # Then the file is kept like any file a message names
    assert not _expired_by_the_rule(secret["key"])
    # And no event carried its name, nor the note's text
    assert [body for body in bus.raw if "fraud-report" in body or "See the report" in body] == []


# --- erasure ---------------------------------------------------------------------------------


def test_erasing_a_person_deletes_their_raw_mail_and_its_attachments(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    # Given two mails from Gina with files, and one from Kim
    gina = "Gina Linetti <Gina@Client.example.org>"
    first = inbox.receive(
        _mail(gina, "Contract", {"contract.pdf": b"%PDF signed"}), "gina@client.example.org", []
    )
    second = inbox.receive(
        _mail(gina, "Passport", {"passport.jpg": b"\xff\xd8 face"}), "gina@client.example.org", []
    )
    kim = inbox.receive(
        _mail("kim@client.example.org", "Order", {"order.pdf": b"%PDF order"}),
        "kim@client.example.org",
        [],
    )
    delivery.run()
    before = _bucket()
    for ses_id in (first, second, kim):
        assert f"inbound/{ses_id}" in before
        assert any(key.startswith(f"attachments/{ses_id}/") for key in before)
    # When an admin erases Gina
    [contact] = find(http, "email=gina@client.example.org")
    http.expect(204, "DELETE", f"/contacts/{contact['id']}")
    delivery.run()
    # Then nothing of her mail is left in the bucket; Kim's mail is untouched
    after = _bucket()
    assert not [key for key in after if first in key or second in key]
    assert {key for key in before if kim in key} <= after
    assert after == {key for key in before if first not in key and second not in key}
    # And the channels service no longer knows her address as a sender
    assert not [i for i in _channels_items("SENDER#") if "gina" in i["pk"]["S"]]
    assert [i["sk"]["S"] for i in _channels_items("SENDER#")] == [kim]
    # And her tickets stay, with what she wrote
    (message,) = _messages_of_the_ticket(http, "Passport")
    assert message["body"].strip() == "See the files."


# --- helpers ----------------------------------------------------------------------------------


def _channels_items(prefix: str) -> list[dict[str, Any]]:
    table = get_settings().table_name("channels")
    pages = client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [i for page in pages for i in page["Items"] if i["pk"]["S"].startswith(prefix)]


def _channels_outbox(name: str) -> list[dict[str, Any]]:
    return [
        json.loads(item["detail"]["S"])
        for item in _channels_items("OUTBOX#")
        if item["detail_type"]["S"] == name
    ]
