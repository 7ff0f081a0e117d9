"""The whole system as `make run` starts it: health, the contract, HTTP → event → consumer, the
clock, SMTP in, mail out, and a restart that keeps the data."""

from __future__ import annotations

import smtplib
from pathlib import Path

import boto3
import pytest

from tests.flow.conftest import RunningStack, eventually, start_stack

pytestmark = pytest.mark.flow


def test_health_openapi_and_refusals(stack: RunningStack) -> None:
    assert stack.call("GET", "/health") == (200, {"status": "ok"})
    status, document = stack.call("GET", "/openapi.json")
    assert status == 200
    assert "/tickets" in document["paths"]
    assert stack.call("GET", "/tickets/TKT-0001")[0] == 401
    assert stack.call("POST", "/local/token", {"role": "root"})[0] == 422


def test_http_to_event_to_consumer(stack: RunningStack) -> None:
    # Given an admin's token
    token = stack.token()
    # When they open a ticket over HTTP
    status, ticket = stack.call(
        "POST",
        "/tickets",
        {"subject": "Flow", "body": "Through the bus", "requester": {"email": "r@x.org"}},
        token,
    )
    assert status == 201, ticket
    # Then the SLA service hears of it through EventBridge and its queue
    timer = eventually(
        lambda: stack.call("GET", f"/sla/tickets/{ticket['id']}", token=token),
        done=lambda answer: answer[0] == 200,
    )
    assert timer[0] == 200, timer
    assert timer[1]["ticket_id"] == ticket["id"]


def test_the_clock_moves_forward_only(stack: RunningStack) -> None:
    _, before = stack.call("POST", "/local/clock", {"advance_minutes": 0})
    status, after = stack.call("POST", "/local/clock", {"advance_minutes": 90})
    assert status == 200
    assert after["now"] > before["now"]
    assert stack.call("POST", "/local/clock", {"advance_minutes": -5})[0] == 422


def test_smtp_mail_is_stored_as_ses_stores_it(stack: RunningStack) -> None:
    raw = "From: Dana <dana@example.org>\r\nTo: support@example.com\r\nSubject: Hi\r\n\r\nHello\r\n"
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("dana@example.org", ["support@example.com"], raw.encode())
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws}")
    listed = eventually(
        lambda: s3.list_objects_v2(Bucket=stack.settings.mail_bucket, Prefix="inbound/").get(
            "Contents"
        )
    )
    assert listed, "the raw mail is not in the bucket"


def test_mail_the_system_sends_is_readable(stack: RunningStack) -> None:
    ses = boto3.client("ses", endpoint_url=f"http://127.0.0.1:{stack.aws}")
    raw = (
        "From: support@example.com\r\nTo: r@x.org\r\nSubject: [TKT-0001] Re: Flow\r\n"
        "Message-ID: <out-1@example.com>\r\nIn-Reply-To: <in-1@x.org>\r\n\r\nOn it.\r\n"
    )
    ses.send_raw_email(RawMessage={"Data": raw.encode()})
    status, outbox = stack.call("GET", "/local/outbox")
    assert status == 200
    sent = outbox[-1]
    assert (sent["subject"], sent["in_reply_to"]) == ("[TKT-0001] Re: Flow", "<in-1@x.org>")
    assert "On it." in sent["text"]
    assert (stack.state / "outbox" / sent["file"]).exists()


def test_state_survives_a_restart_and_ctrl_c_is_quick(stack: RunningStack, tmp_path: Path) -> None:
    # Given a ticket in the running stack
    token = stack.token()
    _, ticket = stack.call(
        "POST",
        "/tickets",
        {"subject": "Keep me", "body": "b", "requester": {"email": "k@x.org"}},
        token,
    )
    # And a clock moved a day ahead
    _, moved = stack.call("POST", "/local/clock", {"advance_minutes": 24 * 60})
    # When the stack is stopped with Ctrl-C and started again on the same state
    seconds = stack.stop()
    assert seconds < 10, f"Ctrl-C took {seconds:.1f}s"
    again = start_stack(stack.state, tmp_path / "again.log")
    try:
        # Then the ticket is still there, and numbering continues
        status, found = again.call("GET", f"/tickets/{ticket['number']}", token=again.token())
        assert (status, found["id"]) == (200, ticket["id"])
        _, next_ticket = again.call(
            "POST",
            "/tickets",
            {"subject": "Next", "body": "b", "requester": {"email": "k@x.org"}},
            again.token(),
        )
        assert next_ticket["number"] > ticket["number"]
        # And the clock did not run back to today
        _, now = again.call("POST", "/local/clock", {"advance_minutes": 0})
        assert now["now"] >= moved["now"]
    finally:
        again.stop()
