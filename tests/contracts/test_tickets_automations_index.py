"""What the tickets' automatic steps count on from storage, held against the in-memory fake and
the DynamoDB repository alike: each commit files a ticket under its pending step's due time in its
bucket, or under none; a query of a bucket answers the tickets due by then, soonest first, and
none that are not due, not pending, or in another bucket; a ticket's reminder and a history
entry's reason read back as written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.logic.dependencies import TicketRepository
from services.tickets.logic.pending_steps import (
    AUTOMATION_BUCKETS,
    AutomationTimings,
    automation_bucket,
)
from services.tickets.logic.repository import Commit
from services.tickets.logic.ticket import HistoryEntry, Status, Ticket
from shared.clock import FixedClock
from tests.contracts.test_tickets_repositories import T0, at, ticket
from tests.fakes.tickets import FakeTicketRepository

DAY = timedelta(days=1)
TIMINGS = AutomationTimings(auto_close_after=4 * DAY, remind_after=2 * DAY)


@pytest.fixture
def repository(implementation: str) -> TicketRepository:
    if implementation == "fake":
        return FakeTicketRepository(TIMINGS)
    return DynamoTicketRepository(FixedClock(T0), TIMINGS)


def due(repository: TicketRepository, minutes: float) -> list[str]:
    """Every ticket due `minutes` after T0, bucket by bucket."""
    moment = at(minutes)
    return [
        found.id
        for bucket in range(AUTOMATION_BUCKETS)
        for found in repository.automations_due(bucket, moment)
    ]


def store(repository: TicketRepository, n: int, status: Status, minutes: float) -> Ticket:
    new = ticket(n, minutes, status=status)
    repository.commit(Commit(new, None))
    return new


def test_only_tickets_whose_step_is_due_are_found(repository: TicketRepository) -> None:
    store(repository, 1, "resolved", 0)  # closes at 4 days
    store(repository, 2, "waiting_on_client", 60)  # reminded at 2 days and 1 hour
    store(repository, 3, "open", 0)  # nothing pending
    store(repository, 4, "resolved", 24 * 60)  # closes at 5 days
    store(repository, 5, "closed", 0)
    assert due(repository, 2 * 24 * 60 + 59) == []
    assert due(repository, 2 * 24 * 60 + 60) == ["t2"]
    assert sorted(due(repository, 4 * 24 * 60)) == ["t1", "t2"]
    assert sorted(due(repository, 30 * 24 * 60)) == ["t1", "t2", "t4"]


def test_a_bucket_holds_its_own_tickets_soonest_first(repository: TicketRepository) -> None:
    for n in range(1, 9):
        store(repository, n, "resolved", 10 * (9 - n))  # later numbers resolved earlier
    for bucket in range(AUTOMATION_BUCKETS):
        found = [t.id for t in repository.automations_due(bucket, at(30 * 24 * 60))]
        assert all(automation_bucket(ticket_id) == bucket for ticket_id in found)
        assert found == sorted(found, reverse=True)  # t8 was due first
    assert len(due(repository, 30 * 24 * 60)) == 8


def test_a_commit_moves_or_clears_the_filing(repository: TicketRepository) -> None:
    resolved = store(repository, 1, "resolved", 0)
    reopened = resolved.model_copy(update={"status": "open", "updated_at": at(60)})
    repository.commit(Commit(reopened, resolved))
    assert due(repository, 30 * 24 * 60) == []
    current = repository.get("t1")
    assert current is not None
    again = current.model_copy(update={"status": "resolved", "updated_at": at(24 * 60)})
    repository.commit(Commit(again, current))
    assert due(repository, 4 * 24 * 60) == []
    assert due(repository, 5 * 24 * 60) == ["t1"]


def test_a_reminder_and_a_reason_read_back(repository: TicketRepository) -> None:
    waiting = store(repository, 1, "waiting_on_client", 0)
    reminded = waiting.model_copy(update={"reminded_at": at(2 * 24 * 60)})
    note = HistoryEntry(
        ticket_id="t1",
        field="reminder",
        new="client@example.org",
        actor="system",
        at=at(2 * 24 * 60),
        reason="reminded automatically",
    )
    repository.commit(Commit(reminded, waiting, history=[note]))
    stored = repository.get("t1")
    assert stored is not None
    assert stored.reminded_at == at(2 * 24 * 60)
    assert due(repository, 30 * 24 * 60) == []  # reminded, and resolving after waiting is off
    assert repository.history("t1", 10, None).items[-1].reason == "reminded automatically"
