"""Acknowledgements and mail loops end to end: an acknowledgement that bounces reaches the
requester's contact, and an autoreply lands on its ticket without reopening it. The rules
themselves (one acknowledgement per ticket, machine mail held, hourly limits) are held on the
fakes in tests/unit/test_channels_logic.py."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local_stack.mail import SIMULATED_BOUNCE, MailReceiver
from local_stack.system import LocalSystem
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, sent_mail

pytestmark = pytest.mark.service
CLIENT = "carol@client.example.org"


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
