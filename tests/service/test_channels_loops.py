"""Acknowledgements and mail loops: a new ticket from mail is acknowledged once, machine mail is
never answered and opens nothing, and a sender cannot make us send a flood."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from local_stack.mail import SIMULATED_BOUNCE, MailReceiver
from local_stack.system import LocalSystem
from services.channels.logic.loops import automated_reason
from shared.aws import reset_process_state
from shared.clock import get_clock
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, sent_mail

pytestmark = pytest.mark.service
CLIENT = "carol@client.example.org"


@pytest.fixture
def early_in_the_hour() -> Iterator[None]:
    """Acknowledgements are counted per clock hour: start just after an hour begins, so a test
    cannot straddle two hours (and be given a second hour's allowance)."""
    clock = get_clock()
    now = clock.now()
    clock.advance(now.replace(minute=0, second=1, microsecond=0) + timedelta(hours=1) - now)
    yield
    get_clock.cache_clear()  # the wall clock again for the tests after


@pytest.fixture
def inbox(http: HttpClient, system: LocalSystem) -> MailReceiver:
    """Billing's address, acknowledging new tickets, and a way to mail it as SES would."""
    assert http.call("POST", "/departments", {"name": "Billing"}).status == 201
    channel = {
        "address": "billing@example.com",
        "department_id": "billing",
        "acknowledge": True,
        "acknowledge_template": "Ticket {number} is open: {subject}",
    }
    assert http.call("POST", "/channels", channel).status == 201
    return MailReceiver(
        get_settings().mail_bucket, lambda e: system.invoke("channels", "receive_mail", e)
    )


def _mail(inbox: MailReceiver, sender: str = CLIENT, **headers: str) -> str:
    message_id = f"{uuid.uuid4()}@client.example.org"
    lines = {
        "From": sender,
        "To": "billing@example.com",
        "Subject": "Invoice",
        "Message-ID": f"<{message_id}>",
        **headers,
    }
    raw = "".join(f"{k}: {v}\r\n" for k, v in lines.items()) + "\r\nHello.\r\n"
    inbox.receive(raw.encode(), sender, ["billing@example.com"])
    return message_id


def test_a_new_ticket_from_mail_is_acknowledged_once(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    # When a client writes
    message_id = _mail(inbox)
    delivery.run()
    # Then one acknowledgement answers their mail, with the ticket number, marked automatic
    (ticket,) = http.call("GET", "/tickets").body["items"]
    (ack,) = sent_mail()
    assert ack["To"] == CLIENT
    assert ack["Subject"] == f"[{ticket['number']}] Invoice"
    assert ack["In-Reply-To"] == f"<{message_id}>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack.get_content().strip() == f"Ticket {ticket['number']} is open: Invoice"
    # And delivering everything again sends nothing more
    delivery.run()
    assert len(sent_mail()) == 1


def test_an_acknowledgement_that_bounces_flags_the_address_on_the_contact(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    # When mail comes from an address that does not exist (SES's simulator bounces mail to it)
    _mail(inbox, SIMULATED_BOUNCE)
    delivery.run()
    # Then the acknowledgement went out, bounced, and the requester's contact says so
    (ack,) = sent_mail()
    assert ack["To"] == SIMULATED_BOUNCE
    (contact,) = http.call("GET", f"/contacts?email={SIMULATED_BOUNCE}").body["items"]
    assert list(contact["bounced"]) == [SIMULATED_BOUNCE]
    # While the ticket's conversation holds only the client's mail (an acknowledgement is none)
    (ticket,) = http.call("GET", "/tickets").body["items"]
    messages = http.call("GET", f"/tickets/{ticket['id']}/messages").body["items"]
    assert [m["author"]["type"] for m in messages] == ["client"]


def test_no_acknowledgement_when_the_channel_does_not_want_them(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    channel = http.call("GET", "/channels").body["items"][0]
    http.call("PATCH", f"/channels/{channel['id']}", {"acknowledge": False})
    _mail(inbox)
    delivery.run()
    assert len(http.call("GET", "/tickets").body["items"]) == 1
    assert sent_mail() == []


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        (CLIENT, {"Auto-Submitted": "auto-replied"}),
        (CLIENT, {"Precedence": "bulk"}),
        (CLIENT, {"Precedence": "junk"}),
        (CLIENT, {"X-Auto-Response-Suppress": "All"}),
        (CLIENT, {"X-Autoreply": "yes"}),
        (CLIENT, {"X-Failed-Recipients": "nobody@client.example.org"}),
        (CLIENT, {"Content-Type": "multipart/report; report-type=delivery-status"}),
        ("MAILER-DAEMON@client.example.org", {}),
        ("billing@example.com", {}),
    ],
    ids=[
        "auto-submitted",
        "bulk",
        "junk",
        "suppress",
        "x-autoreply",
        "failed-recipients",
        "report",
        "mailer-daemon",
        "our-own-address",
    ],
)
def test_machine_mail_opens_no_ticket_and_gets_no_answer(
    http: HttpClient,
    delivery: Delivery,
    inbox: MailReceiver,
    sender: str,
    headers: dict[str, str],
) -> None:
    _mail(inbox, sender, **headers)
    delivery.run()
    assert http.call("GET", "/tickets").body["items"] == []
    assert sent_mail() == []
    # It is kept, listed apart from the quarantine, for admins only
    (held,) = http.call("GET", "/channels/quarantine?held=true").body["items"]
    assert held["sender"] == sender.lower()
    assert http.call("GET", "/channels/quarantine").body["items"] == []
    agent = ("alice@example.com", "agent")
    assert http.call("GET", "/channels/quarantine?held=true", as_=agent).status == 403


def test_held_machine_mail_can_be_released_into_a_ticket_once(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    # Given a person's mail that looked automatic (their client marks everything bulk)
    _mail(inbox, CLIENT, Precedence="bulk")
    delivery.run()
    (held,) = http.call("GET", "/channels/quarantine?held=true").body["items"]
    # When an admin releases it
    released = http.call("POST", f"/channels/quarantine/{held['id']}/release", {})
    assert released.status == 200, released.body
    delivery.run()
    # Then it opens its ticket, unacknowledged (it still looks automatic), and only once
    (ticket,) = http.call("GET", "/tickets").body["items"]
    assert ticket["requester"]["email"] == CLIENT
    assert sent_mail() == []
    again = http.call("POST", f"/channels/quarantine/{held['id']}/release", {})
    assert again.status == 409


def _waiting_on_client(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> tuple[dict[str, Any], Any]:
    """A ticket the client's mail opened and an agent answered: the ticket, and our mail."""
    _mail(inbox)
    delivery.run()
    (ticket,) = http.call("GET", "/tickets").body["items"]
    http.call("POST", f"/tickets/{ticket['id']}/messages", {"body": "Which invoice?"})
    delivery.run()
    return ticket, sent_mail()[-1]


def test_an_out_of_office_reply_is_recorded_on_its_ticket_without_reopening_it(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    # Given a ticket waiting on the client after an agent's answer
    ticket, answer = _waiting_on_client(http, delivery, inbox)
    # When the client's autoresponder answers our mail
    _mail(
        inbox,
        **{
            "Auto-Submitted": "auto-replied",
            "Subject": f"Out of office: {answer['Subject']}",
            "In-Reply-To": answer["Message-ID"],
        },
    )
    delivery.run()
    # Then it is on the ticket, which still waits on the client, and nobody answered it
    after: Any = http.call("GET", f"/tickets/{ticket['id']}").body
    assert after["status"] == "waiting_on_client"
    messages = http.call("GET", f"/tickets/{ticket['id']}/messages").body["items"]
    assert messages[-1]["author"]["type"] == "client"
    assert len(sent_mail()) == 2  # the acknowledgement and the agent's answer only
    assert len(http.call("GET", "/tickets").body["items"]) == 1


@pytest.mark.usefixtures("early_in_the_hour")
def test_a_sender_gets_at_most_the_hourly_number_of_acknowledgements(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    limit = get_settings().acknowledgements_per_hour
    for _ in range(limit + 3):
        _mail(inbox)
    delivery.run()
    assert len(http.call("GET", "/tickets?limit=100").body["items"]) == limit + 3
    assert len(sent_mail()) == limit


@pytest.mark.usefixtures("early_in_the_hour")
def test_a_mail_delivered_again_costs_no_acknowledgement(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    limit = get_settings().acknowledgements_per_hour
    # Given one mail that reaches us more times than the hourly limit (SES redelivering it)
    again = {"Message-ID": "<same@client.example.org>"}
    for _ in range(limit + 1):
        _mail(inbox, **again)
    delivery.run()
    # When the sender then writes as many new mails as the limit leaves
    for _ in range(limit - 1):
        _mail(inbox)
    delivery.run()
    # Then every ticket was acknowledged: the repeats opened nothing and took no slot
    assert len(http.call("GET", "/tickets?limit=100").body["items"]) == limit
    assert len(sent_mail()) == limit


def test_a_person_writing_is_not_machine_mail() -> None:
    assert automated_reason({"auto-submitted": "no"}, CLIENT, ours=False) is None
    assert automated_reason({"precedence": "first-class"}, CLIENT, ours=False) is None
    assert automated_reason({"content-type": "multipart/report"}, CLIENT, ours=False)


@pytest.mark.parametrize(
    ("headers", "held"),
    [
        ({"List-Id": "<customers.client.example.org>"}, False),
        ({"Precedence": "list"}, False),
        ({"Precedence": "bulk", "List-Id": "<news.client.example.org>"}, True),
        ({"Auto-Submitted": "auto-generated"}, True),
    ],
    ids=["list-id", "precedence list", "bulk list", "auto-submitted"],
)
def test_list_mail_opens_a_ticket_without_acknowledgement_while_machine_mail_is_held(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver, headers: dict[str, str], held: bool
) -> None:
    # When mail comes through a list (a client's team writes from its group address) or is bulk
    _mail(inbox, **headers)
    delivery.run()
    # Then list mail is a ticket like any other, and bulk or automatic mail is held; neither is
    # ever answered by an acknowledgement
    tickets = http.call("GET", "/tickets").body["items"]
    kept = http.call("GET", "/channels/quarantine?held=true").body["items"]
    assert (len(tickets), len(kept)) == ((0, 1) if held else (1, 0))
    assert sent_mail() == []


def test_list_mail_answering_a_ticket_reopens_it(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    # Given a ticket waiting on the client after an agent's answer
    ticket, answer = _waiting_on_client(http, delivery, inbox)
    # When the client answers through their team's list
    _mail(inbox, **{"List-Id": "<team.client.example.org>", "In-Reply-To": answer["Message-ID"]})
    delivery.run()
    # Then the answer is on the ticket and the ticket is open again
    assert http.call("GET", f"/tickets/{ticket['id']}").body["status"] == "open"
    assert len(http.call("GET", "/tickets").body["items"]) == 1


def test_the_acknowledgement_shows_the_subject_as_one_line_cut_to_80_characters(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver
) -> None:
    # When a client writes with a very long subject
    subject = "Invoice " + "very " * 40 + "END"
    _mail(inbox, Subject=subject)
    delivery.run()
    # Then the ticket keeps it whole, and the acknowledgement shows its first 80 characters
    (ticket,) = http.call("GET", "/tickets").body["items"]
    assert ticket["subject"] == subject
    (ack,) = sent_mail()
    shown = ack.get_content().strip().removeprefix(f"Ticket {ticket['number']} is open: ")
    assert len(shown) == 80
    assert subject.startswith(shown.rstrip("…"))
    assert "END" not in ack.get_content()


@pytest.mark.usefixtures("early_in_the_hour")
def test_a_channel_sends_at_most_its_hourly_number_of_acknowledgements(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_ACKNOWLEDGEMENTS_PER_CHANNEL_PER_HOUR", "3")
    reset_process_state()
    # When five clients write within the hour (each within their own hourly allowance)
    for number in range(5):
        _mail(inbox, f"client{number}@client.example.org")
    delivery.run()
    # Then five tickets open, and the channel answered only three of them
    assert len(http.call("GET", "/tickets").body["items"]) == 5
    assert len(sent_mail()) == 3


@pytest.mark.usefixtures("early_in_the_hour")
def test_a_sender_opening_too_many_tickets_is_held_then_released(
    http: HttpClient, delivery: Delivery, inbox: MailReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_TICKETS_PER_SENDER_PER_HOUR", "3")
    reset_process_state()
    # When one sender writes five new mails within the hour, one of them delivered twice
    _mail(inbox, **{"Message-ID": "<again@client.example.org>"})
    _mail(inbox, **{"Message-ID": "<again@client.example.org>"})
    for _ in range(4):
        _mail(inbox)
    delivery.run()
    # Then three tickets open (the repeat costs nothing), and the rest is held, saying why
    assert len(http.call("GET", "/tickets").body["items"]) == 3
    held = http.call("GET", "/channels/quarantine?held=true").body["items"]
    assert len(held) == 2
    assert all("3 new tickets an hour" in mail["reason"] for mail in held)
    # And another sender is not affected
    _mail(inbox, "dave@client.example.org")
    delivery.run()
    assert len(http.call("GET", "/tickets").body["items"]) == 4
    # When an admin releases a held mail, it opens its ticket
    released = http.call("POST", f"/channels/quarantine/{held[0]['id']}/release", {})
    assert released.status == 200, released.body
    delivery.run()
    assert len(http.call("GET", "/tickets").body["items"]) == 5
