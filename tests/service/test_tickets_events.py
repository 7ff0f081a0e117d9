"""The tickets service's events on the real bus: merges announced, a new ticket naming the assignee
it was given by turns as it opened, internal notes never let out, the SLA and contacts services'
events taking effect, and events delivered twice. Which events each change announces is held in
`tests/unit/test_tickets_logic.py`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from local_stack.system import LocalSystem
from shared.events.catalogue import (
    EmailReceived,
    MailVerdicts,
    Person,
    SlaBreached,
    SlaWarning,
)
from shared.events.envelope import EventData, OutgoingEvent
from shared.events.publisher import bus_publisher
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient

pytestmark = pytest.mark.service

AGENT = ("alice@example.com", "agent")
COLLEAGUE = "carol@example.com"
CLIENT = {"email": "bob@example.com", "name": "Bob"}
NEW_TICKET = {
    "subject": "Cannot log in",
    "body": "The login page says my account is locked.",
    "priority": "high",
    "department_id": "support",
    "requester": CLIENT,
}
TICKETS = "helpdesk.tickets"


# --- a tap on the bus -----------------------------------------------------------------------------


@dataclass
class BusTap:
    """Every event on the bus, as EventBridge delivers it to a queue of our own."""

    queue_url: str
    raw: list[str] = field(default_factory=list)

    def drain(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return self.events
            for message in messages:
                self.raw.append(message["Body"])
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.raw]

    def of(self, detail_type: str, ticket_id: str | None = None) -> list[dict[str, Any]]:
        """The `data` of each tickets-service event of one type (about one ticket, if given)."""
        self.drain()
        return [
            event["detail"]["data"]
            for event in self.events
            if event["source"] == TICKETS
            and event["detail-type"] == detail_type
            and (ticket_id is None or event["detail"]["data"].get("ticket_id") == ticket_id)
        ]

    def one(self, detail_type: str, ticket_id: str) -> dict[str, Any]:
        found = self.of(detail_type, ticket_id)
        assert len(found) == 1, f"{len(found)} {detail_type} events, expected one: {found}"
        return found[0]

    def clear(self) -> None:
        self.drain()
        self.raw.clear()


@pytest.fixture
def tap(system: LocalSystem) -> BusTap:
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="test-bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = get_settings().bus_name
    events.put_rule(
        Name="test-bus-tap",
        EventBusName=bus,
        EventPattern=json.dumps({"source": [{"prefix": "helpdesk."}]}),
    )
    events.put_targets(Rule="test-bus-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return BusTap(url)


# --- helpers --------------------------------------------------------------------------------------


def _support_with_agents(http: HttpClient) -> None:
    assert http.call("POST", "/departments", {"name": "Support"}).status == 201
    for email in (AGENT[0], COLLEAGUE):
        assert http.call("POST", "/departments/support/members", {"email": email}).status == 200


def _open(http: HttpClient, **changes: Any) -> dict[str, Any]:
    return http.expect(201, "POST", "/tickets", {**NEW_TICKET, **changes}, as_=AGENT)  # type: ignore[no-any-return]


def _get(http: HttpClient, key: str) -> dict[str, Any]:
    return http.expect(200, "GET", f"/tickets/{key}", as_=AGENT)  # type: ignore[no-any-return]


def _post(http: HttpClient, ticket_id: str, body: str, visibility: str = "public") -> Any:
    message = {"body": body, "visibility": visibility}
    return http.expect(201, "POST", f"/tickets/{ticket_id}/messages", message, as_=AGENT)


def _list(http: HttpClient, **query: str) -> list[dict[str, Any]]:
    answer = http.call("GET", f"/tickets?{urlencode(query)}")
    assert answer.status == 200, answer.body
    return answer.body["items"]  # type: ignore[no-any-return]


def _publish(delivery: Delivery, *events: OutgoingEvent) -> None:
    """Put events on the bus as their own service would, and deliver them."""
    assert bus_publisher().publish(list(events)) == []
    delivery.run()


def _event(data: EventData) -> OutgoingEvent:
    return OutgoingEvent.of(data, datetime.now(UTC))


def _inject(delivery: Delivery, *data: EventData) -> None:
    _publish(delivery, *(_event(d) for d in data))


def _mail(ticket_id: str | None = None, text: str = "Any news?") -> EmailReceived:
    return EmailReceived(
        ses_message_id=str(uuid.uuid4()),
        message_id=f"<{uuid.uuid4()}@example.org>",
        raw_key=f"inbound/{uuid.uuid4()}",
        sender=Person(**CLIENT),
        recipients=["support@example.com"],
        subject="Cannot log in",
        text=text,
        ticket_id=ticket_id,
        department_id="support",
        received_at=datetime.now(UTC).isoformat(),
        verdicts=MailVerdicts(spam="PASS", virus="PASS"),
    )


def _at(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _ids(tickets: Sequence[dict[str, Any]]) -> list[str]:
    return [t["id"] for t in tickets]


# --- events out -----------------------------------------------------------------------------------


def test_a_merge_is_announced_once(http: HttpClient, delivery: Delivery, tap: BusTap) -> None:
    # Given two tickets of Support
    _support_with_agents(http)
    source, target = _open(http), _open(http, subject="Locked out")
    delivery.run()
    tap.clear()
    # When one is merged into the other
    answer = http.call("POST", f"/tickets/{source['id']}/merge", {"into": target["id"]}, as_=AGENT)
    assert answer.status == 200, answer.body
    delivery.run()
    # Then TicketMerged names both tickets and the agent, once
    merged = [m for m in tap.of("TicketMerged") if m["source_ticket_id"] == source["id"]]
    assert len(merged) == 1, merged
    assert (merged[0]["target_ticket_id"], merged[0]["target_number"]) == (
        target["id"],
        target["number"],
    )
    assert merged[0]["source_number"] == source["number"]
    assert merged[0]["actor"] == AGENT[0]
    # And the source's closing is announced as a change caused by the merge
    status = tap.one("TicketStatusChanged", source["id"])
    assert (status["old"], status["new"], status["reason"]) == ("open", "closed", "merge")
    assert tap.one("TicketUpdated", source["id"])["actor"] == AGENT[0]


def test_a_new_ticket_names_the_assignee_it_was_given_as_it_opened(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    # Given Support, which assigns by hand
    _support_with_agents(http)
    by_hand = _open(http)
    # When it begins to assign by turns, with Alice available, and a ticket opens
    http.expect(200, "PUT", "/agents/me/availability", {"available": True}, as_=AGENT)
    http.expect(200, "PATCH", "/departments/support", {"assignment": "round_robin"})
    by_turns = _open(http)
    delivery.run()
    # Then the ticket opened by hand was announced with nobody, the other with Alice
    assert tap.one("TicketCreated", by_hand["id"])["assignee"] is None
    assert by_turns["assignee"] == AGENT[0]
    assert tap.one("TicketCreated", by_turns["id"])["assignee"] == AGENT[0]
    # And the turn of the same commit is told at the version the ticket opened with
    turn = tap.one("TicketUpdated", by_turns["id"])
    assert (turn["version"], turn["actor"], turn["changes"][0]["new"]) == (1, "system", AGENT[0])


# --- internal notes never leave -------------------------------------------------------------------


def test_an_internal_note_never_leaves_the_service(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    # Given a ticket with an internal note that holds a secret, then merged into another
    _support_with_agents(http)
    marker = f"SECRET-{uuid.uuid4().hex}"
    ticket, other = _open(http), _open(http, subject="Locked out again")
    posted = _post(http, ticket["id"], f"Client is on the fraud list ({marker})", "internal")
    merged = http.call("POST", f"/tickets/{ticket['id']}/merge", {"into": other["id"]}, as_=AGENT)
    assert merged.status == 200, merged.body
    # When every event is delivered
    delivery.run()
    tap.drain()
    # Then the note was announced, as internal and without any content
    note = tap.one("MessagePosted", ticket["id"])
    assert note["message_id"] == posted["message"]["id"]
    assert note["visibility"] == "internal"
    assert note.get("body") is None
    assert note.get("html") is None
    assert note.get("attachments") in (None, [])
    # And the marker is in no event on the bus, whatever its kind or source
    assert len(tap.raw) >= 3
    assert [body for body in tap.raw if marker in body] == []
    # And agents still read the note, marked internal, on both tickets
    for ticket_id in (ticket["id"], other["id"]):
        answer = http.call("GET", f"/tickets/{ticket_id}/messages", as_=AGENT)
        [found] = [m for m in answer.body["items"] if marker in m["body"]]
        assert (found["visibility"], found["internal"]) == ("internal", True)


# --- SLA events in --------------------------------------------------------------------------------


def _target(kind: type[SlaWarning | SlaBreached], ticket_id: str) -> SlaWarning | SlaBreached:
    now = datetime.now(UTC)
    return kind(
        ticket_id=ticket_id,
        target="first_response",
        due_at=_iso(now + timedelta(hours=1)),
        at=_iso(now),
    )


def test_sla_events_set_due_times_and_state_without_downgrading(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given an urgent ticket the SLA service has not spoken about yet
    _support_with_agents(http)
    ticket = _open(http, priority="urgent")
    assert ticket["sla"]["state"] is None
    # When the SLA service announces its due times (the default policy: urgent 1 h / 4 h)
    delivery.run()
    # Then the ticket shows them, and it is on track, at the version the agent knows
    created = _at(ticket["created_at"])
    assert created is not None
    opened = created.replace(microsecond=created.microsecond // 1000 * 1000)  # as events carry it
    after = _get(http, ticket["id"])
    sla = after["sla"]
    assert _at(sla["first_response_due_at"]) == opened + timedelta(hours=1)
    assert _at(sla["resolution_due_at"]) == opened + timedelta(hours=4)
    assert sla["state"] == "ok"
    assert (after["version"], after["updated_at"]) == (ticket["version"], ticket["updated_at"])
    # When a target approaches
    _inject(delivery, _target(SlaWarning, ticket["id"]))
    # Then the ticket is at risk
    assert _get(http, ticket["id"])["sla"]["state"] == "at_risk"
    # When it is breached
    _inject(delivery, _target(SlaBreached, ticket["id"]))
    # Then the ticket is breached
    assert _get(http, ticket["id"])["sla"]["state"] == "breached"
    # When a warning arrives late, after the breach
    _inject(delivery, _target(SlaWarning, ticket["id"]))
    # Then the ticket stays breached, with its due times
    sla = _get(http, ticket["id"])["sla"]
    assert sla["state"] == "breached"
    assert _at(sla["first_response_due_at"]) == opened + timedelta(hours=1)
    # And an agent who read it before all this still saves with that version
    changed = http.call(
        "PATCH",
        f"/tickets/{ticket['id']}",
        {"tags": ["vip"]},
        headers={"If-Match": f'"{ticket["version"]}"'},
    )
    assert changed.status == 200, changed.body


def test_lists_filter_by_sla_state_and_sort_by_the_soonest_due(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given three tickets, opened in one order, due in another (by their priorities' targets)
    _support_with_agents(http)
    late, soon, middle = (
        _open(http, subject=s, priority=p)
        for s, p in (("late", "low"), ("soon", "urgent"), ("middle", "high"))
    )
    delivery.run()
    # And one of them breached, one at risk
    _inject(delivery, _target(SlaBreached, middle["id"]), _target(SlaWarning, late["id"]))
    # When the lists are read
    # Then sorting by SLA due puts the soonest first
    assert _ids(_list(http, sort="sla_due")) == _ids([soon, middle, late])
    assert _ids(_list(http, sort="sla_due", department_id="support")) == _ids([soon, middle, late])
    # And filtering by state shows only the tickets in that state
    assert _ids(_list(http, sla="breached")) == [middle["id"]]
    assert _ids(_list(http, sla="at_risk")) == [late["id"]]
    assert _ids(_list(http, sla="ok")) == [soon["id"]]
    assert _ids(_list(http, sla="breached", sort="sla_due")) == [middle["id"]]


# --- contact events in ----------------------------------------------------------------------------


def test_contact_links_and_merges_move_tickets_to_the_surviving_contact(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given two tickets from one person, and a third from their other address
    _support_with_agents(http)
    other = {"email": "dana.private@client.example.org", "name": "Dana"}
    first, second = (_open(http, subject=s) for s in ("first", "second"))
    third = _open(http, subject="third", requester=other)
    delivery.run()
    # Then the contacts service linked each to the contact of its address
    keep = _get(http, first["id"])["contact_id"]
    gone = _get(http, third["id"])["contact_id"]
    assert None not in (keep, gone)
    assert keep != gone
    assert _ids(_list(http, contact_id=keep, sort="created")) == _ids([second, first])
    # When an admin merges the other contact into the first
    merged = http.call("POST", f"/contacts/{gone}/merge", {"into": keep})
    assert merged.status == 200, merged.body
    delivery.run()
    # Then every ticket belongs to the surviving contact, listed newest first
    for ticket in (first, second, third):
        assert _get(http, ticket["id"])["contact_id"] == keep
    assert _ids(_list(http, contact_id=keep, sort="created")) == _ids([third, second, first])
    assert _list(http, contact_id=gone, sort="created") == []
    # And the history says the system moved it, without a person's version moving
    history = http.call("GET", f"/tickets/{third['id']}/history").body["items"]
    assert [
        (e["field"], e["old"], e["new"], e["actor"]) for e in history if e["field"] == "contact_id"
    ] == [
        ("contact_id", None, gone, "system"),
        ("contact_id", gone, keep, "system"),
    ]
    assert _get(http, third["id"])["version"] == third["version"]


# --- duplicates -----------------------------------------------------------------------------------


def test_a_mail_delivered_twice_opens_one_ticket(http: HttpClient, delivery: Delivery) -> None:
    # Given the Support department
    _support_with_agents(http)
    # When the same EmailReceived (same envelope id) is delivered twice, together and later
    event = _event(_mail(text="Locked out."))
    _publish(delivery, event, event)
    _publish(delivery, event)
    # Then one ticket was opened, with one message
    [ticket] = _list(http, department_id="support")
    messages = http.call("GET", f"/tickets/{ticket['id']}/messages").body["items"]
    assert [m["body"] for m in messages] == ["Locked out."]
    assert http.call("GET", "/tickets/TKT-0002").status == 404


def test_a_reply_delivered_twice_is_added_once(http: HttpClient, delivery: Delivery) -> None:
    # Given a ticket waiting on the client
    _support_with_agents(http)
    ticket = _open(http)
    _post(http, ticket["id"], "Please try again.")
    # When the client's reply is delivered twice
    event = _event(_mail(ticket["id"], "Works now, thanks."))
    _publish(delivery, event)
    _publish(delivery, event)
    # Then it is in the conversation once, and the ticket changed once
    messages = http.call("GET", f"/tickets/{ticket['id']}/messages").body["items"]
    assert [m["body"] for m in messages].count("Works now, thanks.") == 1
    assert _get(http, ticket["id"])["version"] == 3
