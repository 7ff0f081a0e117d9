"""Merging a ticket into another: the conversation moves, the source closes with a pointer, both
histories say so, mail to the source lands on the target, and the merges that make no sense are
refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.data.tables import TicketItem
from shared.events.catalogue import EmailReceived, MailVerdicts, Person
from shared.events.envelope import OutgoingEvent
from shared.events.publisher import bus_publisher
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service

AGENT = ("alice@example.com", "agent")  # member of Billing and Technical Support
BILLING_ONLY = ("dave@example.com", "agent")
BOB = {"email": "bob@example.com", "name": "Bob"}
CAROL = {"email": "carol@example.org", "name": "Carol"}


# --- helpers --------------------------------------------------------------------------------------


def _departments(http: HttpClient) -> None:
    for name, department_id in (("Billing", "billing"), ("Technical Support", "tech")):
        created = http.call("POST", "/departments", {"name": name, "id": department_id})
        assert created.status == 201, created.body
        added = http.call("POST", f"/departments/{department_id}/members", {"email": AGENT[0]})
        assert added.status == 200, added.body
    added = http.call("POST", "/departments/billing/members", {"email": BILLING_ONLY[0]})
    assert added.status == 200, added.body


def _open(
    http: HttpClient, subject: str, department_id: str, requester: dict[str, str]
) -> dict[str, Any]:
    answer = http.call(
        "POST",
        "/tickets",
        {
            "subject": subject,
            "body": f"{subject}: first words",
            "department_id": department_id,
            "requester": requester,
        },
        as_=AGENT,
    )
    assert answer.status == 201, answer.body
    return answer.body  # type: ignore[no-any-return]


def _get(http: HttpClient, key: str) -> dict[str, Any]:
    return http.expect(200, "GET", f"/tickets/{key}")  # type: ignore[no-any-return]


def _post(http: HttpClient, ticket_id: str, body: str, visibility: str = "public") -> Any:
    message = {"body": body, "visibility": visibility}
    return http.expect(201, "POST", f"/tickets/{ticket_id}/messages", message, as_=AGENT)


def _messages(http: HttpClient, ticket_id: str) -> list[dict[str, Any]]:
    answer = http.call("GET", f"/tickets/{ticket_id}/messages?limit=200")
    assert answer.status == 200, answer.body
    assert answer.body["next_cursor"] is None
    return answer.body["items"]  # type: ignore[no-any-return]


def _history(http: HttpClient, ticket_id: str) -> list[dict[str, Any]]:
    answer = http.call("GET", f"/tickets/{ticket_id}/history?limit=200")
    assert answer.status == 200, answer.body
    return answer.body["items"]  # type: ignore[no-any-return]


def _state(http: HttpClient, ticket_id: str) -> tuple[Any, ...]:
    """Everything a user can read about a ticket."""
    return _get(http, ticket_id), _messages(http, ticket_id), _history(http, ticket_id)


def _merge(http: HttpClient, source: str, into: str, as_: tuple[str, str] = AGENT) -> Any:
    return http.call("POST", f"/tickets/{source}/merge", {"into": into}, as_=as_)


def _mail(delivery: Delivery, ticket_id: str, text: str, sender: dict[str, str] = BOB) -> None:
    """A client's reply on a thread, as the channels service announces it."""
    now = datetime.now(UTC)
    mail = EmailReceived(
        ses_message_id=str(uuid.uuid4()),
        message_id=f"<{uuid.uuid4()}@example.org>",
        raw_key=f"inbound/{uuid.uuid4()}",
        sender=Person(**sender),
        recipients=["support@example.com"],
        subject="Re: your ticket",
        text=text,
        ticket_id=ticket_id,
        received_at=now.isoformat(),
        verdicts=MailVerdicts(spam="PASS", virus="PASS"),
    )
    assert bus_publisher().publish([OutgoingEvent.of(mail, now)]) == []
    delivery.run()


def _times(messages: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(m["created_at"]) for m in messages]


# --- merging --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target_department", "target_requester"),
    [("billing", BOB), ("tech", CAROL)],
    ids=["same-requester-same-department", "other-requester-other-department"],
)
def test_merging_moves_the_conversation_and_closes_the_source(
    http: HttpClient,
    delivery: Delivery,
    target_department: str,
    target_requester: dict[str, str],
) -> None:
    # Given two tickets whose conversations interleave in time
    _departments(http)
    source = _open(http, "Printer jams", "billing", BOB)
    target = _open(http, "Printer broken", target_department, target_requester)
    _post(http, source["id"], "Which model is it?")
    _post(http, target["id"], "Probably the same printer.", visibility="internal")
    _mail(delivery, source["id"], "The HP one.")
    source_messages = _messages(http, source["id"])
    target_messages = _messages(http, target["id"])
    # When an agent who may change both merges the first into the second, naming it by number
    answer = _merge(http, source["id"], target["number"])
    # Then the answer shows the source closed and pointing at the target
    assert answer.status == 200, answer.body
    assert answer.body["source"]["id"] == source["id"]
    assert answer.body["target"]["id"] == target["id"]
    merged = _get(http, source["id"])
    assert (merged["status"], merged["merged_into"]) == ("closed", target["id"])
    assert merged["closed_at"] is not None
    assert answer.body["source"]["merged_into"] == target["id"]
    # And the target's conversation holds both conversations, in time order, then a system note
    conversation = _messages(http, target["id"])
    *copied, note = conversation
    expected = sorted(
        source_messages + target_messages, key=lambda m: datetime.fromisoformat(m["created_at"])
    )
    assert [(m["body"], m["visibility"], m["author"]) for m in copied] == [
        (m["body"], m["visibility"], m["author"]) for m in expected
    ]
    assert [m["body"] for m in copied] == [
        "Printer jams: first words",
        "Printer broken: first words",
        "Which model is it?",
        "Probably the same printer.",
        "The HP one.",
    ]
    assert _times(conversation) == sorted(_times(conversation))
    assert all(m["ticket_id"] == target["id"] for m in conversation)
    assert note["author"]["type"] == "system"
    assert (note["visibility"], note["internal"]) == ("internal", True)
    assert source["number"] in note["body"]
    # And the target stays as it was otherwise: open, its own requester
    kept = _get(http, target["id"])
    assert kept["status"] != "closed"
    assert kept["requester"] == target_requester
    # And both histories record the merge, by the agent
    source_history = {e["field"]: e for e in _history(http, source["id"])}
    assert source_history["merged_into"]["new"] in (target["id"], target["number"])
    assert source_history["merged_into"]["actor"] == AGENT[0]
    assert (source_history["status"]["new"], source_history["status"]["actor"]) == (
        "closed",
        AGENT[0],
    )
    target_history = {e["field"]: e for e in _history(http, target["id"])}
    assert target_history["merged_from"]["new"] in (source["id"], source["number"])
    assert target_history["merged_from"]["actor"] == AGENT[0]


def test_mail_to_a_merged_ticket_lands_on_the_target(http: HttpClient, delivery: Delivery) -> None:
    # Given a ticket merged into another that waits on the client
    _departments(http)
    source = _open(http, "VPN down", "tech", BOB)
    target = _open(http, "No network", "tech", BOB)
    _post(http, target["id"], "Did you restart the router?")
    assert _merge(http, source["number"], target["number"]).status == 200
    delivery.run()  # (the SLA and contacts services say their part)
    source_before = _state(http, source["id"])
    # When the client replies to the merged ticket's old thread
    _mail(delivery, source["id"], "Restarted, still down.")
    # Then the reply is a client message on the target, which is open again
    last = _messages(http, target["id"])[-1]
    assert last["body"] == "Restarted, still down."
    assert (last["author"]["type"], last["author"]["email"]) == ("client", BOB["email"])
    assert _get(http, target["id"])["status"] == "open"
    # And the merged ticket is untouched, and no follow-up ticket was opened
    assert _state(http, source["id"]) == source_before
    assert http.call("GET", "/tickets/TKT-0003").status == 404


# --- refusals -------------------------------------------------------------------------------------


def test_a_ticket_cannot_be_merged_into_itself(http: HttpClient) -> None:
    # Given a ticket
    _departments(http)
    ticket = _open(http, "Lost password", "tech", BOB)
    before = _state(http, ticket["id"])
    # When it is merged into itself, by id or by number
    for into in (ticket["id"], ticket["number"]):
        answer = _merge(http, ticket["id"], into)
        # Then it is a conflict, and nothing changed
        assert answer.status == 409, answer.body
        assert answer.body["type"].endswith("/conflict")
    assert _state(http, ticket["id"]) == before


def test_a_ticket_cannot_be_merged_into_a_closed_one(http: HttpClient) -> None:
    # Given an open ticket and a closed one
    _departments(http)
    ticket = _open(http, "Lost password", "tech", BOB)
    closed = _open(http, "Password reset", "tech", BOB)
    patched = http.call("PATCH", f"/tickets/{closed['id']}", {"status": "closed"}, as_=AGENT)
    assert patched.status == 200, patched.body
    before = (_state(http, ticket["id"]), _state(http, closed["id"]))
    # When the open one is merged into the closed one
    answer = _merge(http, ticket["id"], closed["id"])
    # Then it is a conflict, and neither ticket changed
    assert answer.status == 409, answer.body
    assert answer.body["type"].endswith("/conflict")
    assert (_state(http, ticket["id"]), _state(http, closed["id"])) == before


def test_a_merged_ticket_is_neither_merged_again_nor_merged_into(http: HttpClient) -> None:
    # Given A merged into B, and two other open tickets C and D
    _departments(http)
    a, b, c, d = (_open(http, subject, "billing", BOB) for subject in "ABCD")
    assert _merge(http, a["id"], b["id"]).status == 200
    before = [_state(http, t["id"]) for t in (a, b, c, d)]
    # When A is merged again, into C
    again = _merge(http, a["id"], c["id"])
    # Then it is a conflict
    assert again.status == 409, again.body
    assert again.body["type"].endswith("/conflict")
    # When D is merged into A
    into_merged = _merge(http, d["id"], a["id"])
    # Then that is a conflict too
    assert into_merged.status == 409, into_merged.body
    assert into_merged.body["type"].endswith("/conflict")
    # And no ticket changed
    assert [_state(http, t["id"]) for t in (a, b, c, d)] == before


def test_an_agent_who_cannot_see_the_target_gets_404(http: HttpClient) -> None:
    # Given a Billing agent, a Billing ticket and a ticket of Technical Support
    _departments(http)
    source = _open(http, "Refund", "billing", BOB)
    hidden = _open(http, "Server down", "tech", CAROL)
    before = (_state(http, source["id"]), _state(http, hidden["id"]))
    # When the Billing agent merges their ticket into the one they cannot see
    answer = _merge(http, source["id"], hidden["id"], as_=BILLING_ONLY)
    # Then it is "not found", as if the target did not exist
    assert answer.status == 404, answer.body
    assert answer.body["type"].endswith("/not-found")
    unknown = _merge(http, source["id"], str(uuid.uuid4()), as_=BILLING_ONLY)
    assert (unknown.status, unknown.body["type"]) == (404, answer.body["type"])
    # And neither ticket changed
    assert (_state(http, source["id"]), _state(http, hidden["id"])) == before


# --- one transaction ------------------------------------------------------------------------------


def test_a_merge_whose_source_changed_meanwhile_writes_neither_ticket(
    http: HttpClient, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two tickets, and a change to the source that lands between the merge's read and write
    _departments(http)
    source = _open(http, "Printer jams", "billing", BOB)
    target = _open(http, "Printer broken", "billing", BOB)
    delivery.run()
    target_before = (_get(http, target["id"]), _history(http, target["id"]))
    source_before = _state(http, source["id"])
    commit = DynamoTicketRepository.commit

    def source_changed_first(self: DynamoTicketRepository, *commits: Any) -> None:
        TicketItem(f"TICKET#{source['id']}", "#TICKET").update(actions=[TicketItem.revision.add(1)])
        commit(self, *commits)

    monkeypatch.setattr(DynamoTicketRepository, "commit", source_changed_first)
    # When the source's condition fails in the merge's write
    answer = _merge(http, source["id"], target["id"])
    monkeypatch.undo()
    # Then the merge is refused, and the target is as it was: no new version, history or note
    assert answer.status == 409, answer.body
    assert (_get(http, target["id"]), _history(http, target["id"])) == target_before
    assert not [m for m in _messages(http, target["id"]) if m["author"]["type"] == "system"]
    assert _state(http, source["id"]) == source_before
    # And nothing was announced: no outbox item of the merge was written
    outbox = boto3.resource("dynamodb").Table(get_settings().table_name("tickets"))
    detail_types = {item.get("detail_type") for item in outbox.scan()["Items"]}
    assert not detail_types & {"TicketMerged", "TicketStatusChanged", "TicketUpdated"}
