"""Retries duplicate no work. Every operation that creates takes an `Idempotency-Key`: the same
key with the same request answers the first answer again and creates nothing; with another
request it is a 422 naming the header; keys are the caller's own and last 24 hours; a duplicate
arriving while the first is still running gets a 409. The write transactions of a request or an
event carry a client request token derived from it, the same on every attempt."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from pynamodb.connection.base import Connection

import services.contacts.handlers.http as contacts_http
import services.tickets.handlers.events as tickets_events
import services.tickets.handlers.http as tickets_http
from local_stack.gateway import Gateway
from local_stack.mail import ses_receipt_event
from local_stack.system import LocalSystem
from local_stack.tokens import DevTokens
from local_stack.user_pool import set_up_user_pool
from shared.aws import client
from shared.events.catalogue import EmailReceived, MailVerdicts, Person
from shared.events.envelope import OutgoingEvent
from shared.settings import get_settings
from tests.conftest import Answer, Delivery, HttpClient

pytestmark = pytest.mark.service
HEADER = "Idempotency-Key"
FIELD = "header.Idempotency-Key"
ALICE = ("alice@example.com", "agent")
BOB = ("bob@example.com", "agent")
NEW_TICKET = {
    "subject": "Printer on fire",
    "body": "Since this morning",
    "requester": {"email": "carol@example.org"},
}


def _key() -> dict[str, str]:
    return {HEADER: str(uuid.uuid4())}


@dataclass(frozen=True)
class Creation:
    """A request that creates, another request under the same key, and how many of what it
    creates there are."""

    path: str
    body: dict[str, Any]
    other_body: dict[str, Any]
    count: Callable[[], int]


@dataclass
class World:
    http: HttpClient
    system: LocalSystem
    delivery: Delivery
    monkeypatch: pytest.MonkeyPatch

    def items(self, path: str) -> list[Any]:
        answer = self.http.call("GET", path)
        assert answer.status == 200, answer.body
        return answer.body["items"]  # type: ignore[no-any-return]

    def ticket(self, subject: str = "Printer on fire") -> dict[str, Any]:
        return self.http.expect(201, "POST", "/tickets", {**NEW_TICKET, "subject": subject})  # type: ignore[no-any-return]

    def department(self, name: str = "Billing") -> str:
        return str(self.http.expect(201, "POST", "/departments", {"name": name})["id"])

    def contact(self, email: str) -> dict[str, Any]:
        return self.http.expect(201, "POST", "/contacts", {"name": "Dana", "emails": [email]})  # type: ignore[no-any-return]


def _ticket(world: World) -> Creation:
    return Creation(
        "/tickets",
        NEW_TICKET,
        {**NEW_TICKET, "subject": "Printer still on fire"},
        lambda: len(world.items("/tickets")),
    )


def _message(world: World) -> Creation:
    ticket = world.ticket()
    path = f"/tickets/{ticket['id']}/messages"
    return Creation(
        path, {"body": "On our way."}, {"body": "Later."}, lambda: len(world.items(path))
    )


def _ticket_merge(world: World) -> Creation:
    source, target = world.ticket("Twice"), world.ticket("Once")
    messages = f"/tickets/{target['id']}/messages"
    return Creation(
        f"/tickets/{source['id']}/merge",
        {"into": target["id"]},
        {"into": world.ticket("Elsewhere")["id"]},
        lambda: len(world.items(messages)),
    )


def _bulk_change(world: World) -> Creation:
    # A change makes a version; the same change again would make none even without the key,
    # so the kept answer shows itself by what it says (see tests/service/test_tickets_bulk.py).
    ticket = world.ticket()

    def versions() -> int:
        return int(world.http.expect(200, "GET", f"/tickets/{ticket['id']}")["version"])

    return Creation(
        "/tickets/bulk",
        {"ticket_ids": [ticket["id"]], "changes": {"priority": "high"}},
        {"ticket_ids": [ticket["id"]], "changes": {"priority": "low"}},
        versions,
    )


def _macro(world: World) -> Creation:
    macro = {"name": "Thanks", "scope": "personal", "body": "Thanks, {requester.name}!"}
    return Creation(
        "/macros", macro, {**macro, "name": "Thanks again"}, lambda: len(world.items("/macros"))
    )


def _macro_applied(world: World) -> Creation:
    ticket = world.ticket()
    note = {"name": "Seen", "scope": "shared", "body": "Seen.", "visibility": "internal"}
    macro = world.http.expect(201, "POST", "/macros", note)
    messages = f"/tickets/{ticket['id']}/messages"
    return Creation(
        f"/tickets/{ticket['id']}/macros/{macro['id']}",
        {},
        {"version": 1},
        lambda: len(world.items(messages)),
    )


def _department(world: World) -> Creation:
    return Creation(
        "/departments",
        {"name": "Billing"},
        {"name": "Sales"},
        lambda: len(world.items("/departments")),
    )


def _member(world: World) -> Creation:
    department = world.department()

    def members() -> int:
        return len(world.http.expect(200, "GET", f"/departments/{department}")["members"])

    return Creation(
        f"/departments/{department}/members",
        {"email": ALICE[0]},
        {"email": BOB[0]},
        members,
    )


def _agent(world: World) -> Creation:
    for name in ("HELPDESK_USER_POOL_ID", "HELPDESK_USER_POOL_CLIENT_ID"):
        world.monkeypatch.delenv(name, raising=False)  # unset again after the test
    set_up_user_pool(get_settings())
    return Creation(
        "/agents",
        {"email": "erin@example.com", "name": "Erin"},
        {"email": "frank@example.com", "name": "Frank"},
        lambda: len(world.items("/agents?limit=60")),
    )


def _channel(world: World) -> Creation:
    world.department()
    return Creation(
        "/channels",
        {"address": "billing@example.com", "department_id": "billing"},
        {"address": "money@example.com", "department_id": "billing"},
        lambda: len(world.items("/channels")),
    )


def _upload(world: World) -> Creation:
    # A form names a new key each time: the same key answered again is the same form.
    return Creation(
        "/channels/uploads",
        {"name": "photo.png", "content_type": "image/png", "size": 1024},
        {"name": "photo.png", "content_type": "image/png", "size": 2048},
        lambda: 0,
    )


def _release(world: World) -> Creation:
    world.department()
    world.http.expect(
        201, "POST", "/channels", {"address": "billing@example.com", "department_id": "billing"}
    )
    raw = (
        "From: Zed <zed@client.example.org>\r\nTo: billing@example.com\r\nSubject: Prize!\r\n"
        f"Message-ID: <{uuid.uuid4()}@client.example.org>\r\n\r\nHello.\r\n"
    ).encode()
    event = ses_receipt_event(raw, "zed@client.example.org", ["billing@example.com"], "ses-1")
    event["Records"][0]["ses"]["receipt"]["virusVerdict"] = {"status": "FAIL"}
    world.system.invoke("channels", "receive_mail", event)
    (kept,) = world.items("/channels/quarantine")

    def tickets() -> int:
        world.delivery.run()
        return len(world.items("/tickets"))

    return Creation(
        f"/channels/quarantine/{kept['id']}/release",
        {},
        {"department_id": "billing"},
        tickets,
    )


def _contact(world: World) -> Creation:
    return Creation(
        "/contacts",
        {"name": "Dana Scully", "emails": ["dana@client.example.org"]},
        {"name": "Fox Mulder", "emails": ["fox@client.example.org"]},
        lambda: len(world.items("/contacts")),
    )


def _contact_merge(world: World) -> Creation:
    merged, survivor = world.contact("a@client.example.org"), world.contact("b@client.example.org")
    other = world.contact("c@client.example.org")
    return Creation(
        f"/contacts/{merged['id']}/merge",
        {"into": survivor["id"]},
        {"into": other["id"]},
        lambda: len(world.items("/contacts")),
    )


def _crm_sync(world: World) -> Creation:
    world.monkeypatch.setenv("HELPDESK_CRM_PROVIDER", "hubspot")
    get_settings.cache_clear()
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=get_settings().queue_name("crm_sync", "work"))["QueueUrl"]

    def queued() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    return Creation("/crm/sync", {"full": True}, {"full": False}, queued)


CREATIONS: dict[str, Callable[[World], Creation]] = {
    "POST /tickets": _ticket,
    "POST /tickets/{id}/messages": _message,
    "POST /tickets/{id}/merge": _ticket_merge,
    "POST /tickets/{id}/macros/{macro_id}": _macro_applied,
    "POST /macros": _macro,
    "POST /tickets/bulk": _bulk_change,
    "POST /departments": _department,
    "POST /departments/{id}/members": _member,
    "POST /agents": _agent,
    "POST /channels": _channel,
    "POST /channels/uploads": _upload,
    "POST /channels/quarantine/{id}/release": _release,
    "POST /contacts": _contact,
    "POST /contacts/{id}/merge": _contact_merge,
    "POST /crm/sync": _crm_sync,
}


@pytest.fixture
def world(
    http: HttpClient, system: LocalSystem, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    yield World(http, system, delivery, monkeypatch)
    get_settings.cache_clear()


def _problem_fields(answer: Answer) -> list[str]:
    return [error["field"] for error in answer.body.get("errors", [])]


def test_every_operation_that_creates_takes_a_key_and_is_covered_here(system: LocalSystem) -> None:
    from infra.openapi import project_document

    operations = [
        (f"{method.upper()} {path}", operation)
        for path, described in project_document()["paths"].items()
        for method, operation in described.items()
    ]
    idempotent = {
        _shape(name)
        for name, operation in operations
        if any(p["name"] == HEADER for p in operation.get("parameters", []))
    }
    created = {
        _shape(name)
        for name, operation in operations
        if {"201", "202"} & set(operation["responses"])
    }
    assert created <= idempotent
    assert idempotent == {_shape(name) for name in CREATIONS}


def _shape(route: str) -> str:
    """A route with its path parameters unnamed: `POST /tickets/{}/merge`."""
    return "/".join("{}" if part.startswith("{") else part for part in route.split("/"))


@pytest.mark.parametrize("route", list(CREATIONS))
def test_the_same_key_answers_the_first_answer_again_and_creates_nothing(
    world: World, route: str
) -> None:
    # Given the route's resources, and a request sent under a key
    creation = CREATIONS[route](world)
    key = _key()
    first = world.http.call("POST", creation.path, creation.body, headers=key)
    assert first.status in (200, 201, 202), first.body
    created = creation.count()
    # When the client sends it again under the same key (it never heard the answer)
    again = world.http.call("POST", creation.path, creation.body, headers=key)
    # Then it gets the first answer, headers included, and nothing more was created
    assert (again.status, again.body, again.headers) == (first.status, first.body, first.headers)
    assert creation.count() == created
    # And the same key on another request is refused, naming the header, and creates nothing
    reused = world.http.call("POST", creation.path, creation.other_body, headers=key)
    assert reused.status == 422, reused.body
    assert _problem_fields(reused) == [FIELD]
    assert reused.body["type"].endswith("/idempotency-key-reused")
    assert creation.count() == created


def test_a_ticket_answers_its_etag_again(world: World) -> None:
    key = _key()
    first = world.http.call("POST", "/tickets", NEW_TICKET, headers=key)
    again = world.http.call("POST", "/tickets", NEW_TICKET, headers=key)
    assert first.headers["ETag"] == again.headers["ETag"] == '"1"'
    assert again.body["id"] == first.body["id"]


def test_without_a_key_each_request_creates(world: World) -> None:
    assert world.http.call("POST", "/tickets", NEW_TICKET).status == 201
    assert world.http.call("POST", "/tickets", NEW_TICKET).status == 201
    assert len(world.items("/tickets")) == 2


def test_the_body_is_compared_as_sent_not_as_spelt(world: World) -> None:
    # The same fields in another order and spacing are the same request
    key = _key()
    first = world.http.call("POST", "/tickets", NEW_TICKET, headers=key)
    reordered = json.dumps(dict(reversed(list(NEW_TICKET.items()))), indent=2).encode()
    again = world.http.call("POST", "/tickets", raw=reordered, headers=key)
    assert (again.status, again.body) == (first.status, first.body)
    # And a field the first did not send makes it another request
    other = world.http.call("POST", "/tickets", {**NEW_TICKET, "priority": "medium"}, headers=key)
    assert other.status == 422
    assert len(world.items("/tickets")) == 1


def test_a_key_is_the_callers_own(world: World) -> None:
    # Given Alice created a contact under a key
    key = _key()
    dana = {"name": "Dana", "emails": ["dana@x.org"]}
    alice = world.http.call("POST", "/contacts", dana, as_=ALICE, headers=key)
    assert alice.status == 201
    # When Bob sends the same request under the same key, it is his own: the address is taken
    bob = world.http.call("POST", "/contacts", dana, as_=BOB, headers=key)
    assert bob.status == 409, bob.body
    # And his other request under that key is his, neither refused nor answered with Alice's
    fox = world.http.call(
        "POST", "/contacts", {"name": "Fox", "emails": ["fox@x.org"]}, as_=BOB, headers=key
    )
    assert fox.status == 201, fox.body
    assert fox.body["id"] != alice.body["id"]
    assert len(world.items("/contacts")) == 2


def test_a_key_lasts_a_day(world: World) -> None:
    key = _key()
    before = time.time()
    assert world.http.call("POST", "/tickets", NEW_TICKET, headers=key).status == 201
    table = get_settings().idempotency_table("tickets")
    records = client("dynamodb").scan(TableName=table)["Items"]  # a test reads the whole table
    (record,) = [r for r in records if r["id"]["S"].startswith("http#")]
    assert record["status"]["S"] == "COMPLETED"
    assert int(before) + 24 * 3600 <= int(record["expiration"]["N"]) <= time.time() + 24 * 3600


@pytest.mark.parametrize("bad", ["", " ", "x" * 256, "tab\there"])
def test_a_key_that_is_no_key_is_refused(world: World, bad: str) -> None:
    answer = world.http.call("POST", "/tickets", NEW_TICKET, headers={HEADER: bad})
    assert answer.status == 422
    assert _problem_fields(answer) == [FIELD]
    assert world.items("/tickets") == []


def test_a_failed_request_leaves_nothing_to_replay(world: World) -> None:
    # Given a request refused (Bob may not open a ticket in a department he is not in)
    world.department()
    key = _key()
    body = {**NEW_TICKET, "department_id": "billing"}
    assert world.http.call("POST", "/tickets", body, as_=BOB, headers=key).status == 422
    # When he is added and sends it again under the same key, it is tried again
    world.http.expect(200, "POST", "/departments/billing/members", {"email": BOB[0]})
    assert world.http.call("POST", "/tickets", body, as_=BOB, headers=key).status == 201


def test_an_answer_too_large_to_keep_is_still_given(world: World) -> None:
    # Given a reply as long as a message may be, in a script of several bytes a character
    ticket = world.ticket()
    reply = json.dumps({"body": "й" * 100_000}, ensure_ascii=False).encode()
    path = f"/tickets/{ticket['id']}/messages"
    # When it is posted under a key, the poster gets the answer: the work was done
    posted = world.http.call("POST", path, raw=reply, headers=_key())
    assert posted.status == 201, posted.body
    assert len(world.items(path)) == 2


@pytest.fixture
def concurrent_clients(system: LocalSystem, tmp_path: Path) -> tuple[HttpClient, HttpClient]:
    """Two clients over gateways of their own: their requests reach the services at once."""
    tokens = DevTokens(tmp_path / "concurrent-key")
    return (
        HttpClient(Gateway(system.apps, tokens, {}), tokens),
        HttpClient(Gateway(system.apps, tokens, {}), tokens),
    )


def test_a_duplicate_while_the_first_is_running_gets_a_409(
    concurrent_clients: tuple[HttpClient, HttpClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    first_client, duplicate_client = concurrent_clients
    key = _key()
    body = {"name": "Dana", "emails": ["dana@x.org"]}
    duplicates: list[Answer] = []
    create = contacts_http.create_contact

    def create_while_a_duplicate_arrives(*args: Any, **kwargs: Any) -> Any:
        if not duplicates:  # the first request, still running: its duplicate arrives now
            thread = threading.Thread(
                target=lambda: duplicates.append(
                    duplicate_client.call("POST", "/contacts", body, as_=ALICE, headers=key)
                )
            )
            thread.start()
            thread.join(timeout=30)
        return create(*args, **kwargs)

    monkeypatch.setattr(contacts_http, "create_contact", create_while_a_duplicate_arrives)
    first = first_client.call("POST", "/contacts", body, as_=ALICE, headers=key)
    # Then the duplicate was told to come back, naming the header; the first created the contact
    (duplicate,) = duplicates
    assert duplicate.status == 409, duplicate.body
    assert duplicate.body["type"].endswith("/request-in-progress")
    assert _problem_fields(duplicate) == [FIELD]
    assert first.status == 201
    # And coming back once it is done, the duplicate gets the first answer
    again = duplicate_client.call("POST", "/contacts", body, as_=ALICE, headers=key)
    assert (again.status, again.body) == (201, first.body)


# --- client request tokens ------------------------------------------------------------------------


@pytest.fixture
def tokens_sent(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The ClientRequestToken of every write transaction sent, in order."""
    sent: list[str | None] = []
    transact = Connection.transact_write_items

    def record(self: Connection, *args: Any, **kwargs: Any) -> Any:
        sent.append(kwargs.get("client_request_token"))
        return transact(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "transact_write_items", record)
    return sent


def test_a_request_sent_again_writes_under_the_tokens_of_its_first_attempt(
    world: World, tokens_sent: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a request under a key whose first attempt fails after writing
    answer_ticket = tickets_http._with_etag
    failures = iter([RuntimeError("the connection dropped")])

    def answer_or_fail(*args: Any, **kwargs: Any) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return answer_ticket(*args, **kwargs)

    monkeypatch.setattr(tickets_http, "_with_etag", answer_or_fail)
    key = _key()
    assert world.http.call("POST", "/tickets", NEW_TICKET, headers=key).status == 500
    (first_attempt,) = tokens_sent
    # When it is sent again under that key, and another request under another key
    assert world.http.call("POST", "/tickets", NEW_TICKET, headers=key).status == 201
    assert world.http.call("POST", "/tickets", NEW_TICKET, headers=_key()).status == 201
    # Then the retry's transaction carries the first attempt's token, the other request another
    assert first_attempt is not None
    assert len(first_attempt) <= 36
    assert tokens_sent[1] == first_attempt
    assert tokens_sent[2] not in (None, first_attempt)


def test_requests_without_a_key_write_under_tokens_of_their_own(
    world: World, tokens_sent: list[str | None]
) -> None:
    world.ticket("One")
    world.ticket("Two")
    assert len(tokens_sent) == 2
    assert None not in tokens_sent
    assert tokens_sent[0] != tokens_sent[1]


def test_a_token_another_attempt_used_for_other_writes_does_not_stop_this_one(
    world: World, tokens_sent: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DynamoDB refuses the token the first time: it carried another transaction before
    call = BaseClient._make_api_call
    refused: list[dict[str, Any]] = []

    def mismatch_once(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and "ClientRequestToken" in params and not refused:
            refused.append(params)
            error = {"Code": "IdempotentParameterMismatchException", "Message": "mismatch"}
            raise ClientError({"Error": error}, operation)
        return call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", mismatch_once)
    # When a contact is created
    created = world.http.call("POST", "/contacts", {"name": "Dana", "emails": ["dana@x.org"]})
    # Then its transaction was sent again without the token, and the contact is there
    assert created.status == 201, created.body
    assert len(refused) == 1
    assert world.http.expect(200, "GET", f"/contacts/{created.body['id']}")["name"] == "Dana"


def _sqs_event(event: OutgoingEvent) -> dict[str, Any]:
    body = {
        "source": event.source,
        "detail-type": event.detail_type,
        "detail": event.envelope.model_dump(),
    }
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": json.dumps(body),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:events",
                "awsRegion": "eu-west-1",
            }
        ]
    }


def _mail() -> OutgoingEvent:
    mail = EmailReceived(
        ses_message_id=uuid.uuid4().hex,
        message_id=f"{uuid.uuid4()}@client.example.org",
        raw_key="inbound/x",
        sender=Person(email="carol@client.example.org", name="Carol"),
        recipients=["support@example.com"],
        subject="Locked out",
        text="Help.",
        received_at=datetime.now(UTC).isoformat(),
        verdicts=MailVerdicts(spam="PASS", virus="PASS"),
    )
    return OutgoingEvent.of(mail, datetime.now(UTC))


def test_an_event_handled_again_writes_under_the_tokens_of_its_first_attempt(
    world: World, tokens_sent: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a mail whose first handling fails after it wrote
    receive = tickets_events.receive_email
    attempts: list[int] = []

    def receive_then_fail_once(*args: Any, **kwargs: Any) -> Any:
        result = receive(*args, **kwargs)
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise RuntimeError("the function timed out")
        return result

    monkeypatch.setattr(tickets_events, "receive_email", receive_then_fail_once)
    mail = _mail()
    with pytest.raises(BatchProcessingError):  # a batch of one that failed: all of it again
        world.system.invoke("tickets", "consume_events", _sqs_event(mail))
    # When the queue hands it over again, and another mail comes
    assert world.system.invoke("tickets", "consume_events", _sqs_event(mail)) == {
        "batchItemFailures": []
    }
    world.system.invoke("tickets", "consume_events", _sqs_event(_mail()))
    # Then the second attempt wrote under the first one's token, the other mail under its own
    assert len(tokens_sent) == 3
    assert tokens_sent[0] is not None
    assert tokens_sent[1] == tokens_sent[0]
    assert tokens_sent[2] not in (None, tokens_sent[0])
    assert len(world.items("/tickets")) == 2
