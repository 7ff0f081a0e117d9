"""Bad input is refused with a problem+json 4xx naming each field, and nothing is stored."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import Answer, HttpClient

pytestmark = pytest.mark.service

AGENT = ("alice@example.com", "agent")
NEW_TICKET: dict[str, Any] = {
    "subject": "Printer on fire",
    "body": "It started this morning.",
    "priority": "high",
    "requester": {"email": "bob@example.com", "name": "Bob"},
    "tags": ["hardware"],
    "cc": ["boss@example.com"],
}


def _refused(answer: Answer, status: int, slug: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"] == f"https://helpdesk.dev/problems/{slug}"
    assert answer.body["status"] == status
    assert answer.body["detail"]


def _fields(answer: Answer) -> list[str]:
    return [error["field"] for error in answer.body["errors"]]


def _no_ticket_was_stored(http: HttpClient) -> None:
    """No ticket is listed or counted, and the next good ticket is still number 1."""
    listed = http.call("GET", "/tickets?limit=100")
    assert listed.status == 200, listed.body
    assert listed.body["items"] == []
    counts = http.call("GET", "/departments/none/counts")
    assert [counts.body[s] for s in ("open", "in_progress", "resolved", "closed")] == [0] * 4
    good = http.call("POST", "/tickets", NEW_TICKET)
    assert good.status == 201, good.body
    assert good.body["number"] == "TKT-0001"


def _snapshot(http: HttpClient, ticket_id: str) -> list[Any]:
    """What a user can see of a ticket: itself, its conversation and its history."""
    paths = (
        f"/tickets/{ticket_id}",
        f"/tickets/{ticket_id}/messages",
        f"/tickets/{ticket_id}/history",
    )
    answers = [http.call("GET", path) for path in paths]
    assert [a.status for a in answers] == [200, 200, 200]
    return [answers[0].headers["ETag"], *(a.body for a in answers)]


@pytest.fixture
def ticket(http: HttpClient) -> str:
    created = http.call("POST", "/tickets", NEW_TICKET)
    assert created.status == 201, created.body
    return str(created.body["id"])


# --- opening a ticket ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        pytest.param({"priority": "asap"}, ["priority"], id="unknown priority"),
        pytest.param({"priority": 3}, ["priority"], id="priority as a number"),
        pytest.param({"subject": ""}, ["subject"], id="empty subject"),
        pytest.param({"subject": "   "}, ["subject"], id="blank subject"),
        pytest.param({"subject": "x" * 251}, ["subject"], id="subject over 250"),
        pytest.param({"subject": 42}, ["subject"], id="subject as a number"),
        pytest.param({"body": ""}, ["body"], id="empty body"),
        pytest.param({"body": "x" * 100_001}, ["body"], id="body over 100000 characters"),
        pytest.param(
            {"requester": {"email": "not-an-address", "name": "Bob"}},
            ["requester.email"],
            id="bad requester email",
        ),
        pytest.param({"requester": {"name": "Bob"}}, ["requester.email"], id="no requester email"),
        pytest.param({"requester": "bob@example.com"}, ["requester"], id="requester as a string"),
        pytest.param({"cc": ["ok@example.com", "not an address"]}, ["cc.1"], id="bad email in cc"),
        pytest.param({"cc": "boss@example.com"}, ["cc"], id="cc as a string"),
        pytest.param({"tags": "hardware"}, ["tags"], id="tags as a string"),
        pytest.param({"tags": ["x" * 51]}, ["tags"], id="tag over 50"),
        pytest.param({"department_id": 7}, ["department_id"], id="department as a number"),
        pytest.param({"colour": "red", "status": "open"}, ["colour", "status"], id="unknown"),
    ],
)
def test_opening_a_ticket_with_a_bad_field_is_a_422_naming_it(
    http: HttpClient, change: dict[str, Any], fields: list[str]
) -> None:
    # When a ticket is opened with one bad field
    answer = http.call("POST", "/tickets", {**NEW_TICKET, **change})
    # Then it is refused naming exactly that field
    _refused(answer, 422, "validation")
    assert sorted(_fields(answer)) == sorted(fields)
    # And nothing was stored
    _no_ticket_was_stored(http)


@pytest.mark.parametrize(
    "tags", [["two words"], ["ok", "bad tag"], ["a,b"], [""], ["tab\there"]], ids=repr
)
def test_a_tag_with_a_space_comma_or_nothing_in_it_is_a_422_naming_tags(
    http: HttpClient, tags: list[str]
) -> None:
    answer = http.call("POST", "/tickets", {**NEW_TICKET, "tags": tags})
    _refused(answer, 422, "validation")
    assert len(_fields(answer)) == 1
    assert re.fullmatch(r"tags(\.\d+)?", _fields(answer)[0]), _fields(answer)
    _no_ticket_was_stored(http)


def test_a_field_missing_altogether_is_named(http: HttpClient) -> None:
    answer = http.call("POST", "/tickets", {"priority": "low"})
    _refused(answer, 422, "validation")
    assert sorted(_fields(answer)) == ["body", "requester", "subject"]
    _no_ticket_was_stored(http)


def test_the_largest_subject_and_body_allowed_are_accepted(http: HttpClient) -> None:
    # Given a subject of exactly 250 characters and a body of exactly 100,000
    longest = {**NEW_TICKET, "subject": "s" * 250, "body": "b" * 100_000}
    # When the ticket is opened
    answer = http.call("POST", "/tickets", longest)
    # Then it is stored whole
    assert answer.status == 201, answer.body
    conversation = http.call("GET", f"/tickets/{answer.body['id']}/messages")
    assert conversation.body["items"][0]["body"] == "b" * 100_000
    assert conversation.body["ticket"]["subject"] == "s" * 250


def test_the_body_limit_counts_characters_not_bytes(http: HttpClient) -> None:
    # Given bodies of accented letters (two bytes each in UTF-8), sent unescaped
    def sent(length: int) -> Answer:
        document = {**NEW_TICKET, "body": "é" * length}
        return http.call("POST", "/tickets", raw=json.dumps(document, ensure_ascii=False).encode())

    # When one is a character over the limit, it is refused naming the body
    over = sent(100_001)
    _refused(over, 422, "validation")
    assert _fields(over) == ["body"]
    _no_ticket_was_stored(http)
    # And one of exactly 100,000 characters (200,000 bytes) is accepted
    assert sent(100_000).status == 201


@pytest.mark.parametrize(
    "raw",
    [b'{"subject": ', b"{'subject': 'x'}", b"not json", b'{"subject": "x",}', b"\xff\xfe{}"],
    ids=["truncated", "single quotes", "text", "trailing comma", "not utf-8"],
)
def test_malformed_json_is_a_400(http: HttpClient, raw: bytes) -> None:
    answer = http.call("POST", "/tickets", raw=raw)
    _refused(answer, 400, "malformed-json")
    _no_ticket_was_stored(http)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_a_415(http: HttpClient, content_type: str) -> None:
    answer = http.call(
        "POST",
        "/tickets",
        raw=json.dumps(NEW_TICKET).encode(),
        headers={"Content-Type": content_type},
    )
    _refused(answer, 415, "unsupported-media-type")
    _no_ticket_was_stored(http)


def test_a_body_over_256_kib_is_a_413_even_when_it_is_valid_json(http: HttpClient) -> None:
    # Given a well-formed ticket whose JSON is just over 256 KiB
    document = {**NEW_TICKET, "body": "x" * (256 * 1024)}
    raw = json.dumps(document).encode()
    assert len(raw) > 256 * 1024
    # When it is sent
    answer = http.call("POST", "/tickets", raw=raw)
    # Then it is refused for its size, before anything else
    _refused(answer, 413, "payload-too-large")
    _no_ticket_was_stored(http)


def test_a_refused_department_does_not_use_up_a_ticket_number(http: HttpClient) -> None:
    # Given an archived department and one that does not exist
    assert http.call("POST", "/departments", {"name": "Old"}).status == 201
    assert http.call("PATCH", "/departments/old", {"archived": True}).status == 200
    for department in ("nowhere", "old"):
        # When a ticket is opened in it
        answer = http.call("POST", "/tickets", {**NEW_TICKET, "department_id": department})
        # Then it is refused naming the department
        _refused(answer, 422, "validation")
        assert _fields(answer) == ["department_id"]
    # And an agent must name a department
    answer = http.call("POST", "/tickets", NEW_TICKET, as_=AGENT)
    _refused(answer, 422, "validation")
    assert _fields(answer) == ["department_id"]
    # And nothing was stored, not even a ticket number
    _no_ticket_was_stored(http)


# --- changing a ticket --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patch", "fields"),
    [
        pytest.param({"status": "pending"}, ["status"], id="unknown status"),
        pytest.param({"status": "Open"}, ["status"], id="status in the wrong case"),
        pytest.param({"priority": "asap"}, ["priority"], id="unknown priority"),
        pytest.param({"priority": 1}, ["priority"], id="priority as a number"),
        pytest.param({"assignee": "not-an-email"}, ["assignee"], id="bad assignee"),
        pytest.param({"tags": ["two words"]}, ["tags"], id="bad tag"),
        pytest.param({"tags": "vip"}, ["tags"], id="tags as a string"),
        pytest.param({"version": 0}, ["version"], id="version 0"),
        pytest.param({"version": "one"}, ["version"], id="version as text"),
        pytest.param({"colour": "red"}, ["colour"], id="unknown field"),
        pytest.param(
            {"status": "resolved", "subject": "New"}, ["subject"], id="field that cannot change"
        ),
    ],
)
def test_a_patch_with_a_bad_field_is_a_422_and_changes_nothing(
    http: HttpClient, ticket: str, patch: dict[str, Any], fields: list[str]
) -> None:
    # Given a ticket as it stands
    before = _snapshot(http, ticket)
    # When it is patched with a bad field
    answer = http.call("PATCH", f"/tickets/{ticket}", patch)
    # Then the patch is refused naming the field
    _refused(answer, 422, "validation")
    assert [re.sub(r"\.\d+$", "", f) for f in _fields(answer)] == fields
    # And nothing about the ticket changed
    assert _snapshot(http, ticket) == before


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "slug"),
    [
        (b'{"status": ', "application/json", 400, "malformed-json"),
        (b'{"status": "resolved"}', "text/plain", 415, "unsupported-media-type"),
        (b" " * (256 * 1024 + 1), "application/json", 413, "payload-too-large"),
    ],
    ids=["malformed", "not json", "too large"],
)
def test_a_patch_that_is_not_usable_json_changes_nothing(
    http: HttpClient, ticket: str, raw: bytes, content_type: str, status: int, slug: str
) -> None:
    before = _snapshot(http, ticket)
    answer = http.call(
        "PATCH", f"/tickets/{ticket}", raw=raw, headers={"Content-Type": content_type}
    )
    _refused(answer, status, slug)
    assert _snapshot(http, ticket) == before


# --- messages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        pytest.param({"body": ""}, ["body"], id="empty body"),
        pytest.param({"body": "  \n "}, ["body"], id="blank body"),
        pytest.param({"visibility": "public"}, ["body"], id="no body"),
        pytest.param({"body": "x" * 100_001}, ["body"], id="body over 100000"),
        pytest.param({"body": "Hi", "visibility": "secret"}, ["visibility"], id="visibility"),
        pytest.param({"body": "Hi", "visibility": True}, ["visibility"], id="visibility bool"),
        pytest.param({"body": "Hi", "status": "done"}, ["status"], id="unknown status"),
        pytest.param({"body": 5}, ["body"], id="body as a number"),
        pytest.param({"body": "Hi", "internal": True}, ["internal"], id="unknown field"),
    ],
)
def test_a_bad_message_is_a_422_and_adds_nothing(
    http: HttpClient, ticket: str, message: dict[str, Any], fields: list[str]
) -> None:
    # Given a ticket with its first message
    before = _snapshot(http, ticket)
    assert len(before[2]["items"]) == 1
    # When a bad message is posted to it
    answer = http.call("POST", f"/tickets/{ticket}/messages", message)
    # Then it is refused naming the field, and the conversation and ticket are as they were
    _refused(answer, 422, "validation")
    assert _fields(answer) == fields
    assert _snapshot(http, ticket) == before


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "slug"),
    [
        (b'{"body": "Hi"', "application/json", 400, "malformed-json"),
        (b"Hi there", "text/plain", 415, "unsupported-media-type"),
        (
            json.dumps({"body": "x" * 300_000}).encode(),
            "application/json",
            413,
            "payload-too-large",
        ),
    ],
    ids=["malformed", "not json", "too large"],
)
def test_a_message_that_is_not_usable_json_adds_nothing(
    http: HttpClient, ticket: str, raw: bytes, content_type: str, status: int, slug: str
) -> None:
    before = _snapshot(http, ticket)
    answer = http.call(
        "POST", f"/tickets/{ticket}/messages", raw=raw, headers={"Content-Type": content_type}
    )
    _refused(answer, status, slug)
    assert _snapshot(http, ticket) == before


# --- query parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("status=bogus", ["query.status.0"]),
        ("status=open&status=bogus", ["query.status.1"]),
        ("status=OPEN", ["query.status.0"]),
        ("priority=asap", ["query.priority"]),
        ("sort=newest", ["query.sort"]),
        ("sla=late", ["query.sla"]),
        ("limit=ten", ["query.limit"]),
        ("limit=101", ["query.limit"]),
    ],
)
def test_an_unknown_query_value_is_a_422_naming_it(
    http: HttpClient, ticket: str, query: str, fields: list[str]
) -> None:
    answer = http.call("GET", f"/tickets?{query}")
    _refused(answer, 422, "validation")
    assert _fields(answer) == fields


def test_a_bad_page_query_on_messages_and_history_is_a_422(http: HttpClient, ticket: str) -> None:
    for path in ("messages", "history"):
        answer = http.call("GET", f"/tickets/{ticket}/{path}?limit=0")
        _refused(answer, 422, "validation")
        assert _fields(answer) == ["query.limit"]
