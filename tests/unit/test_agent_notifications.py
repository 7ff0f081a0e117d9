"""Mail to agents, on the in-memory storage: who hears of what, never the one who caused it, their
preferences and the admins' defaults, each event once, a burst grouped into one mail per ticket
per window, and an agent's answer by mail posted as theirs only when it is theirs beyond doubt."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from services.channels.logic.delivery import SendFailed
from services.channels.logic.notifications import GROUP_WINDOW
from services.channels.logic.notify_agents import (
    change_defaults,
    change_preferences,
    client_answered,
    preferences_of,
    send_due_digests,
    sla_changed,
    ticket_changed,
    ticket_opened,
)
from shared.clock import isoformat
from shared.departments import Department
from shared.errors import Forbidden
from shared.events.catalogue import (
    EmailReceived,
    FieldChange,
    MailVerdicts,
    TicketCreated,
    TicketUpdated,
)
from shared.identity import Caller
from tests.channels_desk import ADMIN, AUTHENTICATED, BILLING, CLIENT, Desk, mail_id, text_of

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
CONSOLE = "https://help.example.com"


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.change_policy(console_url=CONSOLE)
    desk.channel()
    desk.deps.departments.record(
        Department(id="billing", members=[ALICE, BOB], changed_at=datetime(2026, 1, 1, tzinfo=UTC))
    )
    return desk


causes = (f"event-{n}" for n in itertools.count(1))


def _opened(desk: Desk, **fields: Any) -> TicketCreated:
    """A ticket opened by mail in Billing, and what notifications make of it."""
    desk.receive(subject="Invoice twice")
    (created,) = desk.deliver()
    created = created.model_copy(update={"preview": "I was charged twice.", **fields})
    ticket_opened(created, next(causes), desk.deps)
    return created


def _mails_to(desk: Desk, agent: str) -> list[EmailMessage]:
    return [m for m in desk.sent if m["To"] == agent]


def _assign(desk: Desk, ticket: TicketCreated, to: str | None, by: str, version: int) -> None:
    updated = TicketUpdated(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        changes=[FieldChange(field="assignee", old=None, new=to)],
        actor=by,
        version=version,
        updated_at=isoformat(desk.clock.now()),
    )
    ticket_changed(updated, next(causes), desk.deps)


def _client_writes(desk: Desk, ticket: TicketCreated, body: str, cause: str | None = None) -> int:
    posted = desk.message(
        ticket, author={"type": "client", "email": CLIENT, "name": None}, body=body
    )
    return client_answered(posted, cause or next(causes), desk.deps)


def test_a_new_ticket_tells_every_member_with_a_link_the_clients_words_and_no_loop(
    desk: Desk,
) -> None:
    created = _opened(desk)
    for agent in (ALICE, BOB):
        (mail,) = _mails_to(desk, agent)
        assert mail["From"].addresses[0].addr_spec == BILLING
        assert mail["Subject"] == f"[{created.number}] New ticket: Invoice twice"
        assert mail["Auto-Submitted"] == "auto-generated"
        text = text_of(mail)
        assert f"{CONSOLE}/#/tickets/{created.ticket_id}" in text
        assert "> I was charged twice." in text
    assert len(desk.sent) == 2  # Billing acknowledges nothing: only the two notifications


def test_the_agent_who_opens_a_ticket_is_not_told_of_it(desk: Desk) -> None:
    _opened(desk, opened_by=ALICE)
    assert [m["To"] for m in desk.sent] == [BOB]


def test_a_client_answer_goes_to_the_assignee_alone_or_to_the_department_while_nobody_has_it(
    desk: Desk,
) -> None:
    ticket = _opened(desk)
    desk.sender.sent.clear()
    desk.clock.advance(GROUP_WINDOW)
    assert _client_writes(desk, ticket, "Still charged twice.") == 2
    assert sorted(m["To"] for m in desk.sent) == [ALICE, BOB]
    _assign(desk, ticket, BOB, by=ALICE, version=2)
    desk.clock.advance(GROUP_WINDOW)
    desk.sender.sent.clear()
    assert _client_writes(desk, ticket, "Hello? Anyone?") == 1
    (mail,) = desk.sent
    assert mail["To"] == BOB
    assert "> Hello? Anyone?" in text_of(mail)


def test_an_agent_is_told_when_someone_else_assigns_them_but_not_when_they_take_it(
    desk: Desk,
) -> None:
    ticket = _opened(desk)
    desk.sender.sent.clear()
    desk.clock.advance(GROUP_WINDOW)  # past the window of the new ticket's mail
    _assign(desk, ticket, ALICE, by=ALICE, version=2)
    assert desk.sent == []
    _assign(desk, ticket, BOB, by=ALICE, version=3)
    (mail,) = desk.sent
    assert (mail["To"], mail["Subject"]) == (
        BOB,
        f"[{ticket.number}] Assigned to you: Invoice twice",
    )


def test_an_older_assignment_arriving_late_does_not_replace_a_newer_one(desk: Desk) -> None:
    ticket = _opened(desk)
    _assign(desk, ticket, BOB, by=CAROL, version=5)
    _assign(desk, ticket, ALICE, by=CAROL, version=4)  # delivered late
    watched = desk.deps.notifications.watched(ticket.ticket_id)
    assert watched is not None
    assert watched.assignee == BOB


@pytest.mark.parametrize("turn_first", [False, True], ids=["created-first", "turn-first"])
def test_a_ticket_given_by_turns_as_it_opens_tells_its_assignee_at_once_and_nobody_else(
    desk: Desk, turn_first: bool
) -> None:
    # Given a ticket opened by mail and given to Bob by turns in the same commit
    desk.receive(subject="Invoice twice")
    (created,) = desk.deliver()
    created = created.model_copy(update={"assignee": BOB})
    turn = TicketUpdated(
        ticket_id=created.ticket_id,
        number=created.number,
        changes=[FieldChange(field="assignee", old=None, new=BOB)],
        actor="system",
        version=1,
        updated_at=created.created_at,
    )
    # When both events arrive in either order, each of them twice
    for _ in range(2):
        if turn_first:
            ticket_changed(turn, "turn", desk.deps)
        ticket_opened(created, "created", desk.deps)
        if not turn_first:
            ticket_changed(turn, "turn", desk.deps)
    # Then Bob alone is told, once and at once, that the ticket is his
    assigned = f"[{created.number}] Assigned to you: Invoice twice"
    assert [(m["To"], m["Subject"]) for m in desk.sent] == [(BOB, assigned)]
    desk.clock.advance(GROUP_WINDOW)
    assert send_due_digests(desk.deps) == 0  # nothing waited behind another mail


def test_sla_warnings_and_breaches_go_to_the_assignee(desk: Desk) -> None:
    ticket = _opened(desk)
    _assign(desk, ticket, ALICE, by=BOB, version=2)
    desk.clock.advance(GROUP_WINDOW)
    desk.sender.sent.clear()
    at = isoformat(desk.clock.now())
    assert sla_changed("sla_at_risk", ticket.ticket_id, at, next(causes), desk.deps) == 1
    (mail,) = desk.sent
    assert mail["To"] == ALICE
    assert "SLA target at risk" in mail["Subject"]


def test_an_event_delivered_again_sends_nothing_more(desk: Desk) -> None:
    ticket = _opened(desk)
    desk.clock.advance(GROUP_WINDOW)
    desk.sender.sent.clear()
    assert _client_writes(desk, ticket, "Again.", cause="the-event") == 2
    desk.clock.advance(GROUP_WINDOW * 3)  # even long after, outside any window
    assert _client_writes(desk, ticket, "Again.", cause="the-event") == 0
    assert len(desk.sent) == 2


def test_a_burst_for_one_agent_is_one_mail_now_and_one_when_the_window_ends(desk: Desk) -> None:
    ticket = _opened(desk)  # the first mail of the window
    desk.deps.notifications.set_own_preferences(BOB, {"new_ticket": False, "client_replied": False})
    desk.clock.advance(timedelta(minutes=1))
    _client_writes(desk, ticket, "One more thing.")
    _assign(desk, ticket, None, by=BOB, version=2)
    desk.clock.advance(timedelta(minutes=1))
    _client_writes(desk, ticket, "And another.")
    assert len(_mails_to(desk, ALICE)) == 1
    desk.clock.advance(timedelta(minutes=2, seconds=59))
    assert send_due_digests(desk.deps) == 0  # the window has a second to go
    desk.clock.advance(timedelta(seconds=1))
    assert send_due_digests(desk.deps) == 1
    assert send_due_digests(desk.deps) == 0  # taken once
    _first, digest = _mails_to(desk, ALICE)
    assert digest["Subject"] == f"[{ticket.number}] The client answered: Invoice twice"
    assert text_of(digest).count("- The client answered at") == 2
    assert "> And another." in text_of(digest)


def test_a_notice_after_the_window_takes_along_what_still_waited(desk: Desk) -> None:
    ticket = _opened(desk)
    desk.clock.advance(timedelta(minutes=1))
    _client_writes(desk, ticket, "Waiting.")
    desk.clock.advance(GROUP_WINDOW)  # the sweep has not come yet
    _client_writes(desk, ticket, "Now.")
    assert send_due_digests(desk.deps) == 0
    _first, second = _mails_to(desk, ALICE)
    assert text_of(second).count("- The client answered at") == 2


def test_agents_choose_what_they_get_over_the_admins_defaults(desk: Desk) -> None:
    alice = Caller(ALICE, "agent")
    with pytest.raises(Forbidden):
        change_defaults(alice, {"new_ticket": False}, desk.deps)
    change_defaults(ADMIN, {"new_ticket": False}, desk.deps)
    change_preferences(Caller(BOB, "agent"), {"new_ticket": True}, desk.deps)
    preferences = preferences_of(alice, desk.deps)
    assert (preferences.enabled["new_ticket"], preferences.enabled["client_replied"]) == (
        False,
        True,
    )
    _opened(desk)
    assert [m["To"] for m in desk.sent] == [BOB]
    change_preferences(Caller(BOB, "agent"), {}, desk.deps)  # back to the defaults
    assert preferences_of(Caller(BOB, "agent"), desk.deps).enabled["new_ticket"] is False


def test_a_send_that_may_work_later_is_tried_again_with_the_event(desk: Desk) -> None:
    desk.sender.fail(SendFailed("throttled", permanent=False))
    desk.receive(subject="Invoice twice")
    (created,) = desk.deliver()
    with pytest.raises(SendFailed):
        ticket_opened(created, "the-event", desk.deps)
    assert ticket_opened(created, "the-event", desk.deps) == 2  # both, once each
    assert ticket_opened(created, "the-event", desk.deps) == 0


def test_internal_notes_tell_nobody_and_no_mail_carries_one(desk: Desk) -> None:
    ticket = _opened(desk)
    desk.clock.advance(GROUP_WINDOW)
    sent = len(desk.sent)
    note = desk.message(ticket, visibility="internal", body=None)
    assert client_answered(note, next(causes), desk.deps) == 0
    assert len(desk.sent) == sent


# --- answers by mail ----------------------------------------------------------------------------


def _answer(
    desk: Desk,
    notification: EmailMessage,
    sender: str = ALICE,
    text: str = "Refund it.",
    **fields: Any,
) -> EmailReceived:
    mail = desk.mail(
        sender=sender,
        to=[BILLING],
        subject=f"Re: {notification['Subject']}",
        in_reply_to=[mail_id(notification)],
        **fields,
    )
    mail.summary.text = text
    desk.receive(mail)
    return desk.announced(EmailReceived)[-1]


def test_an_agents_answer_to_a_notification_is_their_internal_note(desk: Desk) -> None:
    ticket = _opened(desk)
    answer = _answer(desk, _mails_to(desk, ALICE)[0])
    assert answer.ticket_id == ticket.ticket_id
    assert answer.agent_reply is not None
    assert (answer.agent_reply.email, answer.agent_reply.visibility) == (ALICE, "internal")
    assert answer.text == "Refund it."


def test_an_answer_that_begins_with_public_goes_to_the_client_without_the_mark(desk: Desk) -> None:
    _opened(desk)
    answer = _answer(desk, _mails_to(desk, ALICE)[0], text="#public\nWe refunded you.")
    assert answer.agent_reply is not None
    assert answer.agent_reply.visibility == "public"
    assert answer.text == "We refunded you."


@pytest.mark.parametrize(
    ("sender", "verdicts", "headers", "why"),
    [
        (BOB, AUTHENTICATED, {}, "from another address"),
        (ALICE, MailVerdicts(spf="PASS", dkim="GRAY", dmarc="GRAY"), {}, "DKIM and DMARC"),
        (ALICE, MailVerdicts(spf="PASS", dkim="PASS", dmarc="FAIL"), {}, "DKIM and DMARC"),
        (ALICE, AUTHENTICATED, {"Auto-Submitted": "auto-replied"}, "automatically"),
    ],
)
def test_an_answer_not_beyond_doubt_the_agents_is_held(
    desk: Desk, sender: str, verdicts: MailVerdicts, headers: dict[str, str], why: str
) -> None:
    _opened(desk)
    before = len(desk.announced(EmailReceived))
    mail = desk.mail(
        sender=sender,
        in_reply_to=[mail_id(_mails_to(desk, ALICE)[0])],
        verdicts=verdicts,
        headers=headers,
    )
    desk.receive(mail)
    assert len(desk.announced(EmailReceived)) == before
    (held,) = desk.quarantine(held=True)
    assert why in held.reason
    assert held.received.agent_reply is None


def test_an_agent_who_left_the_department_can_no_longer_write_by_mail(desk: Desk) -> None:
    _opened(desk)
    notification = _mails_to(desk, ALICE)[0]
    desk.deps.departments.record(
        Department(id="billing", members=[BOB], changed_at=datetime(2026, 2, 1, tzinfo=UTC))
    )
    mail = desk.mail(sender=ALICE, in_reply_to=[mail_id(notification)])
    desk.receive(mail)
    (held,) = desk.quarantine(held=True)
    assert "may no longer see the ticket" in held.reason


def test_an_erased_requesters_words_are_in_no_later_notification(desk: Desk) -> None:
    ticket = _opened(desk)
    erased = TicketUpdated(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        changes=[
            FieldChange(field="requester", old={"email": CLIENT}, new={"email": "x@erased.invalid"})
        ],
        actor="system",
        version=2,
        updated_at=isoformat(desk.clock.now()),
    )
    ticket_changed(erased, next(causes), desk.deps)
    desk.clock.advance(GROUP_WINDOW)
    desk.sender.sent.clear()
    at = isoformat(desk.clock.now())
    sla_changed("sla_breached", ticket.ticket_id, at, next(causes), desk.deps)
    assert desk.sent
    assert all("charged twice" not in text_of(mail) for mail in desk.sent)


def test_an_agent_writing_as_the_client_is_not_told_of_their_own_mail(desk: Desk) -> None:
    ticket = _opened(desk)
    desk.clock.advance(GROUP_WINDOW)
    desk.sender.sent.clear()
    posted = desk.message(ticket, author={"type": "client", "email": ALICE, "name": None})
    assert client_answered(posted, next(causes), desk.deps) == 1
    assert [m["To"] for m in desk.sent] == [BOB]
