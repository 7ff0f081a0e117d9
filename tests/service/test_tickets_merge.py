"""Merging a ticket into another: the conversation moves, the source closes with a pointer, both
histories say so, mail to the source lands on the target, and the merges that make no sense are
refused. The conversation is copied after the merge's commit, as a recorded job that a crash
cannot leave half done: the merge's event finishes it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.data.tables import MergeCopyItem, TicketItem, TicketsOutbox
from services.tickets.handlers.events import on_ticket_merged
from services.tickets.handlers.wiring import dependencies
from services.tickets.logic import merge_tickets
from services.tickets.logic.merge_copy import COPY_STEP, MergeCopy, run_merge_copy
from services.tickets.logic.ticket import Author, Message
from shared.clock import get_clock
from shared.events.catalogue import EmailReceived, MailVerdicts, Person, TicketMerged
from shared.events.envelope import Envelope, OutgoingEvent
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


def _job(source_id: str) -> MergeCopy | None:
    return DynamoTicketRepository(get_clock()).merge_copy(source_id)


def _job_item(source_id: str) -> dict[str, Any] | None:
    """The copy job as stored, every attribute."""
    try:
        return MergeCopyItem.get(f"MERGE#{source_id}", "MERGE").attribute_values
    except MergeCopyItem.DoesNotExist:
        return None


def _outbox() -> list[tuple[str, str]]:
    """Every event in the tickets outbox: its key and kind."""
    table = boto3.resource("dynamodb").Table(get_settings().table_name("tickets"))
    items = table.scan()["Items"]
    return sorted((str(i["pk"]), str(i["detail_type"])) for i in items if "detail_type" in i)


def _recorded_merge(source_id: str) -> tuple[TicketMerged, Envelope]:
    """The TicketMerged the merge's transaction put in the outbox."""
    for item in TicketsOutbox.scan(TicketsOutbox.detail_type == "TicketMerged"):
        envelope = Envelope.model_validate_json(item.detail)
        merged = TicketMerged.model_validate(envelope.data)
        if merged.source_ticket_id == source_id:
            return merged, envelope
    raise AssertionError(f"no TicketMerged of {source_id} in the outbox")


def _long_conversation(http: HttpClient, ticket_id: str, count: int) -> list[dict[str, Any]]:
    """`count` more messages on the ticket, so a copy takes several steps; returns them all.
    Stored as they are (posting each one would cost the test seconds), each a millisecond apart,
    all before the merge."""
    now = get_clock().now()
    DynamoTicketRepository(get_clock()).copy_messages(
        [
            Message(
                id=str(uuid.uuid4()),
                ticket_id=ticket_id,
                visibility="public" if number % 3 else "internal",
                author=Author(type="agent", email=AGENT[0]),
                body=f"Message {number}",
                created_at=now - timedelta(milliseconds=count - number),
            )
            for number in range(count)
        ]
    )
    return _messages(http, ticket_id)


def _copies(conversation: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """What a copy keeps of each message, in the conversation's order."""
    return [(m["body"], m["visibility"], m["created_at"]) for m in conversation]


def _merged_conversation(
    source_messages: list[dict[str, Any]], target_messages: list[dict[str, Any]]
) -> list[tuple[str, str, str]]:
    """The target's conversation once the merge copied everything, before its system note."""
    both = sorted(source_messages + target_messages, key=lambda m: m["created_at"])
    return _copies(both)


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


def test_a_merge_whose_source_changed_meanwhile_writes_neither_ticket_and_copies_nothing(
    http: HttpClient, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two tickets, and a change to the source that lands between the merge's read and write
    _departments(http)
    source = _open(http, "Printer jams", "billing", BOB)
    target = _open(http, "Printer broken", "billing", BOB)
    _post(http, source["id"], "Which model is it?")
    delivery.run()
    target_before = _state(http, target["id"])
    source_before = _state(http, source["id"])
    outbox_before = _outbox()
    commit_merge = DynamoTicketRepository.commit_merge

    def source_changed_first(self: DynamoTicketRepository, job: MergeCopy, *commits: Any) -> None:
        TicketItem(f"TICKET#{source['id']}", "#TICKET").update(actions=[TicketItem.revision.add(1)])
        commit_merge(self, job, *commits)

    monkeypatch.setattr(DynamoTicketRepository, "commit_merge", source_changed_first)
    # When the source's condition fails in the merge's write
    answer = _merge(http, source["id"], target["id"])
    monkeypatch.undo()
    # Then the merge is refused, and the target is as it was: no new version, history, note, and
    # not one message of the source copied
    assert answer.status == 409, answer.body
    assert _state(http, target["id"]) == target_before
    assert _state(http, source["id"]) == source_before
    # And no copy job was recorded, nothing was announced: no outbox item was written
    assert _job_item(source["id"]) is None
    assert _outbox() == outbox_before


# --- the copy, step by step -----------------------------------------------------------------------


def test_the_merge_request_copies_a_long_conversation_at_once_and_its_event_finds_it_done(
    http: HttpClient, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a source whose conversation takes three steps to copy
    _departments(http)
    source = _open(http, "Printer jams", "billing", BOB)
    target = _open(http, "Printer broken", "billing", BOB)
    source_messages = _long_conversation(http, source["id"], 2 * COPY_STEP + 4)
    target_messages = _messages(http, target["id"])
    # When it is merged
    assert _merge(http, source["id"], target["id"]).status == 200
    # Then the answer came once every message was copied, and the job says so
    *copied, note = _messages(http, target["id"])
    assert _copies(copied) == _merged_conversation(source_messages, target_messages)
    assert note["author"]["type"] == "system"
    job = _job(source["id"])
    assert job is not None
    assert (job.target_id, job.copied, job.done) == (target["id"], len(source_messages), True)
    # And when its TicketMerged reaches the tickets service, nothing is copied again
    settled = (_messages(http, target["id"]), _job_item(source["id"]))
    copy_messages = DynamoTicketRepository.copy_messages
    batches: list[int] = []

    def counted(self: DynamoTicketRepository, messages: list[Any]) -> None:
        batches.append(len(messages))
        copy_messages(self, messages)

    monkeypatch.setattr(DynamoTicketRepository, "copy_messages", counted)
    assert delivery.run() > 0
    assert batches == []
    assert (_messages(http, target["id"]), _job_item(source["id"])) == settled


def test_a_slower_run_of_the_same_copy_never_takes_its_progress_back(http: HttpClient) -> None:
    # Given a merge whose copy finished
    _departments(http)
    source = _open(http, "Printer jams", "billing", BOB)
    target = _open(http, "Printer broken", "billing", BOB)
    _long_conversation(http, source["id"], COPY_STEP)
    assert _merge(http, source["id"], target["id"]).status == 200
    settled = (_messages(http, target["id"]), _job_item(source["id"]))
    # When a run that still holds the job as the merge recorded it goes to work
    late = MergeCopy(source_id=source["id"], target_id=target["id"])
    finished = run_merge_copy(late, dependencies())
    # Then its first step is not recorded: it learns the job is done and stops there, and the
    # target is as it was (the step rewrote copies that were there)
    assert (finished.copied, finished.done) == (COPY_STEP + 1, True)
    assert (_messages(http, target["id"]), _job_item(source["id"])) == settled


# --- a crash in the middle ------------------------------------------------------------------------

# The copy as a merge request runs it, in a process of its own against the emulator's endpoint.
# It prints how many messages were copied where it stops, then waits to be killed: after a step
# was recorded, or after a batch was written but before its step was recorded.
COPY_UNTIL_KILLED = """
import sys

from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.merge_copy import resume_merge_copy

source_id, crash, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
record = DynamoTicketRepository.record_merge_copy


def wait_for_the_kill(job):
    print(job.copied, flush=True)
    sys.stdin.readline()


def record_but_the_second_step(self, job):
    if crash == "before-recording" and job.copied > step:
        wait_for_the_kill(job)
    return record(self, job)


DynamoTicketRepository.record_merge_copy = record_but_the_second_step
on_step = wait_for_the_kill if crash == "after-recording" else None
resume_merge_copy(source_id, dependencies(), on_step)
sys.exit("the copy finished without stopping")
"""


@pytest.fixture
def endpoint(system: Any) -> Iterator[str]:
    """This test's emulator behind an HTTP endpoint, for another process: moto keeps its state
    per process, so the server answers from what the test's own calls see."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _copy_killed(endpoint: str, source_id: str, crash: str, log: Path) -> int:
    """Run the copy in a child process and SIGKILL it where `crash` says; returns how many
    messages it had copied by then."""
    with log.open("w") as errors:
        child = subprocess.Popen(
            [sys.executable, "-c", COPY_UNTIL_KILLED, source_id, crash, str(COPY_STEP)],
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "AWS_ENDPOINT_URL": endpoint},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        watchdog = threading.Timer(30, child.kill)  # a child that never reports fails the test
        watchdog.start()
        try:
            assert child.stdout is not None
            reported = child.stdout.readline()
        finally:
            child.send_signal(signal.SIGKILL)  # no cleanup of any kind: a crash
            child.wait()
            watchdog.cancel()
    assert reported, log.read_text()[-3000:]
    assert child.returncode == -signal.SIGKILL
    return int(reported)


@pytest.mark.parametrize(
    ("crash", "copied_when_killed", "recorded_when_killed"),
    [
        ("after-recording", COPY_STEP, COPY_STEP),
        ("before-recording", 2 * COPY_STEP, COPY_STEP),
    ],
    ids=["killed-after-a-step-was-recorded", "killed-after-a-batch-before-its-step-was-recorded"],
)
def test_a_copy_killed_between_steps_is_finished_once_by_the_merge_event(
    http: HttpClient,
    delivery: Delivery,
    endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    crash: str,
    copied_when_killed: int,
    recorded_when_killed: int,
) -> None:
    # Given a merge whose request died right after its commit, before copying anything
    _departments(http)
    source = _open(http, "Printer jams", "billing", BOB)
    target = _open(http, "Printer broken", "billing", BOB)
    _post(http, target["id"], "Probably the same printer.", visibility="internal")
    source_messages = _long_conversation(http, source["id"], 2 * COPY_STEP + 4)
    target_messages = _messages(http, target["id"])
    with monkeypatch.context() as died:
        died.setattr(merge_tickets, "run_merge_copy", lambda job, deps: job)
        assert _merge(http, source["id"], target["id"]).status == 200
    # When the copy runs in a process that is killed in its second step
    assert _copy_killed(endpoint, source["id"], crash, tmp_path / "copy.log") == copied_when_killed
    # Then the job is pending where the last recorded step left it
    job = _job(source["id"])
    assert job is not None
    assert (job.copied, job.done) == (recorded_when_killed, False)
    assert len(_messages(http, target["id"])) == len(target_messages) + 1 + copied_when_killed
    # When the merge's recorded TicketMerged reaches the tickets service's consumer
    assert delivery.run() > 0
    # Then the target holds exactly one copy of every source message, in order, then the note
    *copied, note = _messages(http, target["id"])
    assert _copies(copied) == _merged_conversation(source_messages, target_messages)
    assert len({m["id"] for m in copied}) == len(copied)
    assert note["author"]["type"] == "system"
    # And the job is done
    job = _job(source["id"])
    assert job is not None
    assert (job.copied, job.done) == (len(source_messages), True)
    # And a second delivery of the event (its handler again, as if the consumer had forgotten
    # the first) changes nothing
    settled = (_messages(http, target["id"]), _job_item(source["id"]))
    on_ticket_merged(*_recorded_merge(source["id"]))
    assert (_messages(http, target["id"]), _job_item(source["id"])) == settled
