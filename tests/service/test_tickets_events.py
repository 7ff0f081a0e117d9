"""What the tickets service announces on the bus, what it never lets out (internal notes), and
what it does with the events of other services: SLA state, contact links, duplicates."""

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
    SlaDueTimesChanged,
    SlaMet,
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


def _patch(http: HttpClient, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return http.expect(200, "PATCH", f"/tickets/{ticket_id}", body, as_=AGENT)  # type: ignore[no-any-return]


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


def test_opening_a_ticket_announces_it_once(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    # Given an agent of Support
    _support_with_agents(http)
    # When they open a ticket and its events are delivered
    ticket = _open(http)
    delivery.run()
    # Then TicketCreated went out once, with the number, department and requester
    created = tap.one("TicketCreated", ticket["id"])
    assert created["number"] == ticket["number"] == "TKT-0001"
    assert created["department_id"] == "support"
    assert created["requester"] == CLIENT
    assert (created["subject"], created["status"], created["priority"]) == (
        "Cannot log in",
        "open",
        "high",
    )
    # And opening is not a change, an assignment or a status change
    for kind in ("TicketUpdated", "TicketStatusChanged", "TicketAssigned", "TicketMerged"):
        assert tap.of(kind, ticket["id"]) == [], kind


def test_a_change_by_hand_is_announced_once_with_its_narrower_events(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    # Given an open ticket whose creation was already announced
    _support_with_agents(http)
    ticket = _open(http)
    delivery.run()
    tap.clear()
    # When an agent assigns it to a colleague, starts it and raises its priority in one change
    changed = _patch(
        http, ticket["id"], {"assignee": COLLEAGUE, "status": "in_progress", "priority": "urgent"}
    )
    delivery.run()
    # Then TicketUpdated lists every change, names the agent and the new version
    updated = tap.one("TicketUpdated", ticket["id"])
    assert sorted((c["field"], c["old"], c["new"]) for c in updated["changes"]) == [
        ("assignee", None, COLLEAGUE),
        ("priority", "high", "urgent"),
        ("status", "open", "in_progress"),
    ]
    assert updated["actor"] == AGENT[0]
    assert updated["version"] == changed["version"] == 2
    assert updated["number"] == ticket["number"]
    # And the status change and the assignment each have their own event, once
    status = tap.one("TicketStatusChanged", ticket["id"])
    assert (status["old"], status["new"], status["reason"]) == ("open", "in_progress", "agent")
    assigned = tap.one("TicketAssigned", ticket["id"])
    assert (assigned["old"], assigned["new"]) == (None, COLLEAGUE)
    assert assigned["department_id"] == "support"
    # And nothing else about the ticket went out
    assert tap.of("TicketCreated", ticket["id"]) == []
    assert tap.of("MessagePosted", ticket["id"]) == []


def test_a_change_that_changes_nothing_announces_nothing(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    # Given an open ticket of high priority
    _support_with_agents(http)
    ticket = _open(http)
    delivery.run()
    tap.clear()
    # When an agent "changes" it to what it already is
    same = _patch(http, ticket["id"], {"status": "open", "priority": "high"})
    delivery.run()
    # Then its version is the same and nothing was announced
    assert same["version"] == 1
    for kind in ("TicketUpdated", "TicketStatusChanged", "TicketAssigned"):
        assert tap.of(kind, ticket["id"]) == [], kind


def test_unassigning_is_announced(http: HttpClient, delivery: Delivery, tap: BusTap) -> None:
    # Given a ticket assigned to a colleague
    _support_with_agents(http)
    ticket = _open(http)
    _patch(http, ticket["id"], {"assignee": COLLEAGUE})
    delivery.run()
    tap.clear()
    # When it is unassigned
    _patch(http, ticket["id"], {"assignee": None})
    delivery.run()
    # Then the assignment event says so, once, and no status changed
    assigned = tap.one("TicketAssigned", ticket["id"])
    assert (assigned["old"], assigned["new"]) == (COLLEAGUE, None)
    updated = tap.one("TicketUpdated", ticket["id"])
    assert [(c["field"], c["old"], c["new"]) for c in updated["changes"]] == [
        ("assignee", COLLEAGUE, None)
    ]
    assert tap.of("TicketStatusChanged", ticket["id"]) == []


def test_a_public_reply_is_announced_with_its_content_and_the_status_it_caused(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    # Given an open ticket
    _support_with_agents(http)
    ticket = _open(http)
    delivery.run()
    tap.clear()
    # When the agent replies to the client
    posted = _post(http, ticket["id"], "Your account is unlocked now.")
    delivery.run()
    # Then MessagePosted carries the public reply, once
    message = tap.one("MessagePosted", ticket["id"])
    assert message["message_id"] == posted["message"]["id"]
    assert message["visibility"] == "public"
    assert message["body"] == "Your account is unlocked now."
    assert message["author"]["type"] == "agent"
    assert message["author"]["email"] == AGENT[0]
    assert message["requester"] == CLIENT
    assert message["first_response"] is True
    # And the ticket waiting on the client is announced as the system's change
    status = tap.one("TicketStatusChanged", ticket["id"])
    assert (status["old"], status["new"], status["reason"]) == (
        "open",
        "waiting_on_client",
        "agent_reply",
    )
    updated = tap.one("TicketUpdated", ticket["id"])
    assert updated["actor"] == "system"
    assert updated["version"] == posted["ticket"]["version"]
    assert [(c["field"], c["old"], c["new"]) for c in updated["changes"]] == [
        ("status", "open", "waiting_on_client")
    ]
    # When they reply again
    tap.clear()
    _post(http, ticket["id"], "Anything else?")
    delivery.run()
    # Then it is not the first response any more, and no status changed
    assert tap.one("MessagePosted", ticket["id"])["first_response"] is False
    assert tap.of("TicketStatusChanged", ticket["id"]) == []


def test_a_client_reply_is_announced_and_reopens_the_ticket(
    http: HttpClient, delivery: Delivery, tap: BusTap
) -> None:
    # Given a ticket waiting on the client
    _support_with_agents(http)
    ticket = _open(http)
    _post(http, ticket["id"], "Did you try resetting the password?")
    delivery.run()
    tap.clear()
    # When the client answers by mail
    _inject(delivery, _mail(ticket["id"], "Yes, no luck."))
    # Then the client's message is announced, and the ticket re-opening
    message = tap.one("MessagePosted", ticket["id"])
    assert (message["visibility"], message["body"]) == ("public", "Yes, no luck.")
    assert (message["author"]["type"], message["author"]["email"]) == ("client", CLIENT["email"])
    assert message["first_response"] is False
    status = tap.one("TicketStatusChanged", ticket["id"])
    assert (status["old"], status["new"], status["reason"]) == (
        "waiting_on_client",
        "open",
        "client_reply",
    )
    assert tap.one("TicketUpdated", ticket["id"])["actor"] == "system"


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


def test_due_times_announced_late_never_replace_newer_ones(
    http: HttpClient, delivery: Delivery
) -> None:
    _support_with_agents(http)
    ticket = _open(http)
    delivery.run()
    newer, older = datetime(2031, 5, 4, 12, 0, tzinfo=UTC), datetime(2031, 5, 4, 9, 0, tzinfo=UTC)
    for due, sequence in ((newer, 100), (older, 99)):
        _inject(
            delivery,
            SlaDueTimesChanged(
                ticket_id=ticket["id"],
                first_response_due_at=_iso(due),
                resolution_due_at=_iso(due + timedelta(days=1)),
                sequence=sequence,
            ),
        )
    assert _at(_get(http, ticket["id"])["sla"]["first_response_due_at"]) == newer


def test_a_met_first_response_leaves_the_ticket_on_its_resolution_clock(
    http: HttpClient, delivery: Delivery
) -> None:
    _support_with_agents(http)
    ticket = _open(http, priority="urgent")
    delivery.run()
    now = _iso(datetime.now(UTC))
    met = {"ticket_id": ticket["id"], "due_at": now, "at": now}
    _inject(delivery, SlaMet(target="first_response", **met))
    assert _get(http, ticket["id"])["sla"]["state"] == "ok"
    _inject(delivery, SlaMet(target="resolution", **met))
    assert _get(http, ticket["id"])["sla"]["state"] == "met"


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


def test_one_mail_announced_twice_under_two_event_ids_still_opens_one_ticket(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given the Support department
    _support_with_agents(http)
    # When the same mail reaches the tickets service in two different events (as a replayed
    # outbox or a retried write would send it), one after the other and then together
    mail = _mail(text="Locked out.")
    _inject(delivery, mail)
    _inject(delivery, mail, mail)
    # Then there is one ticket with one message; the same mail to another department is another
    [ticket] = _list(http, department_id="support")
    messages = http.call("GET", f"/tickets/{ticket['id']}/messages").body["items"]
    assert [m["body"] for m in messages] == ["Locked out."]
    _inject(delivery, mail.model_copy(update={"department_id": None}))
    assert len(_list(http)) == 2


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
