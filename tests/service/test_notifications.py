"""Mail to agents through the services under the emulator: an agent's preferences and the admins'
defaults over HTTP (and who may change what), the mail a new ticket sends its department's other
members, an assignment told once whichever of its ticket's events comes first, a ticket given by
turns as it opens told to its assignee alone, at once and once, a grouped mail SES throttles sent
by a later sweep once (one it refuses, or throttles past the attempts, dropped), and an agent's
answer by mail becoming their internal note on the ticket."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff
from moto.ses.exceptions import SesError
from moto.ses.models import SESBackend

from local_stack.mail import ses_receipt_event
from local_stack.system import LocalSystem
from services.channels.handlers.digests import DIGEST_FUNCTION
from services.channels.logic import notify_agents
from services.channels.logic.notifications import GROUP_SEND_ATTEMPTS, GROUP_WINDOW, RETRY_AFTER
from services.channels.logic.receive_mail import INBOUND_PREFIX
from shared.aws import client
from shared.clock import get_clock, isoformat
from shared.events.catalogue import (
    FieldChange,
    Person,
    SlaWarning,
    TicketCreated,
    TicketUpdated,
)
from shared.events.consumer import CONSUMER_FUNCTION
from shared.events.envelope import EventData, OutgoingEvent
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, run_schedule, sent_mail

pytestmark = pytest.mark.service

ALICE, BOB = ("alice@example.com", "agent"), ("bob@example.com", "agent")


@pytest.fixture
def billing(http: HttpClient, delivery: Delivery) -> None:
    http.expect(201, "POST", "/departments", {"name": "Billing"})
    for member in (ALICE, BOB):
        http.expect(200, "POST", "/departments/billing/members", {"email": member[0]})
    http.expect(
        201, "POST", "/channels", {"address": "billing@example.com", "department_id": "billing"}
    )
    delivery.run()  # the channels service learns the members


def test_an_agent_reads_and_sets_their_own_preferences_over_the_defaults(http: HttpClient) -> None:
    mine = http.expect(200, "GET", "/notifications/preferences", as_=ALICE)
    assert mine["email"] == ALICE[0]
    assert set(mine["enabled"].values()) == {True}
    assert set(mine["own"].values()) == {None}
    changed = http.expect(
        200, "PUT", "/notifications/preferences", {"client_replied": False}, as_=ALICE
    )
    assert changed["enabled"]["client_replied"] is False
    assert changed["own"]["client_replied"] is False
    # An admin's defaults change what the others get, not what Alice chose for herself.
    defaults = {"new_ticket": False, "client_replied": True, "assigned": True}
    http.expect(200, "PUT", "/notifications/defaults", defaults)
    assert (
        http.expect(200, "GET", "/notifications/preferences", as_=BOB)["enabled"]["new_ticket"]
        is False
    )
    alice = http.expect(200, "GET", "/notifications/preferences", as_=ALICE)
    assert (alice["enabled"]["client_replied"], alice["defaults"]["new_ticket"]) == (False, False)


def test_only_admins_set_the_defaults_and_bad_choices_name_their_field(http: HttpClient) -> None:
    refused = http.call("PUT", "/notifications/defaults", {"new_ticket": False}, as_=ALICE)
    assert refused.status == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    for body, field in (({"new_ticket": "maybe"}, "new_ticket"), ({"digest": True}, "digest")):
        answer = http.call("PUT", "/notifications/preferences", body, as_=ALICE)
        assert answer.status == 422, answer.body
        assert field in str(answer.body["errors"])
    unsigned = http.call("GET", "/notifications/preferences", as_=None)
    assert unsigned.status == 401


def _notifications(to: str) -> list[Any]:
    return [m for m in sent_mail() if m["To"] == to and m["Auto-Submitted"] == "auto-generated"]


@pytest.mark.usefixtures("billing")
def test_a_ticket_an_agent_opens_is_mailed_to_the_other_members_and_their_answer_is_a_note(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    ticket = http.expect(
        201,
        "POST",
        "/tickets",
        {
            "subject": "Printer on fire",
            "body": "It smokes.",
            "department_id": "billing",
            "requester": {"email": "carol@client.example.org"},
        },
        as_=ALICE,
    )
    delivery.run()
    assert _notifications(ALICE[0]) == []
    (notification,) = _notifications(BOB[0])
    assert notification["From"].addresses[0].addr_spec == "billing@example.com"
    assert notification["Subject"] == f"[{ticket['number']}] New ticket: Printer on fire"

    raw = (
        f"From: Bob <{BOB[0]}>\r\nTo: billing@example.com\r\n"
        f"Subject: Re: {notification['Subject']}\r\nMessage-ID: <bob-1@example.com>\r\n"
        f"In-Reply-To: {notification['Message-ID']}\r\n\r\nChecked: the fuser.\r\n\r\n"
        "> It smokes.\r\n"
    ).encode()
    client("s3").put_object(
        Bucket=get_settings().mail_bucket, Key=f"{INBOUND_PREFIX}ses-bob-1", Body=raw
    )
    event = ses_receipt_event(raw, BOB[0], ["billing@example.com"], "ses-bob-1")
    system.invoke("channels", "receive_mail", event)
    delivery.run()
    messages = http.expect(200, "GET", f"/tickets/{ticket['id']}/messages", as_=BOB)["items"]
    note = messages[-1]
    assert (note["visibility"], note["author"]["type"], note["author"]["email"]) == (
        "internal",
        "agent",
        BOB[0],
    )
    assert note["body"].startswith("Checked: the fuser.")
    # A note: the client got nothing.
    assert [m for m in sent_mail() if "carol@client.example.org" in str(m["To"])] == []


def _consume(system: LocalSystem, data: EventData | OutgoingEvent) -> None:
    """Hand one event to the channels service's consumer, as its queue would: EventBridge keeps
    no order, so a test chooses it (and delivers one again by handing the same event)."""
    event = data if isinstance(data, OutgoingEvent) else OutgoingEvent.of(data, get_clock().now())
    body = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": event.detail_type,
        "source": event.source,
        "time": event.envelope.occurred_at,
        "region": "eu-west-1",
        "resources": [],
        "detail": event.envelope.model_dump(mode="json"),
    }
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:channels-events",
        "awsRegion": "eu-west-1",
    }
    answer = system.invoke("channels", CONSUMER_FUNCTION, {"Records": [record]})
    assert answer == {"batchItemFailures": []}


def _billing_ticket(ticket_id: str, number: str, at: str, **fields: Any) -> TicketCreated:
    """A ticket Carol opened by mail in Billing, as the tickets service announces it."""
    return TicketCreated(
        ticket_id=ticket_id,
        number=number,
        subject="Invoice twice",
        status="open",
        priority="medium",
        department_id="billing",
        requester=Person(email="carol@client.example.org"),
        preview="I was charged twice.",
        created_at=at,
        **fields,
    )


@pytest.mark.usefixtures("billing")
@pytest.mark.parametrize("assigned_first", [True, False], ids=["assigned-first", "created-first"])
def test_an_assignment_is_told_once_whichever_of_the_tickets_events_comes_first(
    system: LocalSystem, assigned_first: bool
) -> None:
    # Given a ticket opened by mail in Billing, and Alice giving it to Bob
    now = isoformat(get_clock().now())
    created = _billing_ticket("t-order", "TKT-0042", now)
    assigned = TicketUpdated(
        ticket_id="t-order",
        number="TKT-0042",
        changes=[FieldChange(field="assignee", old=None, new=BOB[0])],
        actor=ALICE[0],
        version=2,
        updated_at=now,
    )
    # When the channels service gets the two events in either order
    for event in (assigned, created) if assigned_first else (created, assigned):
        _consume(system, event)
    run_schedule(system, DIGEST_FUNCTION, GROUP_WINDOW)  # and what waited in a window goes
    # Then Bob is told once that the ticket is his
    assigned_mail = "[TKT-0042] Assigned to you: Invoice twice"
    new_mail = "[TKT-0042] New ticket: Invoice twice"
    bob = [m["Subject"] for m in _notifications(BOB[0])]
    alice = [m["Subject"] for m in _notifications(ALICE[0])]
    if assigned_first:
        # The ticket is known to be Bob's when it arrives: nobody is told it is new.
        assert (bob, alice) == ([assigned_mail], [])
    else:
        assert (bob, alice) == ([new_mail, assigned_mail], [new_mail])


@pytest.fixture
def billing_by_turns(http: HttpClient, billing: None) -> None:
    for member in (ALICE, BOB):
        http.expect(200, "PUT", "/agents/me/availability", {"available": True}, as_=member)
    http.expect(200, "PATCH", "/departments/billing", {"assignment": "round_robin"})


ASSIGNED = "Assigned to you"


def _told(agent: tuple[str, str]) -> list[str]:
    """What each notification to `agent` said happened."""
    return [str(m["Subject"]).split("] ", 1)[1].split(":")[0] for m in _notifications(agent[0])]


@pytest.mark.usefixtures("billing_by_turns")
def test_a_ticket_given_by_turns_as_it_opens_is_told_to_its_assignee_alone_at_once(
    http: HttpClient, system: LocalSystem, delivery: Delivery
) -> None:
    # When an admin opens a ticket in Billing, which gives it to Alice by turns
    ticket = http.expect(
        201,
        "POST",
        "/tickets",
        {
            "subject": "Invoice twice",
            "body": "I was charged twice.",
            "department_id": "billing",
            "requester": {"email": "carol@client.example.org"},
        },
    )
    assert ticket["assignee"] == ALICE[0]
    delivery.run()
    # Then Alice is told it is hers straight away; Bob hears nothing of a ticket he need not take
    assert (_told(ALICE), _told(BOB)) == ([ASSIGNED], [])
    run_schedule(system, DIGEST_FUNCTION, GROUP_WINDOW)
    assert (_told(ALICE), _told(BOB)) == ([ASSIGNED], [])  # nothing waited behind another mail


@pytest.mark.usefixtures("billing_by_turns")
@pytest.mark.parametrize("turn_first", [False, True], ids=["created-first", "turn-first"])
def test_a_ticket_given_by_turns_is_told_once_whichever_event_comes_first_and_again(
    system: LocalSystem, turn_first: bool
) -> None:
    # Given a ticket opened by mail in Billing, given to Bob by turns in the same commit
    now = get_clock().now()
    created = _billing_ticket("t-turn", "TKT-0043", isoformat(now), assignee=BOB[0])
    turn = TicketUpdated(
        ticket_id="t-turn",
        number="TKT-0043",
        changes=[FieldChange(field="assignee", old=None, new=BOB[0])],
        actor="system",
        version=1,
        updated_at=isoformat(now),
    )
    events = [OutgoingEvent.of(created, now), OutgoingEvent.of(turn, now)]
    first, second = reversed(events) if turn_first else events
    # When the channels service gets them in either order, the first delivered again at the end
    for event in (first, second, first):
        _consume(system, event)
    # Then Bob alone is told, once and at once, that the ticket is his
    assert (_told(BOB), _told(ALICE)) == ([ASSIGNED], [])
    run_schedule(system, DIGEST_FUNCTION, GROUP_WINDOW)
    assert (_told(BOB), _told(ALICE)) == ([ASSIGNED], [])


# --- grouped mail SES does not take ----------------------------------------------------------

THROTTLED = ("Throttling", "Maximum sending rate exceeded.")
# SES's model names no Throttling shape (every AWS API may answer it): the emulator says so.
quiet_throttling = pytest.mark.filterwarnings("ignore:.*code Throttling does not match")
REFUSED = ("MessageRejected", "Email address is not verified.")


@pytest.fixture
def ses_fails(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, str]]:
    """The emulator's SES answering the error (code, message) set for an address instead of
    sending to it: on every attempt of a call, as botocore retries a throttled one (without its
    backoff, which would only slow the test down)."""
    failing: dict[str, tuple[str, str]] = {}
    send = SESBackend.send_raw_email

    def send_or_fail(backend: SESBackend, source: str, destinations: list[str], raw: str) -> Any:
        for address in destinations:
            if address in failing:
                raise SesError(*failing[address])
        return send(backend, source, destinations, raw)

    monkeypatch.setattr(SESBackend, "send_raw_email", send_or_fail)
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda backoff, context: 0)
    return failing


@pytest.fixture
def grouped(billing: None, system: LocalSystem) -> None:
    """A ticket both members were told of, and an SLA warning about it waiting in both windows
    (nobody has it): a group each, due when the window ends."""
    now = isoformat(get_clock().now())
    created = _billing_ticket("t-group", "TKT-0044", now)
    warning = SlaWarning(ticket_id="t-group", target="resolution", due_at=now, at=now)
    for event in (created, warning):
        _consume(system, event)
    assert (_told(ALICE), _told(BOB)) == (["New ticket"], ["New ticket"])


AT_RISK = "SLA target at risk"


@quiet_throttling
@pytest.mark.usefixtures("grouped")
def test_a_group_ses_throttles_is_sent_by_a_later_sweep_once(
    system: LocalSystem, ses_fails: dict[str, tuple[str, str]]
) -> None:
    # Given SES throttling mail to Bob when his group falls due
    ses_fails[BOB[0]] = THROTTLED
    assert run_schedule(system, DIGEST_FUNCTION, GROUP_WINDOW)["sent"] == 1  # Alice's
    assert _told(BOB) == ["New ticket"]
    # When SES takes mail again, and the next sweeps come
    del ses_fails[BOB[0]]
    assert run_schedule(system, DIGEST_FUNCTION, RETRY_AFTER)["sent"] == 1
    for after in (RETRY_AFTER, GROUP_WINDOW):
        run_schedule(system, DIGEST_FUNCTION, after)
    # Then Bob got his group once, and Alice hers once
    assert (_told(ALICE), _told(BOB)) == (["New ticket", AT_RISK], ["New ticket", AT_RISK])


@pytest.mark.usefixtures("grouped")
def test_a_group_ses_refuses_is_not_tried_again(
    system: LocalSystem, ses_fails: dict[str, tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=notify_agents.__name__)
    ses_fails[BOB[0]] = REFUSED
    run_schedule(system, DIGEST_FUNCTION, GROUP_WINDOW)
    del ses_fails[BOB[0]]
    for _ in range(3):
        assert run_schedule(system, DIGEST_FUNCTION, RETRY_AFTER)["sent"] == 0
    assert _told(BOB) == ["New ticket"]
    (refused,) = [r for r in caplog.records if r.getMessage() == "grouped notification not sent"]
    assert "MessageRejected" in refused.why


@quiet_throttling
@pytest.mark.usefixtures("grouped")
def test_a_group_throttled_on_every_attempt_is_dropped_and_logged(
    system: LocalSystem, ses_fails: dict[str, tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=notify_agents.__name__)
    ses_fails[BOB[0]] = THROTTLED
    run_schedule(system, DIGEST_FUNCTION, GROUP_WINDOW)
    for _ in range(GROUP_SEND_ATTEMPTS - 1):
        assert run_schedule(system, DIGEST_FUNCTION, RETRY_AFTER)["sent"] == 0
    # Once it is dropped, SES taking mail again brings nothing back
    del ses_fails[BOB[0]]
    for after in (RETRY_AFTER, GROUP_WINDOW):
        assert run_schedule(system, DIGEST_FUNCTION, after)["sent"] == 0
    assert _told(BOB) == ["New ticket"]
    dropped = [r for r in caplog.records if r.getMessage() == "grouped notification dropped"]
    assert [(r.levelno, r.agent, r.ticket, r.attempts) for r in dropped] == [
        (logging.ERROR, BOB[0], "TKT-0044", GROUP_SEND_ATTEMPTS)
    ]


@quiet_throttling
@pytest.mark.parametrize("failure", [THROTTLED, REFUSED], ids=["throttled", "refused"])
@pytest.mark.usefixtures("grouped")
def test_a_group_that_fails_does_not_stop_the_others(
    system: LocalSystem, ses_fails: dict[str, tuple[str, str]], failure: tuple[str, str]
) -> None:
    # Alice's group is the first of the sweep; SES does not take it
    ses_fails[ALICE[0]] = failure
    assert run_schedule(system, DIGEST_FUNCTION, GROUP_WINDOW)["sent"] == 1
    assert (_told(ALICE), _told(BOB)) == (["New ticket"], ["New ticket", AT_RISK])
