"""Bulk changes on the in-memory storage: each ticket is changed as a single change of it would be,
in full or not at all, and refused as alone; the tickets are read at once and the caller's
departments once; a ticket written meanwhile is changed as it is now."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from services.tickets.logic.bulk_change import Changed, Outcome, Refused, change_tickets
from services.tickets.logic.change_ticket import TicketPatch
from services.tickets.logic.ticket import MAX_TAGS, Ticket
from shared.errors import Conflict, DomainError, NotFound
from shared.identity import Caller
from tests.tickets_desk import (
    ADMIN,
    ALICE,
    BOB,
    UNKNOWN_ID,
    UNKNOWN_NUMBER,
    Desk,
    invalid,
    refusal,
)


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.billing_and_technical()
    return desk


def bulk(desk: Desk, keys: list[str | Ticket], as_: Caller = ADMIN, **patch: Any) -> list[Outcome]:
    desk.later()
    named = [key if isinstance(key, str) else key.id for key in keys]
    return change_tickets(named, TicketPatch(**patch), as_, desk.deps)


def changed(outcome: Outcome) -> Ticket:
    assert isinstance(outcome, Changed), outcome
    return outcome.ticket


def refused(outcome: Outcome) -> DomainError:
    assert isinstance(outcome, Refused), outcome
    return outcome.error


def test_each_ticket_is_changed_or_refused_in_the_order_sent(desk: Desk) -> None:
    # Given an open ticket, a closed one, and one named by its number
    first = desk.open("billing")
    closed = desk.change(desk.open("billing"), status="closed")
    by_number = desk.open("technical")
    closed_history = desk.history(closed)
    desk.forget_events()
    # When an admin resolves them, with a ticket that does not exist among them
    outcomes = bulk(
        desk, [first, closed, UNKNOWN_ID, by_number.number], status="resolved", priority="high"
    )
    # Then the answers come in the order sent, each naming the ticket as it was sent
    assert [o.key for o in outcomes] == [first.id, closed.id, UNKNOWN_ID, by_number.number]
    # And the open tickets changed, one version each
    for outcome, ticket in ((outcomes[0], first), (outcomes[3], by_number)):
        after = changed(outcome)
        assert (after.id, after.status, after.priority) == (ticket.id, "resolved", "high")
        assert after.version == ticket.version + 1
        assert desk.repository.get(ticket.id) == after
    # And the closed ticket refused as alone, and changed in nothing
    assert isinstance(refused(outcomes[1]), Conflict)
    alone = refusal(lambda: desk.change(closed, status="resolved", priority="high"))
    assert refused(outcomes[1]).to_problem() == alone.to_problem()
    assert desk.repository.get(closed.id) == closed
    assert desk.history(closed) == closed_history
    # And the missing ticket is not found, as alone
    assert refused(outcomes[2]).to_problem() == refusal(lambda: desk.get(UNKNOWN_ID)).to_problem()
    # And only the changed tickets have events
    assert set(desk.event_names(closed.id)) == set()
    assert desk.event_names(first.id) == desk.event_names(by_number.id) != []


def test_a_ticket_changed_in_bulk_has_the_events_and_history_of_a_single_change(
    desk: Desk,
) -> None:
    # Given two like tickets
    alone, in_bulk = desk.open("billing"), desk.open("billing")
    changes: dict[str, Any] = {"status": "in_progress", "assignee": ALICE.email, "priority": "low"}
    # When one is changed alone and the other in bulk, by the same agent
    desk.forget_events()
    desk.change(alone, as_=ALICE, **changes)
    bulk(desk, [in_bulk], as_=ALICE, **changes)

    # Then both tell the same story, in events and in history
    def story(ticket: Ticket) -> tuple[list[Any], list[Any]]:
        own = ("ticket_id", "number", "updated_at", "changed_at", "assigned_at")
        events = [
            (name, {k: v for k, v in data.items() if k not in own})
            for name, data in zip(
                desk.event_names(ticket.id), desk.events(ticket_id=ticket.id), strict=True
            )
        ]
        history = [
            (e.field, e.old, e.new, e.actor) for e in desk.history(ticket) if e.field != "created"
        ]
        return events, history

    assert story(in_bulk) == story(alone)
    assert [name for name, _ in story(alone)[0]] == [
        "TicketUpdated",
        "TicketStatusChanged",
        "TicketAssigned",
    ]


def test_one_field_refused_changes_nothing_of_that_ticket_and_stops_no_other(desk: Desk) -> None:
    # Given a Billing ticket and a Technical one (Alice is in Billing only)
    billing, technical = desk.open("billing"), desk.open("technical")
    # When an admin raises both to urgent and gives both to Alice
    outcomes = bulk(desk, [technical, billing], priority="urgent", assignee=ALICE.email)
    # Then the Technical ticket is refused naming the assignee, its priority untouched
    assert invalid(refused(outcomes[0]), "assignee")
    assert desk.repository.get(technical.id) == technical
    # And the Billing ticket took both changes
    after = changed(outcomes[1])
    assert (after.priority, after.assignee) == ("urgent", ALICE.email)


def test_an_agent_gets_not_found_for_tickets_of_other_departments_as_alone(desk: Desk) -> None:
    # Given a Billing ticket and a Technical one
    billing, technical = desk.open("billing"), desk.open("technical")
    # When Alice (Billing) changes both, and one that does not exist
    keys: list[str | Ticket] = [technical, billing, technical.number, UNKNOWN_NUMBER]
    outcomes = bulk(desk, keys, as_=ALICE, priority="low")
    # Then the Technical ticket is not found, by id and by number, exactly as a read of it alone
    for outcome in (outcomes[0], outcomes[2], outcomes[3]):
        error = refused(outcome)
        assert isinstance(error, NotFound)
        assert error.to_problem() == refusal(lambda k=outcome.key: desk.get(k, ALICE)).to_problem()
    assert desk.repository.get(technical.id) == technical
    # And her own department's ticket changed
    assert changed(outcomes[1]).priority == "low"


def test_an_agent_may_not_move_tickets_to_a_department_of_which_they_are_not_a_member(
    desk: Desk,
) -> None:
    billing = desk.open("billing")
    outcomes = bulk(desk, [billing], as_=ALICE, department_id="technical")
    assert invalid(refused(outcomes[0]), "department_id")
    assert desk.repository.get(billing.id) == billing
    # While Bob, in Technical only, does not even see it
    assert isinstance(refused(bulk(desk, [billing], as_=BOB, priority="low")[0]), NotFound)


def test_tags_are_added_to_and_taken_from_each_tickets_own(desk: Desk) -> None:
    # Given tickets with different tags
    vip = desk.open("billing", tags=["vip", "refund"])
    plain = desk.open("billing")
    # When "refund" is taken away and "checked" added to both
    outcomes = bulk(desk, [vip, plain], tags_add=frozenset({"checked"}), tags_remove={"refund"})
    # Then each keeps its own other tags
    assert changed(outcomes[0]).tags == ["checked", "vip"]
    assert changed(outcomes[1]).tags == ["checked"]
    # And doing it again changes nothing: no new version, no event
    desk.forget_events()
    again = bulk(desk, [vip, plain], tags_add=frozenset({"checked"}), tags_remove={"refund"})
    assert [changed(o).version for o in again] == [2, 2]
    assert desk.event_names() == []


def test_a_ticket_that_would_have_too_many_tags_is_refused_naming_tags(desk: Desk) -> None:
    full = desk.open("billing", tags=[f"t{n}" for n in range(MAX_TAGS)])
    roomy = desk.open("billing")
    outcomes = bulk(desk, [full, roomy], tags_add=frozenset({"one-more"}))
    assert invalid(refused(outcomes[0]), "tags")
    assert desk.repository.get(full.id) == full
    assert changed(outcomes[1]).tags == ["one-more"]


def counting_reads(desk: Desk) -> Counter[str]:
    """Counts the storage's reads of tickets and memberships from now on."""
    calls: Counter[str] = Counter()
    repository = desk.repository
    for name in ("get", "get_many", "get_by_number", "departments_of", "is_member"):
        method: Callable[..., Any] = getattr(repository, name)

        def counted(*args: Any, _name: str = name, _method: Callable[..., Any] = method) -> Any:
            calls[_name] += 1
            return _method(*args)

        setattr(repository, name, counted)
    return calls


def test_the_tickets_are_read_at_once_and_the_callers_departments_once(desk: Desk) -> None:
    # Given 30 Billing tickets, 10 Technical ones, and one named by number
    tickets = [desk.open("billing") for _ in range(30)]
    tickets += [desk.open("technical") for _ in range(10)]
    keys: list[str | Ticket] = [*tickets[1:], tickets[0].number, UNKNOWN_ID]
    # When Alice changes them all
    calls = counting_reads(desk)
    outcomes = bulk(desk, keys, as_=ALICE, status="in_progress")
    # Then the tickets were read in one go (numbers alone), her departments once
    assert calls == Counter(get_many=1, get_by_number=1, departments_of=1)
    assert sum(isinstance(o, Changed) for o in outcomes) == 30
    assert sum(isinstance(o, Refused) for o in outcomes) == 11


def test_a_ticket_written_after_it_was_read_is_changed_as_it_is_now(desk: Desk) -> None:
    # Given a ticket that the system changes between the bulk read and the bulk write
    ticket = desk.open("billing")
    read_many = desk.repository.get_many

    def read_then_someone_writes(ticket_ids: list[str]) -> list[Ticket]:
        read = read_many(ticket_ids)
        desk.change(ticket, tags=["meanwhile"])
        return read

    desk.repository.get_many = read_then_someone_writes  # type: ignore[method-assign]
    # When it is changed in bulk
    outcome = bulk(desk, [ticket], priority="urgent")[0]
    # Then the change applied on what is there now: both changes kept, one version each
    after = changed(outcome)
    assert (after.priority, after.tags, after.version) == ("urgent", ["meanwhile"], 3)
    assert desk.repository.get(ticket.id) == after
