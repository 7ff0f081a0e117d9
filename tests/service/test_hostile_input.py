"""Hostile input never reaches storage and never costs a 5xx: control characters in single-line
fields, NUL in bodies, JSON nested without end, cursors of the wrong shape, header values out of
any range, empty identifiers, and active URLs smuggled into mail HTML behind control characters."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local_stack.gateway import Gateway, LocalRoute
from local_stack.system import LocalSystem
from local_stack.tokens import DevTokens
from local_stack.user_pool import LocalUserPool
from services.channels.logic.mail_parser import sanitize_html
from services.crm_sync.data.hubspot import HubSpotConnector
from services.crm_sync.logic.connector import InvalidSignature, SignedRequest
from tests.conftest import Answer, HttpClient
from tests.fakes.hubspot import CLIENT_SECRET, FakeHubSpot, signed_headers, webhook_event
from tests.service.test_agents import pool as pool  # the fixture
from tests.service.test_crm_support import WEBHOOK_PATH
from tests.service.test_crm_support import hubspot as hubspot  # the fixture

pytestmark = pytest.mark.service

NEW_TICKET: dict[str, Any] = {
    "subject": "Printer on fire",
    "body": "It started this morning.",
    "priority": "high",
    "requester": {"email": "bob@example.com", "name": "Bob"},
    "tags": ["hardware"],
}
# C0 and C1 controls, DEL, NUL and the Unicode line and paragraph separators
CONTROLS = ["\x00", "\x01", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b"]
CONTROLS += ["\u2028", "\u2029"]
ATTACHMENT = {
    "name": "report.pdf",
    "content_type": "application/pdf",
    "size": 10,
    "key": "uploads/0f8fad5b-d9cb-469f-a165-70867728950e/report.pdf",
}


def _refused(answer: Answer, status: int, fields: list[str]) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in answer.body.get("errors", [])] == fields, answer.body


def _with(document: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of `document` with the field at `dotted` ("requester.name", "tags.0") set."""
    copy = json.loads(json.dumps(document))
    *parents, last = dotted.split(".")
    target: Any = copy
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return copy


# --- control characters in single-line fields ---------------------------------------------------

SINGLE_LINE_FIELDS = [
    pytest.param("POST", "/tickets", NEW_TICKET, "subject", id="ticket subject"),
    pytest.param("POST", "/tickets", NEW_TICKET, "requester.name", id="requester name"),
    pytest.param("POST", "/tickets", NEW_TICKET, "tags.0", id="ticket tag"),
    pytest.param("PATCH", "/tickets/TKT-0001", {"tags": ["a"]}, "tags.0", id="changed tag"),
    pytest.param(
        "POST",
        "/tickets/TKT-0001/messages",
        {"body": "Attached.", "attachments": [ATTACHMENT]},
        "attachments.0.name",
        id="attachment name",
    ),
    pytest.param("POST", "/departments", {"name": "Billing"}, "name", id="department name"),
    pytest.param("PATCH", "/departments/billing", {"name": "Billing"}, "name", id="renamed"),
    pytest.param(
        "POST", "/agents", {"email": "eve@example.com", "name": "Eve"}, "name", id="agent name"
    ),
    pytest.param("POST", "/contacts", {"name": "Carol"}, "name", id="contact name"),
    pytest.param("POST", "/contacts", {"organisation": "ACME"}, "organisation", id="organisation"),
    pytest.param("POST", "/contacts", {"tags": ["vip"]}, "tags.0", id="contact tag"),
    pytest.param("PATCH", "/contacts/c-1", {"name": "Carol"}, "name", id="contact renamed"),
    pytest.param(
        "POST",
        "/channels/uploads",
        {"name": "report.pdf", "content_type": "application/pdf", "size": 10},
        "name",
        id="upload name",
    ),
]


@pytest.mark.parametrize(("method", "path", "document", "field"), SINGLE_LINE_FIELDS)
def test_a_control_character_in_a_single_line_field_is_a_422_naming_it(
    http: HttpClient, method: str, path: str, document: dict[str, Any], field: str
) -> None:
    for control in CONTROLS:
        answer = http.call(method, path, _with(document, field, f"in{control}side"))
        assert answer.status == 422, (repr(control), answer.body)
        _refused(answer, 422, [field])
        assert field in answer.body["detail"]


def test_nul_in_a_message_body_is_a_422_but_line_breaks_and_tabs_are_kept(
    http: HttpClient,
) -> None:
    # A body with NUL is refused naming the body, and no ticket opens
    refused = http.call("POST", "/tickets", {**NEW_TICKET, "body": "before\x00after"})
    _refused(refused, 422, ["body"])
    assert http.call("GET", "/tickets").body["items"] == []
    # A body of several lines, with tabs, is kept as written
    body = "First line\r\nSecond\tline\n\nThird\u2028line"
    opened = http.call("POST", "/tickets", {**NEW_TICKET, "body": body})
    assert opened.status == 201, opened.body
    ticket_id = opened.body["id"]
    conversation = http.call("GET", f"/tickets/{ticket_id}/messages")
    assert conversation.body["items"][0]["body"] == body
    # And a reply with NUL is refused too
    reply = http.call("POST", f"/tickets/{ticket_id}/messages", {"body": "\x00"})
    _refused(reply, 422, ["body"])


@pytest.mark.parametrize(
    ("path", "document", "field"),
    [
        pytest.param("/contacts", {"name": "Carol", "notes": "x\x00"}, "notes", id="contact notes"),
        pytest.param(
            "/channels",
            {"address": "help@example.com", "department_id": "help", "signature": "Team\x00"},
            "signature",
            id="channel signature",
        ),
        pytest.param(
            "/channels",
            {"address": "help@example.com", "department_id": "help", "acknowledge_template": "\0"},
            "acknowledge_template",
            id="acknowledgement",
        ),
    ],
)
def test_nul_in_any_multi_line_text_is_a_422_naming_it(
    http: HttpClient, path: str, document: dict[str, Any], field: str
) -> None:
    _refused(http.call("POST", path, document), 422, [field])


def test_a_channel_signature_may_have_several_lines(http: HttpClient) -> None:
    signature = "Billing team\nExample Ltd\t+44 20 7946 0000"
    channel = {"address": "billing@example.com", "department_id": "billing"}
    answer = http.call("POST", "/channels", {**channel, "signature": signature})
    assert answer.status == 201, answer.body
    assert answer.body["signature"] == signature


# --- JSON nested without end --------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 1_000, 50_000])
def test_json_nested_too_deep_is_a_400_not_a_crash(http: HttpClient, depth: int) -> None:
    raw = b'{"subject": ' + b"[" * depth + b"]" * depth + b"}"
    answer = http.call("POST", "/tickets", raw=raw)
    assert answer.status == 400, answer.body
    assert answer.body["type"] == "https://helpdesk.dev/problems/malformed-json"
    assert "deep" in answer.body["detail"]


def test_json_nested_as_deep_as_allowed_is_read(http: HttpClient) -> None:
    # 64 levels: the body's object and 63 lists; the field is then simply of the wrong type
    raw = b'{"subject": ' + b"[" * 63 + b"]" * 63 + b"}"
    answer = http.call("POST", "/tickets", raw=raw)
    assert answer.status == 422, answer.body


def test_the_local_routes_refuse_json_that_is_too_deep_or_not_utf_8(
    system: LocalSystem, tmp_path: Path
) -> None:
    echo: LocalRoute = lambda body: (200, body)  # noqa: E731
    gateway = Gateway(system.apps, DevTokens(tmp_path / "key"), {("POST", "/local/echo"): echo})
    for raw in (b"[" * 50_000 + b"]" * 50_000, b'{"a": "\xff"}'):
        answer = gateway.handle("POST", "/local/echo", {}, raw)
        assert answer.status == 400, answer.body
        assert answer.headers["Content-Type"] == "application/problem+json"
    assert gateway.handle("POST", "/local/echo", {}, b'{"a": 1}').status == 200


# --- cursors of the wrong shape ----------------------------------------------------------------


def _cursor(document: str) -> str:
    return base64.urlsafe_b64encode(document.encode()).decode()


WRONG_CURSORS = [_cursor(text) for text in ("{}", "5", "123", "null", "[]", '"x"', "[[[[]]]]")]
WRONG_CURSORS += [_cursor('{"pk": {"S": "x"}, "sk": 5}'), _cursor("[" * 5000 + "]" * 5000)]
LISTS = [
    "/tickets",
    "/tickets/{ticket}/messages",
    "/tickets/{ticket}/history",
    "/contacts",
    "/contacts?q=car",
    "/contacts/{contact}/tickets",
]


@pytest.mark.parametrize("cursor", WRONG_CURSORS, ids=range(len(WRONG_CURSORS)))
def test_a_cursor_of_the_wrong_type_is_a_422_naming_cursor(http: HttpClient, cursor: str) -> None:
    ticket = http.call("POST", "/tickets", NEW_TICKET).body
    contact = http.call("POST", "/contacts", {"name": "Carol"}).body
    for template in LISTS:
        path = template.format(ticket=ticket["id"], contact=contact["id"])
        separator = "&" if "?" in path else "?"
        answer = http.call("GET", f"{path}{separator}cursor={cursor}")
        assert answer.status == 422, (path, answer.status, answer.body)
        assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"], path


@pytest.mark.parametrize("cursor", WRONG_CURSORS, ids=range(len(WRONG_CURSORS)))
def test_an_agents_cursor_of_the_wrong_type_is_a_422_naming_cursor(
    pool: LocalUserPool, http: HttpClient, cursor: str
) -> None:
    answer = http.call("GET", f"/agents?cursor={cursor}")
    assert answer.status == 422, answer.body
    assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]


def test_an_agent_address_the_user_pool_cannot_sign_in_is_a_422(
    pool: LocalUserPool, http: HttpClient
) -> None:
    # An address valid by the RFC, of a shape the user pool refuses as a sign-in name
    answer = http.call("POST", "/agents", {"email": "e2!e23h3}r@h8lnrhuq.dev"})
    _refused(answer, 422, ["email"])
    assert http.call("POST", "/agents", {"email": "eve+help@example.com"}).status == 201


# --- header values out of range ----------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    ["1" * 30, "9" * 16, "-1", "1e3", "\u00b2", "\u0661\u0662\u0663", " 1700000000000", ""],
    ids=repr,
)
def test_a_webhook_timestamp_out_of_range_is_refused_before_the_signature(
    timestamp: str,
) -> None:
    connector = HubSpotConnector("http://crm.invalid", "token", CLIENT_SECRET)
    headers = {"x-hubspot-signature-v3": "anything", "x-hubspot-request-timestamp": timestamp}
    request = SignedRequest("POST", "https://api.example.com/x", headers, b"[]")
    with pytest.raises(InvalidSignature, match="Timestamp"):
        connector.parse_webhook(request, datetime.now(UTC))


def test_a_30_digit_webhook_timestamp_is_a_401_through_the_api(
    http: HttpClient, hubspot: FakeHubSpot
) -> None:
    headers = {"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "1" * 30}
    answer = http.call("POST", WEBHOOK_PATH, raw=b"[]", headers=headers, as_=None)
    assert answer.status == 401, answer.body


def test_a_signed_webhook_with_an_event_time_out_of_range_is_a_400(
    http: HttpClient, hubspot: FakeHubSpot
) -> None:
    event = webhook_event("contact.creation", "101", datetime.now(UTC))
    event["occurredAt"] = 10**30
    body = json.dumps([event]).encode()
    url = f"http://127.0.0.1:8000{WEBHOOK_PATH}"
    headers = {"Host": "127.0.0.1:8000", **signed_headers(url, body, datetime.now(UTC))}
    answer = http.call("POST", WEBHOOK_PATH, raw=body, headers=headers, as_=None)
    assert answer.status == 400, answer.body


# --- the gateway as API Gateway: the scheme the caller used ------------------------------------


def test_a_webhook_signed_for_the_local_http_url_verifies(
    http: HttpClient, hubspot: FakeHubSpot
) -> None:
    # Given a webhook signed, as HubSpot signs it, over the plain-HTTP URL it is sent to
    body = json.dumps([webhook_event("contact.creation", "101", datetime.now(UTC))]).encode()
    url = f"http://127.0.0.1:8000{WEBHOOK_PATH}"
    headers = {"Host": "127.0.0.1:8000", **signed_headers(url, body, datetime.now(UTC))}
    # When the gateway hands it on, it tells the function the scheme, as API Gateway does
    answer = http.call("POST", WEBHOOK_PATH, raw=body, headers=headers, as_=None)
    # Then the signature verifies
    assert answer.status == 200, answer.body
    # And a caller cannot pretend another scheme: the gateway says which one it served
    forged = {**headers, "X-Forwarded-Proto": "https"}
    assert http.call("POST", WEBHOOK_PATH, raw=body, headers=forged, as_=None).status == 200


# --- empty identifiers -------------------------------------------------------------------------


@pytest.mark.parametrize("department_id", ["", " ", "Billing Team", "a/b"])
def test_a_ticket_moved_to_a_department_id_that_cannot_be_one_is_a_422(
    http: HttpClient, department_id: str
) -> None:
    ticket = http.call("POST", "/tickets", NEW_TICKET).body
    answer = http.call("PATCH", f"/tickets/{ticket['id']}", {"department_id": department_id})
    _refused(answer, 422, ["department_id"])
    opened = http.call("POST", "/tickets", {**NEW_TICKET, "department_id": department_id})
    _refused(opened, 422, ["department_id"])
    assert http.call("GET", f"/tickets/{ticket['id']}").body["version"] == ticket["version"]


# --- mail HTML: active URLs behind control characters ------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "&#1;data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "&#0;javascript:alert(1)",
        "java&#9;script:alert(1)",
        "java&#x0A;script:alert(1)",
        "&#x85;javascript:alert(1)",
        "&#x2028;javascript:alert(1)",
        " &#31;vbscript:msgbox(1)",
        "tel:+442079460000",
        "ftp://files.example.com/x",
        "cid:part1@example.com",
    ],
)
def test_sanitised_links_keep_only_web_and_mail_addresses(href: str) -> None:
    clean = sanitize_html(f'<a href="{href}">click</a>')
    assert "href" not in clean, clean
    assert "click" in clean


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://example.com/help?a=1&amp;b=2", "https://example.com/help?a=1&amp;b=2"),
        ("http://example.com/", "http://example.com/"),
        ("mailto:help@example.com", "mailto:help@example.com"),
        ("&#1;https://example.com/", "https://example.com/"),
    ],
)
def test_sanitised_links_to_the_web_and_mail_stay(href: str, kept: str) -> None:
    clean = sanitize_html(f'<a href="{href}">click</a>')
    assert f'href="{kept}"' in clean, clean


@pytest.mark.parametrize(
    "src",
    ["&#1;data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "data:image/png;base64,iVBORw0KGgo=", ""],
)
def test_sanitised_images_show_only_the_mails_own_parts(src: str) -> None:
    clean = sanitize_html(f'<img src="{src}" alt="x"><img src="&#1;cid:logo@example.com">')
    assert clean.count("src=") == 1, clean
    assert 'src="cid:logo@example.com"' in clean
