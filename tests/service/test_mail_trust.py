"""Who may write into a ticket by mail: only its people, and only when their mail proves it came
from them. Everything else opens a ticket of its own, marked as a possible follow-up, so an agent
decides; nothing is lost and nothing is re-opened by a forger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from local_stack.mail import MailReceiver
from local_stack.system import LocalSystem
from services.channels.logic.thread_matching import number_of_token, reply_address
from shared.clock import get_clock
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, sent_mail

pytestmark = pytest.mark.service
CAROL = "carol@client.example.org"
DAVE = "dave@client.example.org"  # CC on Carol's ticket
MALLORY = "mallory@evil.example.net"
FORGED = {"spf": "FAIL", "dkim": "FAIL", "dmarc": "FAIL"}
SECRET = "a-secret-of-sixteen+"

Verdicts = dict[str, str | None]  # a verdict of None: SES reported none


def _inbox(system: LocalSystem, verdicts: Verdicts) -> MailReceiver:
    """Mail received as SES receives it, with SES's verdicts set as given (the others pass)."""

    def deliver(event: dict[str, Any]) -> Any:
        receipt = event["Records"][0]["ses"]["receipt"]
        for name, status in verdicts.items():
            receipt.pop(f"{name}Verdict")
            if status is not None:
                receipt[f"{name}Verdict"] = {"status": status}
        return system.invoke("channels", "receive_mail", event)

    return MailReceiver(get_settings().mail_bucket, deliver)


def _mail(
    system: LocalSystem,
    headers: dict[str, str],
    verdicts: Verdicts | None = None,
    body: str = "Thanks.",
) -> None:
    lines = {
        "To": "billing@example.com",
        "Subject": "Invoice twice",
        "Message-ID": f"<{uuid.uuid4()}@client.example.org>",
        **headers,
    }
    raw = "".join(f"{k}: {v}\r\n" for k, v in lines.items() if v) + f"\r\n{body}\r\n"
    _inbox(system, verdicts or {}).receive(raw.encode(), CAROL, [lines["To"]])


@pytest.fixture
def answered(http: HttpClient, system: LocalSystem, delivery: Delivery) -> dict[str, Any]:
    """Carol's ticket (Dave in CC), answered by an agent: it waits on Carol."""
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert http.call("POST", "/channels", channel).status == 201
    _mail(system, {"From": f"Carol <{CAROL}>", "Cc": DAVE}, body="I was charged twice.")
    delivery.run()
    (ticket,) = http.call("GET", "/tickets").body["items"]
    assert http.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "Which card?"}).status
    delivery.run()
    return http.call("GET", f"/tickets/{ticket['id']}").body  # type: ignore[no-any-return]


def _answer(how: str, sender: str) -> dict[str, str]:
    """An answer to our last mail that keeps only one way back to the ticket."""
    ours = sent_mail()[-1]
    way = {
        "in-reply-to": {"In-Reply-To": ours["Message-ID"]},
        "references": {"References": f"{ours['References']} {ours['Message-ID']}"},
        "subject tag": {"Subject": f"Re: {ours['Subject']}"},
        "reply-to address": {"To": str(ours["Reply-To"])},
    }[how]
    return {"From": sender, "Subject": "Re: Invoice", **way}


def _tickets(http: HttpClient) -> dict[str, Any]:
    return {t["id"]: t for t in http.call("GET", "/tickets").body["items"]}


def _new_ticket_beside(http: HttpClient, original: dict[str, Any]) -> dict[str, Any]:
    """The one ticket besides `original`, which must be untouched."""
    tickets = _tickets(http)
    assert len(tickets) == 2, tickets
    after = tickets.pop(original["id"])
    assert (after["status"], after["version"]) == (original["status"], original["version"])
    (new,) = tickets.values()
    return new  # type: ignore[no-any-return]


# --- 1. who may join a conversation ------------------------------------------------------------


@pytest.mark.parametrize("how", ["in-reply-to", "references", "subject tag", "reply-to address"])
def test_a_forged_reply_opens_a_new_ticket_instead_of_joining(
    http: HttpClient, system: LocalSystem, delivery: Delivery, answered: dict[str, Any], how: str
) -> None:
    # When someone answers our mail as Carol, but SPF, DKIM and DMARC all fail
    _mail(system, _answer(how, f"Carol <{CAROL}>"), FORGED, body="Refund to IBAN XX00 instead.")
    delivery.run()
    # Then Carol's ticket still waits on her, and the mail is a new ticket an agent can compare
    new = _new_ticket_beside(http, answered)
    assert new["possible_follow_up_of"] == answered["id"]
    assert new["follow_up_of"] is None
    assert new["department_id"] == "billing"
    messages = http.call("GET", f"/tickets/{answered['id']}/messages").body["items"]
    assert all("IBAN" not in m["body"] for m in messages)


@pytest.mark.parametrize("status", ["waiting_on_client", "closed"])
def test_a_strangers_answer_opens_a_ticket_of_its_own(
    http: HttpClient,
    system: LocalSystem,
    delivery: Delivery,
    answered: dict[str, Any],
    status: str,
) -> None:
    # Given Carol's ticket, still waiting or closed
    if status == "closed":
        change = {"status": "closed", "version": answered["version"]}
        answered = http.call("PATCH", f"/tickets/{answered['id']}", change).body
    # When a stranger with a perfectly authenticated mail answers our mail to Carol
    _mail(system, _answer("in-reply-to", MALLORY))
    delivery.run()
    # Then the stranger's mail is a ticket of its own: it re-opens nothing, continues nothing
    new = _new_ticket_beside(http, answered)
    assert new["requester"]["email"] == MALLORY
    assert new["follow_up_of"] is None
    assert new["possible_follow_up_of"] == answered["id"]


@pytest.mark.parametrize(
    ("sender", "how", "verdicts"),
    [
        (CAROL, "in-reply-to", {}),
        (CAROL, "subject tag", {"spf": "FAIL", "dmarc": None}),  # DKIM passed: enough
        (DAVE, "references", {"dkim": "GRAY", "dmarc": "GRAY"}),  # neither there: SPF passed
        (MALLORY, "reply-to address", {}),  # Carol forwarded our mail to a colleague
    ],
    ids=["requester", "dkim only", "cc, spf only", "through the reply-to address"],
)
def test_the_people_of_a_ticket_still_reach_it(
    http: HttpClient,
    system: LocalSystem,
    delivery: Delivery,
    answered: dict[str, Any],
    sender: str,
    how: str,
    verdicts: Verdicts,
) -> None:
    _mail(system, _answer(how, sender), verdicts)
    delivery.run()
    (ticket,) = _tickets(http).values()
    assert ticket["status"] == "open"
    messages = http.call("GET", f"/tickets/{answered['id']}/messages").body["items"]
    assert messages[-1]["author"]["email"] == sender


def test_an_unauthenticated_reply_through_the_reply_to_address_does_not_join(
    http: HttpClient, system: LocalSystem, delivery: Delivery, answered: dict[str, Any]
) -> None:
    # When mail reaches the signed reply-to address, but nothing about it authenticates
    _mail(system, _answer("reply-to address", CAROL), {"spf": None, "dkim": None, "dmarc": None})
    delivery.run()
    # Then it is a new ticket, marked as a possible follow-up
    assert _new_ticket_beside(http, answered)["possible_follow_up_of"] == answered["id"]


# --- 2. reply-to addresses: long signatures that expire ----------------------------------------


def test_a_reply_to_address_carries_a_long_signature_and_fits_an_address() -> None:
    issued = get_clock().now()
    address = reply_address("billing@example.com", "TKT-0042", SECRET, issued)
    assert address is not None
    token = address.partition("@")[0].partition("+")[2]
    signature = token.rsplit(".", 1)[1]
    assert len(signature) * 5 >= 128  # base32: five bits a character
    assert number_of_token(token, SECRET, issued, days=180) == "TKT-0042"
    # A signature cut to the old 64 bits, or tampered with, names no ticket
    assert number_of_token("tkt-0042." + "0" * 16, SECRET, issued, days=180) is None
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert number_of_token(tampered, SECRET, issued, days=180) is None
    # However long the channel's address and the number, the local part stays within 64
    long_local = "customer-support-and-billing-enquiries-europe"
    for number in ("TKT-0042", "SUPPORTDESK-000000000042"):
        given = reply_address(f"{long_local}@example.com", number, SECRET, issued)
        assert given is None or len(given.partition("@")[0]) <= 64


@pytest.fixture
def restore_clock() -> Iterator[None]:
    yield
    get_clock.cache_clear()  # the wall clock again for the tests after


@pytest.mark.usefixtures("restore_clock")
def test_an_expired_reply_to_address_is_treated_as_missing(
    http: HttpClient, system: LocalSystem, delivery: Delivery, answered: dict[str, Any]
) -> None:
    days = get_settings().reply_token_days
    reply_to = _answer("reply-to address", CAROL)
    # Given a reply-to address used shortly before it expires: it still leads to the ticket
    get_clock().advance(timedelta(days=days - 1))
    _mail(system, reply_to)
    delivery.run()
    assert len(_tickets(http)) == 1
    # When it is used after it expired (with no other way back to the ticket)
    get_clock().advance(timedelta(days=2))
    _mail(system, reply_to | {"Message-ID": f"<{uuid.uuid4()}@client.example.org>"})
    delivery.run()
    # Then the mail opens a new ticket, as if it had come to the channel's plain address
    tickets = _tickets(http)
    assert len(tickets) == 2
    (new,) = [t for t in tickets.values() if t["id"] != answered["id"]]
    assert new["possible_follow_up_of"] is None


# --- 3. acknowledgements only to authenticated senders -------------------------------------------


@pytest.mark.parametrize(
    ("verdicts", "acknowledged"),
    [
        ({}, True),
        ({"dkim": None, "dmarc": None}, True),  # SPF alone vouches for the sender
        ({"spf": "FAIL"}, False),
        ({"dkim": "FAIL"}, False),
        ({"dmarc": "FAIL"}, False),
        ({"spf": None, "dkim": None, "dmarc": None}, False),
    ],
    ids=["all pass", "spf only", "spf fails", "dkim fails", "dmarc fails", "none at all"],
)
def test_only_authenticated_senders_are_acknowledged(
    http: HttpClient,
    system: LocalSystem,
    delivery: Delivery,
    verdicts: Verdicts,
    acknowledged: bool,
) -> None:
    # Given a channel that acknowledges new tickets
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing", "acknowledge": True}
    assert http.call("POST", "/channels", channel).status == 201
    # When a mail opens a ticket, with SES's verdicts as given
    _mail(system, {"From": CAROL}, verdicts)
    delivery.run()
    # Then the ticket opens either way, but only an authenticated sender is answered
    assert len(_tickets(http)) == 1
    assert [m["To"] for m in sent_mail()] == ([CAROL] if acknowledged else [])


# --- 6. control characters in headers ----------------------------------------------------------


def test_control_characters_in_headers_become_spaces(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {"address": "billing@example.com", "department_id": "billing"}
    assert http.call("POST", "/channels", channel).status == 201
    # When a mail's subject, sender name and file name hide line breaks, NUL and other controls
    attachment = (
        'Content-Type: application/pdf; name="=?utf-8?q?a=0D=0Ab=00c=E2=80=A8d=C2=85e.pdf?="\r\n'
        "Content-Disposition: attachment;\r\n"
        ' filename="=?utf-8?q?a=0D=0Ab=00c=E2=80=A8d=C2=85e.pdf?="\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    )
    body = f"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\n{attachment}--b--"
    _mail(
        system,
        {
            "From": f"=?utf-8?q?Carol=0AX-Evil:_1?= <{CAROL}>",
            "Subject": "=?utf-8?q?Invoice=0D=0ABcc:_mallory@evil.example.net?=",
            "MIME-Version": "1.0",
            "Content-Type": 'multipart/mixed; boundary="b"',
        },
        body=body,
    )
    delivery.run()
    # Then each is stored with spaces in their place, on one line
    (ticket,) = http.call("GET", "/tickets").body["items"]
    assert ticket["subject"] == "Invoice  Bcc: mallory@evil.example.net"
    assert ticket["requester"]["name"] == "Carol X-Evil: 1"
    (message,) = http.call("GET", f"/tickets/{ticket['id']}/messages").body["items"]
    assert [a["name"] for a in message["attachments"]] == ["a  b c d e.pdf"]
