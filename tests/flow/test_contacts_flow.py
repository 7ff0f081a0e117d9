"""Contacts through the whole local system: a mail from an unknown address becomes a ticket, its
sender a contact linked to it, and the contact lists the ticket."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest

from tests.flow.conftest import RunningStack, eventually

pytestmark = pytest.mark.flow


def test_mail_from_a_new_address_makes_a_linked_contact_listing_the_ticket(
    stack: RunningStack,
) -> None:
    admin, agent = stack.token(), stack.token("alice@example.com", "agent")
    # When someone the desk does not know writes to the support address
    raw = (
        "From: Nora Batty <Nora.Batty@client.example.org>\r\nTo: support@example.com\r\n"
        "Subject: Parcel never arrived\r\nMessage-ID: <parcel-1@client.example.org>\r\n\r\n"
        "Ordered two weeks ago.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("nora.batty@client.example.org", ["support@example.com"], raw.encode())

    # Then a contact exists for her address, named as in the mail
    def contacts() -> list[dict[str, Any]]:
        status, page = stack.call(
            "GET", "/contacts?email=nora.batty@client.example.org", None, agent
        )
        assert status == 200, page
        return page["items"]  # type: ignore[no-any-return]

    found = eventually(contacts)
    assert found, "no contact for the sender"
    [nora] = found
    assert (nora["name"], nora["emails"], nora["origin"]) == (
        "Nora Batty",
        ["nora.batty@client.example.org"],
        "ticket",
    )

    # And the ticket is linked to her
    def linked() -> list[dict[str, Any]]:
        path = f"/tickets?contact_id={nora['id']}&sort=created"
        status, page = stack.call("GET", path, None, admin)
        assert status == 200, page
        return page["items"]  # type: ignore[no-any-return]

    [ticket] = eventually(linked)
    assert ticket["subject"] == "Parcel never arrived"
    assert ticket["contact_id"] == nora["id"]
    # And her contact lists the ticket
    status, page = stack.call("GET", f"/contacts/{nora['id']}/tickets", None, admin)
    assert status == 200, page
    assert [(t["id"], t["number"], t["subject"]) for t in page["items"]] == [
        (ticket["id"], ticket["number"], "Parcel never arrived")
    ]
    # But not to an agent, who may not open a ticket filed in no department of hers
    status, page = stack.call("GET", f"/contacts/{nora['id']}/tickets", None, agent)
    assert (status, page["items"]) == (200, [])
    # And a prefix of her name finds her
    status, page = stack.call("GET", "/contacts?q=batt", None, agent)
    assert [c["id"] for c in page["items"]] == [nora["id"]]
