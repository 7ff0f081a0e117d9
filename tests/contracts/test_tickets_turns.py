"""What assignment by turns counts on from the tickets storage, held against the in-memory fake and
the DynamoDB repository alike: each agent's open tickets counted by the commits that move them,
availability as the agent set it, a department's turns taken only once each and never past the
open limit (refusing the whole commit), and a department's way of assigning read back as saved."""

from __future__ import annotations

import pytest

from services.tickets.logic.repository import AgentLoad, Rotation, Turn, TurnTaken
from services.tickets.logic.ticket import Department
from tests.contracts.test_tickets_repositories import (
    ALICE,
    BOB,
    Storage,
    change,
    department,
    dynamodb_storage,
    fake_storage,
    opening,
    stored,
    ticket,
)


@pytest.fixture
def repository_storage(implementation: str) -> Storage:
    return fake_storage() if implementation == "fake" else dynamodb_storage()


def given(storage: Storage, n: int, assignee: str, taken: int, limit: int | None = None) -> None:
    """Open ticket `t<n>` for `assignee` as the billing department's turn number `taken`."""
    turn = Turn("billing", assignee, taken, limit)
    new = opening(ticket(n, assignee=assignee))
    new.turn = turn
    storage.repository.commit(new)


def test_open_tickets_are_counted_per_assignee_until_resolved(repository_storage: Storage) -> None:
    repository = repository_storage.repository
    repository.commit(opening(ticket(1, assignee=ALICE)))
    repository.commit(opening(ticket(2, assignee=ALICE)))
    repository.commit(opening(ticket(3)))
    assert repository.loads([ALICE, BOB])[ALICE] == AgentLoad(open_tickets=2)

    repository.commit(change(stored(repository_storage, "t1"), 1, assignee=BOB))
    repository.commit(change(stored(repository_storage, "t2"), 2, status="resolved"))
    repository.commit(change(stored(repository_storage, "t3"), 3, assignee=BOB))
    repository.commit(change(stored(repository_storage, "t3"), 4, status="waiting_on_client"))

    assert repository.loads([ALICE, BOB]) == {
        ALICE: AgentLoad(open_tickets=0),
        BOB: AgentLoad(open_tickets=2),
    }


def test_availability_reads_back_as_the_agent_set_it(repository_storage: Storage) -> None:
    repository = repository_storage.repository
    repository.commit(opening(ticket(1, assignee=ALICE)))

    assert repository.set_available(ALICE, True) == AgentLoad(available=True, open_tickets=1)
    assert repository.set_available(BOB, True) == AgentLoad(available=True)
    assert repository.set_available(BOB, False) == AgentLoad(available=False)
    assert repository.loads([ALICE, BOB, "nobody@example.com"]) == {
        ALICE: AgentLoad(available=True, open_tickets=1),
        BOB: AgentLoad(),
        "nobody@example.com": AgentLoad(),
    }


def test_each_turn_is_taken_once_and_a_taken_one_refuses_the_commit(
    repository_storage: Storage,
) -> None:
    repository = repository_storage.repository
    assert repository.rotation("billing", [ALICE]) == (Rotation(), {ALICE: AgentLoad()})
    given(repository_storage, 1, ALICE, taken=0)
    given(repository_storage, 2, BOB, taken=1)

    with pytest.raises(TurnTaken):
        given(repository_storage, 3, ALICE, taken=1)

    assert repository.get("t3") is None
    assert len(repository_storage.outbox()) == 2
    assert repository.rotation("billing", [ALICE, BOB]) == (
        Rotation(turns=2, last=BOB),
        {ALICE: AgentLoad(open_tickets=1), BOB: AgentLoad(open_tickets=1)},
    )


def test_a_turn_is_refused_to_an_assignee_at_the_open_limit(repository_storage: Storage) -> None:
    repository = repository_storage.repository
    given(repository_storage, 1, ALICE, taken=0, limit=1)

    with pytest.raises(TurnTaken):
        given(repository_storage, 2, ALICE, taken=1, limit=1)
    given(repository_storage, 3, ALICE, taken=1, limit=2)

    assert repository.get("t2") is None
    assert repository.loads([ALICE])[ALICE] == AgentLoad(open_tickets=2)


def test_how_a_department_assigns_reads_back_as_saved(repository_storage: Storage) -> None:
    repository = repository_storage.repository
    department(repository_storage, "billing", ALICE)
    assert repository.department("billing") == Department(
        id="billing", name="billing", members=[ALICE]
    )

    by_turns = Department(
        id="billing", name="billing", members=[ALICE], assignment="round_robin", open_limit=5
    )
    repository.save_department(by_turns, [])

    assert repository.department("billing") == by_turns
    assert repository.departments() == [by_turns]
    unlimited = by_turns.model_copy(update={"open_limit": None})
    repository.save_department(unlimited, [])
    assert repository.department("billing") == unlimited
