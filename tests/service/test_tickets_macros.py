"""Macros through the HTTP layer: who keeps and sees which, applying one (a reply and its changes
in one commit, with their history and events), the refusals that write nothing, the preview, a
retried request, and a note a macro posts never mailed to the client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import boto3
import pytest

from local_stack.system import LocalSystem
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient, sent_mail

pytestmark = pytest.mark.service

ADMIN = ("admin@example.com", "admin")
ALICE = ("alice@example.com", "agent")  # Billing
DANA = ("dana@example.com", "agent")  # Billing
BOB = ("bob@example.com", "agent")  # Technical
NEW_TICKET = {
    "subject": "Charged twice",
    "body": "Two charges in May.",
    "department_id": "billing",
    "requester": {"email": "carol@client.example.org", "name": "Carol Jones"},
    "tags": ["new"],
}
REFUNDED = {
    "name": "Refunded",
    "scope": "shared",
    "body": "Hi {requester.first_name}, {ticket.number} is refunded. {{{agent.email}}}",
    "changes": {
        "status": "resolved",
        "tags_add": ["refunded"],
        "tags_remove": ["new"],
        "assignee": "me",
    },
}


@pytest.fixture
def billing(http: HttpClient) -> None:
    http.expect(201, "POST", "/departments", {"name": "Billing"})
    http.expect(201, "POST", "/departments", {"name": "Technical"})
    for email in (ALICE[0], DANA[0]):
        http.expect(200, "POST", "/departments/billing/members", {"email": email})
    http.expect(200, "POST", "/departments/technical/members", {"email": BOB[0]})
    channel = {"address": "billing@example.com", "department_id": "billing", "acknowledge": False}
    http.expect(201, "POST", "/channels", channel)


@pytest.fixture
def ticket(http: HttpClient, billing: None) -> dict[str, Any]:
    return http.expect(201, "POST", "/tickets", NEW_TICKET, as_=ALICE)  # type: ignore[no-any-return]


def _macro(http: HttpClient, as_: tuple[str, str] = ADMIN, **fields: Any) -> dict[str, Any]:
    return http.expect(201, "POST", "/macros", {**REFUNDED, **fields}, as_=as_)  # type: ignore[no-any-return]


def _state(http: HttpClient, ticket_id: str) -> tuple[Any, ...]:
    """The ticket, its conversation and history as an admin reads them."""
    return (
        http.expect(200, "GET", f"/tickets/{ticket_id}"),
        http.expect(200, "GET", f"/tickets/{ticket_id}/messages")["items"],
        http.expect(200, "GET", f"/tickets/{ticket_id}/history")["items"],
    )


def _apply(
    http: HttpClient,
    ticket_id: str,
    macro_id: str,
    as_: tuple[str, str] = ALICE,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Any:
    path = f"/tickets/{ticket_id}/macros/{macro_id}"
    return http.call("POST", path, body, as_=as_, headers=headers)


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


def _problem_fields(answer: Any) -> list[str]:
    return [error["field"] for error in answer.body.get("errors", [])]


# --- keeping macros ------------------------------------------------------------------------------


@pytest.mark.usefixtures("billing")
def test_admins_keep_shared_macros_and_agents_their_own(http: HttpClient) -> None:
    shared = _macro(http)
    assert (shared["scope"], shared["owner"], shared["changes"]["assignee"]) == (
        "shared",
        None,
        "me",
    )
    refused = http.call("POST", "/macros", {**REFUNDED, "name": "Mine"}, as_=ALICE)
    assert (refused.status, refused.headers["Content-Type"]) == (403, "application/problem+json")
    mine = _macro(http, ALICE, name="Mine", scope="personal", changes={"assignee": None})
    # Only what the macro changes is on the wire: `assignee: null` unassigns
    assert mine["changes"] == {"assignee": None}
    assert mine["owner"] == ALICE[0]
    # Each lists the shared macros and their own
    names = {
        who: [m["name"] for m in http.expect(200, "GET", "/macros", as_=who)["items"]]
        for who in (ALICE, DANA, ADMIN)
    }
    assert names == {ALICE: ["Refunded", "Mine"], DANA: ["Refunded"], ADMIN: ["Refunded"]}
    # Another's personal macro is not found, admins included, on every route
    for who in (DANA, ADMIN):
        for method, body in (("GET", None), ("PATCH", {"name": "Stolen"}), ("DELETE", None)):
            answer = http.call(method, f"/macros/{mine['id']}", body, as_=who)
            assert answer.status == 404, (who, method, answer.body)
    # Agents read shared macros; only admins change or delete them
    assert http.expect(200, "GET", f"/macros/{shared['id']}", as_=DANA) == shared
    assert http.call("PATCH", f"/macros/{shared['id']}", {"name": "x"}, as_=DANA).status == 403
    assert http.call("DELETE", f"/macros/{shared['id']}", as_=DANA).status == 403
    # The owner changes and deletes their own
    patched = http.expect(200, "PATCH", f"/macros/{mine['id']}", {"body": None}, as_=ALICE)
    assert (patched["body"], patched["name"]) == (None, "Mine")
    assert http.call("DELETE", f"/macros/{mine['id']}", as_=ALICE).status == 204
    assert http.call("GET", f"/macros/{mine['id']}", as_=ALICE).status == 404


@pytest.mark.usefixtures("billing")
def test_an_edit_made_on_an_older_read_of_a_shared_macro_is_refused_and_changes_nothing(
    http: HttpClient,
) -> None:
    created = http.call("POST", "/macros", REFUNDED, as_=ADMIN)
    macro = created.body
    assert (created.headers["ETag"], macro["version"]) == ('"1"', 1)
    path = f"/macros/{macro['id']}"
    # Another admin renames it after both read it at version 1
    renamed = http.call(
        "PATCH", path, {"name": "Refund sent"}, as_=ADMIN, headers={"If-Match": '"1"'}
    )
    assert (renamed.status, renamed.headers["ETag"], renamed.body["version"]) == (200, '"2"', 2)
    # The edit made on version 1 would undo the rename: refused, as a delete on it is
    for method, body in (("PATCH", {"body": "Old text."}), ("DELETE", None)):
        stale = http.call(method, path, body, as_=ADMIN, headers={"If-Match": '"1"'})
        assert (stale.status, stale.headers["Content-Type"]) == (412, "application/problem+json")
    current = http.call("GET", path, as_=ADMIN)
    assert current.headers["ETag"] == '"2"'
    assert (current.body["name"], current.body["body"]) == ("Refund sent", REFUNDED["body"])
    # A malformed If-Match names the header; without one the edit applies to what is stored
    bad = http.call("PATCH", path, {"name": "x"}, as_=ADMIN, headers={"If-Match": "two"})
    assert (bad.status, _problem_fields(bad)) == (422, ["header.If-Match"])
    assert http.call("DELETE", path, as_=ADMIN, headers={"If-Match": '"2"'}).status == 204


@pytest.mark.usefixtures("billing")
def test_bad_macros_are_refused_naming_the_field(http: HttpClient) -> None:
    _macro(http)
    clash = http.call("POST", "/macros", {**REFUNDED, "name": "refunded"})
    assert (clash.status, _problem_fields(clash)) == (409, ["name"])
    unknown = http.call("POST", "/macros", {**REFUNDED, "name": "B", "body": "Hi {client.name}"})
    assert (unknown.status, _problem_fields(unknown)) == (422, ["body"])
    assert "{client.name}" in unknown.body["errors"][0]["message"]
    for changes, field in (
        ({"assignee": "not an address"}, "changes.assignee"),
        ({"status": "done"}, "changes.status"),
        ({"tags_add": ["two words"]}, "changes.tags_add"),
        ({"colour": "red"}, "changes.colour"),
    ):
        answer = http.call("POST", "/macros", {**REFUNDED, "name": "C", "changes": changes})
        assert (answer.status, _problem_fields(answer)) == (422, [field]), answer.body
    # A null or empty change is no change: a macro of nothing else does nothing, and is refused
    nothing = {"name": "D", "scope": "shared", "changes": {"status": None, "tags_add": []}}
    empty = http.call("POST", "/macros", nothing)
    assert (empty.status, _problem_fields(empty)) == (422, ["body"])
    assert [m["name"] for m in http.expect(200, "GET", "/macros")["items"]] == ["Refunded"]


# --- applying ------------------------------------------------------------------------------------


def test_applying_posts_the_reply_and_makes_the_changes_in_one_commit(
    http: HttpClient,
    ticket: dict[str, Any],
    delivery: Delivery,
    tap: Callable[[], list[dict[str, Any]]],
) -> None:
    macro = _macro(http)
    answer = _apply(http, ticket["id"], macro["id"], headers={"If-Match": '"1"'})
    assert answer.status == 200, answer.body
    # The ticket moved one version, with every change, and says so in its ETag
    applied = answer.body["ticket"]
    assert (applied["version"], answer.headers["ETag"]) == (2, '"2"')
    assert (applied["status"], applied["assignee"], applied["tags"]) == (
        "resolved",
        ALICE[0],
        ["refunded"],
    )
    # The reply, filled in for the ticket and the agent
    message = answer.body["message"]
    text = "Hi Carol, TKT-0001 is refunded. {alice@example.com}"
    assert (message["body"], message["visibility"], message["author"]["email"]) == (
        text,
        "public",
        ALICE[0],
    )
    stored, messages, history = _state(http, ticket["id"])
    assert stored == applied
    assert [m["id"] for m in messages][-1] == message["id"]
    assert [(h["field"], h["old"], h["new"], h["actor"]) for h in history[-3:]] == [
        ("tags", ["new"], ["refunded"], ALICE[0]),
        ("assignee", None, ALICE[0], ALICE[0]),
        ("status", "open", "resolved", ALICE[0]),
    ]
    # The events the separate reply and change would announce
    delivery.run()
    events = [e for e in tap() if e["detail"]["data"].get("ticket_id") == ticket["id"]]
    assert [e["detail-type"] for e in events][1:] == [
        "MessagePosted",
        "TicketUpdated",
        "TicketAssigned",
        "TicketStatusChanged",
    ]
    assert events[1]["detail"]["data"]["body"] == text
    assert events[2]["detail"]["data"]["version"] == 2


def test_a_stale_version_is_refused_and_nothing_is_written(
    http: HttpClient, ticket: dict[str, Any]
) -> None:
    macro = _macro(http)
    http.expect(200, "PATCH", f"/tickets/{ticket['id']}", {"priority": "high"}, as_=DANA)
    before = _state(http, ticket["id"])
    stale = _apply(http, ticket["id"], macro["id"], headers={"If-Match": '"1"'})
    assert (stale.status, stale.body["type"].rsplit("/", 1)[-1]) == (412, "precondition-failed")
    stale_body = _apply(http, ticket["id"], macro["id"], body={"version": 1})
    assert stale_body.status == 409
    assert _state(http, ticket["id"]) == before
    # With the version read now, it applies
    assert _apply(http, ticket["id"], macro["id"], body={"version": 2}).status == 200


def test_a_change_the_agent_may_not_make_is_refused_and_nothing_is_written(
    http: HttpClient, ticket: dict[str, Any]
) -> None:
    to_bob = _macro(http, changes={"assignee": BOB[0]})  # Bob is not in Billing
    closing = _macro(http, name="Close", body=None, changes={"status": "closed"})
    reopening = _macro(http, name="Reopen", body=None, changes={"status": "open"})
    before = _state(http, ticket["id"])
    refused = _apply(http, ticket["id"], to_bob["id"])
    assert (refused.status, _problem_fields(refused)) == (422, ["changes.assignee"])
    preview = http.call("POST", f"/tickets/{ticket['id']}/macros/{to_bob['id']}/preview", as_=ALICE)
    assert (preview.status, _problem_fields(preview)) == (422, ["changes.assignee"])
    assert _state(http, ticket["id"]) == before
    # A closed ticket is final: a macro may not reopen it
    assert _apply(http, ticket["id"], closing["id"]).status == 200
    closed = _state(http, ticket["id"])
    reopened = _apply(http, ticket["id"], reopening["id"])
    assert (reopened.status, _problem_fields(reopened)) == (422, ["changes.status"])
    assert _state(http, ticket["id"]) == closed


def test_someone_elses_personal_macro_is_refused_and_a_hidden_ticket_not_found(
    http: HttpClient, ticket: dict[str, Any]
) -> None:
    danas = _macro(http, DANA, name="Dana's", scope="personal")
    bobs = _macro(http, BOB, name="Bob's", scope="personal")
    before = _state(http, ticket["id"])
    refused = _apply(http, ticket["id"], danas["id"])
    assert (refused.status, _problem_fields(refused)) == (422, ["macro_id"])
    # Bob may not see the Billing ticket: his own macro gets the ticket's 404, as does a preview
    for path in ("", "/preview"):
        hidden = http.call("POST", f"/tickets/{ticket['id']}/macros/{bobs['id']}{path}", as_=BOB)
        assert (hidden.status, hidden.body["detail"]) == (
            404,
            f"No ticket {ticket['id']!r}, or you may not see it.",
        )
    unknown = _apply(http, ticket["id"], uuid.uuid4().hex)
    assert (unknown.status, unknown.body["detail"].split()[1]) == (404, "macro")
    assert _state(http, ticket["id"]) == before


def test_a_preview_answers_the_text_and_the_changes_and_writes_nothing(
    http: HttpClient, ticket: dict[str, Any]
) -> None:
    macro = _macro(http)
    before = _state(http, ticket["id"])
    path = f"/tickets/{ticket['id']}/macros/{macro['id']}/preview"
    preview = http.expect(200, "POST", path, as_=ALICE)
    assert preview["body"] == "Hi Carol, TKT-0001 is refunded. {alice@example.com}"
    assert preview["visibility"] == "public"
    assert [(c["field"], c["old"], c["new"]) for c in preview["changes"]] == [
        ("tags", ["new"], ["refunded"]),
        ("assignee", None, ALICE[0]),
        ("status", "open", "resolved"),
    ]
    assert (preview["ticket"]["status"], preview["ticket"]["version"]) == ("resolved", 2)
    assert _state(http, ticket["id"]) == before


def test_a_retry_with_the_same_idempotency_key_applies_once(
    http: HttpClient, ticket: dict[str, Any]
) -> None:
    macro = _macro(http, body="Noted.", visibility="internal", changes={"tags_add": ["seen"]})
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = _apply(http, ticket["id"], macro["id"], headers=key)
    again = _apply(http, ticket["id"], macro["id"], headers=key)
    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers["ETag"] == first.headers["ETag"] == '"2"'
    stored, messages, _ = _state(http, ticket["id"])
    assert stored["version"] == 2
    assert [m["body"] for m in messages].count("Noted.") == 1
    # A new key is a new request: the note is posted again
    _apply(http, ticket["id"], macro["id"], headers={"Idempotency-Key": str(uuid.uuid4())})
    assert [m["body"] for m in _state(http, ticket["id"])[1]].count("Noted.") == 2


def test_a_note_a_macro_posts_is_never_mailed_but_its_reply_is(
    http: HttpClient, ticket: dict[str, Any], delivery: Delivery
) -> None:
    marker = f"SECRET-{uuid.uuid4().hex}"
    note = _macro(http, name="Note", body=f"Fraud list ({marker})", visibility="internal")
    reply = _macro(http, name="Reply", body="We are on it, {requester.name}.", changes={})
    assert _apply(http, ticket["id"], note["id"]).status == 200
    delivery.run()
    assert [m for m in sent_mail() if marker in m.as_string()] == []
    # The same path mails a public reply: the check above could have failed
    assert _apply(http, ticket["id"], reply["id"]).status == 200
    delivery.run()
    mailed = [m for m in sent_mail() if "We are on it, Carol Jones." in _text(m)]
    assert [m["To"] for m in mailed] == [NEW_TICKET["requester"]["email"]]  # type: ignore[index]
    assert [m for m in sent_mail() if marker in m.as_string()] == []


# --- a tap on the bus ----------------------------------------------------------------------------


@pytest.fixture
def tap(system: LocalSystem) -> Callable[[], list[dict[str, Any]]]:
    """The tickets service's events on the bus so far, as EventBridge delivers them to a queue."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="test-macros-tap")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    bus = get_settings().bus_name
    pattern = json.dumps({"source": ["helpdesk.tickets"]})
    events.put_rule(Name="test-macros-tap", EventBusName=bus, EventPattern=pattern)
    target = {"Id": "tap", "Arn": attributes["Attributes"]["QueueArn"]}
    events.put_targets(Rule="test-macros-tap", EventBusName=bus, Targets=[target])
    received: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in batch:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return received

    return drain
