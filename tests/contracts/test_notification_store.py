"""What the notifications count on from their store, held against the in-memory fake and the
DynamoDB adapter alike: each part of a watched ticket keeps its newest value whatever order the
events come in, an assignment that came before the ticket comes back with it, and one commit
telling an assignment twice (at one version, by two events) keeps it once; preferences
are kept per agent and read together; an event is claimed once per agent; a window changes only
from the version that was read; what waits is due when its window ends, the oldest first, and is
taken once; a group whose send failed is put back, with what came since, due again soon, and
taken once again; a notification sent is found by its Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.channels.data.notifications import DynamoNotificationStore
from services.channels.logic.dependencies import NotificationStore
from services.channels.logic.notifications import (
    GROUP_WINDOW,
    RETRY_AFTER,
    Assignment,
    Notice,
    NotificationMail,
    SentNotification,
    StaleWindow,
    WatchedTicket,
)
from tests.fakes.channels import FakeNotificationStore

T0 = datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)
ALICE, BOB = "alice@example.com", "bob@example.com"
TICKET = WatchedTicket("t1", "TKT-0001", "Invoice", "billing", "ch-1", client_words="Hello")


@pytest.fixture
def store(implementation: str) -> NotificationStore:
    return FakeNotificationStore() if implementation == "fake" else DynamoNotificationStore()


def _mail(at: datetime, name: str) -> NotificationMail:
    return NotificationMail(at, f"{name}@example.com")


def _assignment(assignee: str | None, version: int) -> Assignment:
    return Assignment(assignee, version, ALICE, T0, f"e{version}")


def test_a_watched_ticket_keeps_the_newest_of_each_part_whatever_the_order(
    store: NotificationStore,
) -> None:
    assert store.watched("t1") is None
    assert store.follow_assignee("t1", _assignment(BOB, 3)) is None  # before the ticket itself
    assert store.watched("t1") is None  # nothing to tell agents of yet
    store.watch(TICKET)
    assert store.follow_assignee("t1", _assignment(ALICE, 2)) is None  # older
    store.follow_department("t1", "sales", 4)
    store.follow_client_words("t1", "Later words", T0 + timedelta(minutes=2))
    store.follow_client_words("t1", "Earlier words", T0 + timedelta(minutes=1))
    assert store.watched("t1") == WatchedTicket(
        "t1",
        "TKT-0001",
        "Invoice",
        "sales",
        "ch-1",
        assignee=BOB,
        client_words="Later words",
        assignment=_assignment(BOB, 3),
    )
    store.follow_assignee("t1", _assignment(None, 5))
    store.forget_client_words("t1")
    store.follow_client_words("t1", "Words from before", T0 + timedelta(minutes=1))
    watched = store.watched("t1")
    assert watched is not None
    assert (watched.assignee, watched.client_words) == (None, None)


def test_an_assignment_before_the_ticket_comes_back_with_it_and_a_later_one_with_itself(
    store: NotificationStore,
) -> None:
    assert store.follow_assignee("t1", _assignment(BOB, 2)) is None
    watched = store.watch(TICKET)
    assert (watched.assignee, watched.assignment) == (BOB, _assignment(BOB, 2))
    assert store.watch(TICKET) == watched  # the ticket's event delivered again: nothing older
    later = store.follow_assignee("t1", _assignment(ALICE, 3))
    assert later is not None
    assert (later.number, later.assignee, later.assignment) == (
        "TKT-0001",
        ALICE,
        _assignment(ALICE, 3),
    )
    assert store.follow_assignee("t1", _assignment(BOB, 2)) is None  # delivered again, late
    assert store.watched("t1") == later


def test_one_commit_telling_an_assignment_twice_keeps_it_once(store: NotificationStore) -> None:
    store.watch(TICKET)
    announced = Assignment(BOB, 1, "system", T0, "created")
    kept = store.follow_assignee("t1", announced)
    assert kept is not None
    assert kept.assignment == announced
    # The turn of the same commit, at the same version, is the same assignment: not kept again
    assert store.follow_assignee("t1", Assignment(BOB, 1, "system", T0, "turn")) is None
    assert store.follow_assignee("t1", announced) == kept  # the same event again is taken
    assert store.watched("t1") == kept


def test_preferences_are_kept_per_agent_and_read_together(store: NotificationStore) -> None:
    assert (store.defaults(), store.own_preferences([ALICE, BOB])) == ({}, {})
    store.set_defaults({"new_ticket": False})
    store.set_own_preferences(ALICE, {"assigned": False, "sla_at_risk": True})
    store.set_own_preferences(ALICE, {"assigned": False})  # replaces
    assert store.defaults() == {"new_ticket": False}
    assert store.own_preferences([ALICE, BOB, ALICE]) == {ALICE: {"assigned": False}}


def test_an_event_is_claimed_once_per_agent_and_a_window_changes_only_from_what_was_read(
    store: NotificationStore,
) -> None:
    opened = store.open_window("e1", ALICE, "t1", None, _mail(T0, "n1"))
    assert opened is not None
    assert (opened.sent_at, opened.version, opened.pending) == (T0, 1, ())
    assert store.window(ALICE, "t1") == opened
    assert store.open_window("e1", ALICE, "t1", opened, _mail(T0, "n1b")) is None  # claimed
    assert store.open_window("e1", BOB, "t1", None, _mail(T0, "n2")) is not None  # Bob's own
    with pytest.raises(StaleWindow):
        store.open_window("e2", ALICE, "t1", None, _mail(T0, "n3"))  # not what is stored
    notice = Notice("client_replied", T0 + timedelta(minutes=1))
    assert store.hold("e3", ALICE, notice, opened) is True
    assert store.hold("e3", ALICE, notice, opened) is False  # claimed before: no stale check
    with pytest.raises(StaleWindow):
        store.hold("e4", ALICE, notice, opened)  # the window moved on since
    waiting = store.window(ALICE, "t1")
    assert waiting is not None
    assert (waiting.version, waiting.pending) == (2, (notice,))


def test_what_waits_is_due_when_its_window_ends_oldest_first_and_taken_once(
    store: NotificationStore,
) -> None:
    later = T0 + timedelta(seconds=30)
    alice = store.open_window("e1", ALICE, "t1", None, _mail(later, "n1"))
    bob = store.open_window("e2", BOB, "t2", None, _mail(T0, "n2"))
    assert alice is not None
    assert bob is not None
    store.hold("e3", ALICE, Notice("client_replied", later), alice)
    store.hold("e4", BOB, Notice("sla_at_risk", T0), bob)
    store.hold("e5", BOB, Notice("sla_breached", T0), store.window(BOB, "t2") or bob)
    assert store.due(T0 + GROUP_WINDOW - timedelta(seconds=1), 10) == []
    due = store.due(later + GROUP_WINDOW, 10)
    assert [(d.agent, d.ticket_id, d.due_at) for d in due] == [
        (BOB, "t2", T0 + GROUP_WINDOW),
        (ALICE, "t1", later + GROUP_WINDOW),
    ]
    assert store.due(later + GROUP_WINDOW, 1) == due[:1]
    now = later + GROUP_WINDOW
    taken = store.take_due(due[0], _mail(now, "digest"))
    assert taken is not None
    assert [n.kind for n in taken.pending] == ["sla_at_risk", "sla_breached"]
    assert store.take_due(due[0], _mail(now, "digest-again")) is None
    window = store.window(BOB, "t2")
    assert window is not None
    assert (window.sent_at, window.pending) == (now, ())
    assert store.due(now, 10) == due[1:]
    assert store.sent_notification(["unknown@x", "digest@example.com"]) == SentNotification(
        BOB, "t2"
    )


def test_a_window_opened_after_its_end_takes_what_waited_off_the_due_list(
    store: NotificationStore,
) -> None:
    first = store.open_window("e1", ALICE, "t1", None, _mail(T0, "n1"))
    assert first is not None
    store.hold("e2", ALICE, Notice("client_replied", T0), first)
    waiting = store.window(ALICE, "t1")
    assert waiting is not None
    later = T0 + GROUP_WINDOW + timedelta(minutes=1)
    assert store.open_window("e3", ALICE, "t1", waiting, _mail(later, "n3")) is not None
    assert store.due(later, 10) == []


def test_a_released_window_is_as_before_and_its_event_can_be_claimed_again(
    store: NotificationStore,
) -> None:
    first = store.open_window("e1", ALICE, "t1", None, _mail(T0, "n1"))
    assert first is not None
    store.release("e1", first, None)
    assert store.window(ALICE, "t1") is None
    again = store.open_window("e1", ALICE, "t1", None, _mail(T0, "n1"))
    assert again is not None
    assert store.sent_notification(["n1@example.com"]) == SentNotification(ALICE, "t1")
    assert store.sent_notification([]) is None


def test_a_group_whose_send_failed_is_put_back_with_what_came_since_and_taken_once_again(
    store: NotificationStore,
) -> None:
    # Given a group taken by a sweep, and a notice held in the window the take opened
    first = store.open_window("e1", ALICE, "t1", None, _mail(T0, "n1"))
    assert first is not None
    store.hold("e2", ALICE, Notice("client_replied", T0), first)
    now = T0 + GROUP_WINDOW
    (due,) = store.due(now, 10)
    taken = store.take_due(due, _mail(now, "digest"))
    assert taken is not None
    opened = store.window(ALICE, "t1")
    assert opened is not None
    store.hold("e3", ALICE, Notice("sla_at_risk", now), opened)
    # When its send fails and it is put back
    current = store.window(ALICE, "t1")
    assert current is not None
    with pytest.raises(StaleWindow):
        store.put_back(taken.put_back(opened), opened)  # not what is stored
    store.put_back(taken.put_back(current), current)
    # Then it is due once, soon, with both notices, and one sweep takes it
    retry = now + RETRY_AFTER
    assert store.due(retry - timedelta(seconds=1), 10) == []
    (again,) = store.due(now + GROUP_WINDOW, 10)
    assert again.due_at == retry
    retaken = store.take_due(again, _mail(retry, "digest-2"))
    assert retaken is not None
    assert ([n.kind for n in retaken.pending], retaken.failed_sends) == (
        ["client_replied", "sla_at_risk"],
        1,
    )
    assert store.take_due(again, _mail(retry, "digest-2b")) is None
    assert store.due(now + GROUP_WINDOW, 10) == []
