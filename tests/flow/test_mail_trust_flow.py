"""Trust in mail through the whole local system, over SMTP: SES's verdicts (set per mail with the
local verdicts header) decide who may join a ticket and who is answered."""

from __future__ import annotations

import smtplib
import uuid
from typing import Any

import pytest

from tests.flow.conftest import RunningStack, eventually

pytestmark = pytest.mark.flow
CAROL = "carol@client.example.org"
PASSING = "spf=PASS dkim=PASS dmarc=PASS"
FAILING = "spf=FAIL dkim=FAIL dmarc=FAIL"


def _send(stack: RunningStack, verdicts: str, **headers: str) -> None:
    lines = {
        "From": f"Carol <{CAROL}>",
        "To": "billing@example.com",
        "Subject": "Invoice twice",
        "Message-ID": f"<{uuid.uuid4()}@client.example.org>",
        "X-Helpdesk-Local-Verdicts": verdicts,
        **headers,
    }
    raw = "".join(f"{k}: {v}\r\n" for k, v in lines.items()) + "\r\nPlease refund.\r\n"
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail(CAROL, ["billing@example.com"], raw.encode())


def _tickets(stack: RunningStack, token: str) -> list[dict[str, Any]]:
    return stack.call("GET", "/tickets", token=token)[1]["items"]  # type: ignore[no-any-return]


def _outbox(stack: RunningStack) -> list[dict[str, Any]]:
    return stack.call("GET", "/local/outbox")[1]  # type: ignore[no-any-return]


def test_forged_mail_is_neither_threaded_nor_answered(stack: RunningStack) -> None:
    admin = stack.token()
    # Given Billing's address, acknowledging new tickets
    assert stack.call("POST", "/departments", {"name": "Billing"}, admin)[0] == 201
    channel = {"address": "billing@example.com", "department_id": "billing", "acknowledge": True}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    # When Carol writes, and her mail authenticates
    _send(stack, PASSING)
    # Then her ticket opens and she is acknowledged
    (ticket,) = eventually(lambda: _tickets(stack, admin))
    (ack,) = eventually(lambda: _outbox(stack))
    assert (ack["to"], ack["subject"]) == (CAROL, f"[{ticket['number']}] Invoice twice")
    # When an agent answers her
    reply = {"body": "Which card?"}
    assert stack.call("POST", f"/tickets/{ticket['id']}/messages", reply, admin)[0] == 201
    answer = eventually(lambda: _outbox(stack), lambda sent: len(sent) == 2)[-1]
    waiting = eventually(
        lambda: stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1],
        lambda found: found["status"] == "waiting_on_client",
    )
    # And someone answers that mail as Carol, with SPF, DKIM and DMARC failing
    _send(
        stack, FAILING, Subject=f"Re: {answer['subject']}", **{"In-Reply-To": answer["message_id"]}
    )
    # Then the mail opens a ticket of its own, marked as a possible follow-up of Carol's
    tickets = eventually(lambda: _tickets(stack, admin), lambda found: len(found) == 2)
    (forged,) = [t for t in tickets if t["id"] != ticket["id"]]
    assert forged["possible_follow_up_of"] == ticket["id"]
    # And Carol's ticket still waits on her
    after = stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1]
    assert (after["status"], after["version"]) == ("waiting_on_client", waiting["version"])
    # When a new mail that fails to authenticate opens a ticket
    _send(stack, "spf=FAIL dkim=GRAY dmarc=GRAY", Subject="Another question")
    eventually(lambda: _tickets(stack, admin), lambda found: len(found) == 3)
    # Then neither it nor the forged mail was acknowledged (given the time one takes)
    assert len(eventually(lambda: _outbox(stack), lambda sent: len(sent) > 2, seconds=5)) == 2
