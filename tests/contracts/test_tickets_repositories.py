"""What the tickets use cases count on from their storage, held against the in-memory fake and the
DynamoDB repository alike: a commit reads back as written and moves the revision; it is all or
nothing across tickets, refused with its events when a ticket moved or a guard fails; lists read
their partitions in the index's order, merged, filtered and in bounded pages; the counter, the
counts, departments and memberships; conversations and histories in order; mail outcomes never
overwritten by milder ones; a merge's copy job recorded with it, its progress only moving on;
tickets filed again for the automations under new timings unless they changed, and the record of
those timings stored only over the one it follows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.tickets.data.dynamodb import DynamoTicketRepository
from services.tickets.data.tables import TicketsOutbox
from services.tickets.logic.dependencies import TicketRepository
from services.tickets.logic.list_tickets import assignee_key, queue_key
from services.tickets.logic.merge_copy import MergeCopy
from services.tickets.logic.pending_steps import AutomationTimings
from services.tickets.logic.repository import (
    AutomationFiling,
    Commit,
    Guard,
    GuardFailed,
    ListPlan,
    MemberGuard,
    OpenDepartmentGuard,
    Partition,
    StaleVersion,
    TicketFilter,
)
from services.tickets.logic.ticket import (
    STATUSES,
    Author,
    Delivery,
    Department,
    HistoryEntry,
    Message,
    Sla,
    Status,
    Ticket,
)
from shared.clock import FixedClock
from shared.errors import Invalid
from shared.events.catalogue import Attachment, Person, TicketAssigned
from shared.events.envelope import OutgoingEvent
from shared.keys import NO_KEY
from shared.storage import Page, encode_cursor
from tests.fakes.tickets import FakeTicketRepository

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE, BOB = "alice@example.com", "bob@example.com"


@dataclass
class Storage:
    repository: TicketRepository  # with every automatic step off
    outbox: Callable[[], list[str]]  # the ids of the events written, in any order
    # The same storage as a deployment with other timings writes to it
    retimed: Callable[[AutomationTimings], TicketRepository]


def fake_storage() -> Storage:
    repository = FakeTicketRepository()

    def retimed(timings: AutomationTimings) -> TicketRepository:
        repository.retime(timings)
        return repository

    return Storage(repository, lambda: [event.envelope.id for event in repository.outbox], retimed)


def dynamodb_storage() -> Storage:
    return Storage(
        DynamoTicketRepository(FixedClock(T0)),
        lambda: [json.loads(item.detail)["id"] for item in TicketsOutbox.scan()],
        lambda timings: DynamoTicketRepository(FixedClock(T0), timings),
    )


@pytest.fixture
def storage(implementation: str) -> Storage:
    return fake_storage() if implementation == "fake" else dynamodb_storage()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ticket(n: int, minutes: float = 0, **fields: Any) -> Ticket:
    """Ticket `t<n>`, numbered TKT-000<n>, opened (and last changed) `minutes` after T0."""
    return Ticket(
        **{
            "id": f"t{n}",
            "number": f"TKT-{n:04d}",
            "subject": f"Ticket {n}",
            "department_id": "billing",
            "requester": Person(email="client@example.org", name="Client"),
            "created_at": at(minutes),
            "updated_at": at(minutes),
            **fields,
        }
    )


def message(ticket_id: str, minutes: float, body: str = "Hello", **fields: Any) -> Message:
    return Message(
        **{
            "id": f"{ticket_id}-m{minutes}",
            "ticket_id": ticket_id,
            "visibility": "public",
            "author": Author(type="client", email="client@example.org", name="Client"),
            "body": body,
            "created_at": at(minutes),
            **fields,
        }
    )


def entry(ticket_id: str, minutes: float, field: str, new: Any) -> HistoryEntry:
    return HistoryEntry(ticket_id=ticket_id, field=field, new=new, actor=ALICE, at=at(minutes))


def event(ticket_id: str) -> OutgoingEvent:
    assigned = TicketAssigned(
        ticket_id=ticket_id, number="TKT-0001", old=None, new=ALICE, department_id=None
    )
    return OutgoingEvent.of(assigned, T0)


def opening(new: Ticket, guards: list[Guard] | None = None) -> Commit:
    """A new ticket, with its first message, its opening in history and an event."""
    return Commit(
        ticket=new,
        previous=None,
        messages=[message(new.id, 0)],
        history=[entry(new.id, 0, "created", new.number)],
        events=[event(new.id)],
        guards=guards or [],
    )


def change(current: Ticket, minutes: float, **update: Any) -> Commit:
    """A person's change of `current` (as read), with a history entry and an event."""
    changed = current.model_copy(
        deep=True, update={"version": current.version + 1, "updated_at": at(minutes), **update}
    )
    history = [entry(current.id, minutes, field, value) for field, value in update.items()]
    return Commit(changed, current, history=history, events=[event(current.id)])


def stored(storage: Storage, ticket_id: str) -> Ticket:
    found = storage.repository.get(ticket_id)
    assert found is not None
    return found


def department(storage: Storage, department_id: str, *members: str, archived: bool = False) -> None:
    """A department with its members, one save per member as the use cases do."""
    repository = storage.repository
    repository.save_department(Department(id=department_id, name=department_id), [], new=True)
    for number, member in enumerate(members):
        joined = Department(
            id=department_id, name=department_id, members=list(members[: number + 1])
        )
        repository.save_department(joined, [], added=member)
    if archived:
        archived_one = Department(
            id=department_id, name=department_id, members=list(members), archived=True
        )
        repository.save_department(archived_one, [])


# --- commits -------------------------------------------------------------------------------------


def test_a_committed_ticket_reads_back_by_id_and_number_at_its_revision(storage: Storage) -> None:
    repository = storage.repository
    new = ticket(1, tags=["vip", "refund"], cc=["carol@example.com"], sla=Sla(state="ok"))
    assert repository.get("t1") is None
    repository.commit(opening(new))
    # The caller's ticket learns its revision, and reads back as written (tags in order)
    assert new.revision == 1
    written = new.model_copy(update={"tags": ["refund", "vip"]})
    assert repository.get("t1") == repository.get_by_number("TKT-0001") == written
    assert repository.get_by_number("TKT-0002") is None
    # A ticket read is a copy: changing it changes nothing stored
    stored(storage, "t1").tags.append("changed")
    assert repository.get("t1") == written
    # A change moves the revision once more, and reads back too
    changed = change(stored(storage, "t1"), 5, status="resolved", assignee=ALICE)
    repository.commit(changed)
    assert stored(storage, "t1") == changed.ticket
    assert (changed.ticket.version, changed.ticket.revision) == (2, 2)


def test_many_tickets_read_at_once_are_those_that_exist_as_read_one_by_one(
    storage: Storage,
) -> None:
    repository = storage.repository
    # Given 120 tickets: more than one batch of DynamoDB's (100 keys at most)
    for n in range(1, 121):
        repository.commit(opening(ticket(n, tags=["vip"] if n % 2 else [])))
    repository.commit(change(stored(storage, "t7"), 5, status="resolved"))
    # When they are read at once with ids that do not exist, and one id twice
    wanted = [f"t{n}" for n in range(120, 0, -1)] + ["t404", "t7"]
    found = repository.get_many(wanted)
    # Then each ticket that exists comes once, exactly as a read of it alone gives it
    assert sorted(t.id for t in found) == sorted(f"t{n}" for n in range(1, 121))
    assert all(t == repository.get(t.id) for t in found)
    assert [t.version for t in found if t.id == "t7"] == [2]
    # And nothing asked for, nothing read
    assert repository.get_many([]) == []
    assert repository.get_many(["t404"]) == []


def test_a_stale_ticket_refuses_the_whole_commit_and_writes_no_event(storage: Storage) -> None:
    repository = storage.repository
    for n in (1, 2):
        repository.commit(opening(ticket(n)))
    events_before = sorted(storage.outbox())
    first, second = stored(storage, "t1"), stored(storage, "t2")
    # Given someone changed the first ticket since it was read
    repository.commit(change(first, 1, priority="high"))
    # When both are changed in one commit, the first as it was read
    both = (change(second, 2, status="closed"), change(first, 2, status="closed"))
    both[1].messages.append(message("t1", 2, "A note"))
    with pytest.raises(StaleVersion):
        repository.commit(*both)
    # Then nothing of either was stored: tickets, messages, history, events, counts
    assert stored(storage, "t2") == second
    assert stored(storage, "t1").status == "open"
    _, conversation = repository.get_with_messages("t1", 10, None)
    assert [m.body for m in conversation.items] == ["Hello"]
    assert [e.field for e in repository.history("t1", 10, None).items] == ["created", "priority"]
    assert [e.field for e in repository.history("t2", 10, None).items] == ["created"]
    assert len(storage.outbox()) == len(events_before) + 1
    assert repository.counts("billing")["closed"] == 0


def test_a_new_ticket_whose_id_is_taken_is_stale_and_the_first_stands(storage: Storage) -> None:
    first = ticket(1)
    storage.repository.commit(opening(first))
    with pytest.raises(StaleVersion):
        storage.repository.commit(opening(ticket(1, subject="Again")))
    assert stored(storage, "t1") == first


def test_a_write_based_on_a_read_from_before_a_system_update_is_stale(storage: Storage) -> None:
    # The system's updates keep the version but move the revision: every write checks that
    repository = storage.repository
    repository.commit(opening(ticket(1)))
    read_by_agent = stored(storage, "t1")
    system = read_by_agent.model_copy(deep=True, update={"contact_id": "contact-1"})
    repository.commit(Commit(system, read_by_agent))
    assert (stored(storage, "t1").version, stored(storage, "t1").revision) == (1, 2)
    with pytest.raises(StaleVersion):
        repository.commit(change(read_by_agent, 3, priority="high"))
    repository.commit(change(stored(storage, "t1"), 3, priority="high"))
    assert stored(storage, "t1").contact_id == "contact-1"


@pytest.mark.parametrize(
    "guard",
    [
        MemberGuard(BOB, "billing"),  # Bob is in Technical
        MemberGuard(ALICE, "nowhere"),
        OpenDepartmentGuard("archived"),
        OpenDepartmentGuard("nowhere"),
    ],
    ids=["other-member", "no-department", "archived", "unknown"],
)
def test_a_failed_guard_refuses_the_commit_naming_the_guard(storage: Storage, guard: Guard) -> None:
    department(storage, "billing", ALICE)
    department(storage, "technical", BOB)
    department(storage, "archived", ALICE, archived=True)
    events_before = len(storage.outbox())
    holding: list[Guard] = [MemberGuard(ALICE, "billing"), OpenDepartmentGuard("technical")]
    with pytest.raises(GuardFailed) as refused:
        storage.repository.commit(opening(ticket(1), [*holding, guard]))
    assert refused.value.guard == guard
    assert storage.repository.get("t1") is None
    assert len(storage.outbox()) == events_before
    # With the guards that hold, the same commit goes through
    storage.repository.commit(opening(ticket(1), holding))
    assert stored(storage, "t1").number == "TKT-0001"


def test_of_two_guards_on_one_membership_the_first_is_named(storage: Storage) -> None:
    department(storage, "billing", ALICE)
    storage.repository.commit(opening(ticket(1)), opening(ticket(2)))
    first, second = change(stored(storage, "t1"), 1), change(stored(storage, "t2"), 1)
    first.guards = [MemberGuard(BOB, "billing", "caller")]
    second.guards = [MemberGuard(BOB, "billing", "assignee")]
    with pytest.raises(GuardFailed) as refused:
        storage.repository.commit(first, second)
    assert refused.value.guard == MemberGuard(BOB, "billing", "caller")


def test_the_ticket_counter_counts_up_from_one(storage: Storage) -> None:
    assert [storage.repository.next_number() for _ in range(3)] == [1, 2, 3]


def test_counts_follow_each_tickets_department_and_status(storage: Storage) -> None:
    repository = storage.repository
    assert repository.counts("billing") == dict.fromkeys(STATUSES, 0)
    repository.commit(
        *(opening(ticket(n)) for n in (1, 2, 3)), opening(ticket(4, department_id=None))
    )
    t1, t2 = stored(storage, "t1"), stored(storage, "t2")
    repository.commit(change(t1, 1, status="resolved"), change(t2, 1, department_id="technical"))
    # A change of neither department nor status counts nothing
    repository.commit(change(stored(storage, "t3"), 2, priority="urgent"))
    assert repository.counts("billing") == {**dict.fromkeys(STATUSES, 0), "open": 1, "resolved": 1}
    assert repository.counts("technical") == {**dict.fromkeys(STATUSES, 0), "open": 1}
    assert repository.counts(None) == {**dict.fromkeys(STATUSES, 0), "open": 1}


# --- departments ---------------------------------------------------------------------------------


def test_departments_and_memberships_read_back_as_saved(storage: Storage) -> None:
    repository = storage.repository
    department(storage, "technical", BOB, ALICE)
    department(storage, "billing", ALICE)
    announced = event("none")
    renamed = Department(id="billing", name="Accounts", members=[ALICE], archived=True)
    repository.save_department(renamed, [announced])
    assert announced.envelope.id in storage.outbox()
    # Departments in the order of their ids, members in order
    assert repository.departments() == [
        renamed,
        Department(id="technical", name="technical", members=[ALICE, BOB]),
    ]
    assert repository.department("billing") == renamed
    assert repository.department("nowhere") is None
    # A second department of an id is refused
    with pytest.raises(GuardFailed):
        repository.save_department(Department(id="billing", name="Again"), [], new=True)
    assert repository.department("billing") == renamed
    # Memberships, in one read with their department too
    assert repository.departments_of(ALICE) == frozenset({"billing", "technical"})
    assert repository.is_member(BOB, "technical")
    assert not repository.is_member(BOB, "billing")
    assert repository.department_and_membership("technical", BOB)[1]
    assert repository.department_and_membership("billing", BOB) == (renamed, False)
    assert repository.department_and_membership("billing", None) == (renamed, False)
    assert repository.department_and_membership("nowhere", ALICE) == (None, False)
    # A membership removed is gone at once
    left = Department(id="technical", name="technical", members=[ALICE])
    repository.save_department(left, [], removed=BOB)
    assert repository.departments_of(BOB) == frozenset()
    assert repository.department("technical") == left


# --- conversations and histories -----------------------------------------------------------------


def test_the_conversation_comes_with_the_ticket_oldest_first_in_bounded_pages(
    storage: Storage,
) -> None:
    repository = storage.repository
    new = ticket(1)
    first = opening(new)
    first.messages = [message("t1", minutes) for minutes in (5, 0, 2.5, 1, 7, 3)]
    repository.commit(first)
    order = [f"t1-m{minutes}" for minutes in (0, 1, 2.5, 3, 5, 7)]
    for limit in (1, 2, 4, 6, 10):
        pages: list[list[str]] = []
        cursor: str | None = None
        for _ in range(10):
            found, page = repository.get_with_messages("t1", limit, cursor)
            assert found == new
            assert len(page.items) <= limit
            pages.append([m.id for m in page.items])
            if (cursor := page.cursor) is None:
                break
        assert [m for page in pages for m in page] == order, limit
    # A cursor that is no position in a conversation is refused
    with pytest.raises(Invalid):
        repository.get_with_messages("t1", 2, encode_cursor("#TICKET"))
    assert repository.get_with_messages("t9", 2, None) == (None, Page([], None))


def test_the_history_pages_in_time_order_and_in_the_order_of_each_commit(
    storage: Storage,
) -> None:
    repository = storage.repository
    repository.commit(opening(ticket(1)))
    current = stored(storage, "t1")
    # Several entries of one commit share a time: they keep the order they were given in
    repository.commit(change(current, 2, status="in_progress", priority="high", assignee=ALICE))
    repository.commit(change(stored(storage, "t1"), 1, tags=["vip"]))  # an earlier time
    expected = ["created", "tags", "status", "priority", "assignee"]
    for limit in (1, 2, 5, 10):
        found: list[HistoryEntry] = []
        cursor: str | None = None
        for _ in range(10):
            page = repository.history("t1", limit, cursor)
            assert len(page.items) <= limit
            found += page.items
            if (cursor := page.cursor) is None:
                break
        assert [e.field for e in found] == expected, limit
    assert found[2] == entry("t1", 2, "status", "in_progress")
    # A cursor of another ticket's history is refused
    other = repository.history("t1", 1, None).cursor
    assert other is not None
    with pytest.raises(Invalid):
        repository.history("t2", 1, other)


def test_a_mail_outcome_never_replaces_a_worse_one(storage: Storage) -> None:
    repository = storage.repository
    first = opening(ticket(1))
    reply = message("t1", 0.5, author=Author(type="agent", email=ALICE))
    first.messages.append(reply)
    repository.commit(first)
    posted = reply.created_at + timedelta(milliseconds=400)  # as events carry it: a bit off

    def outcome(state: str) -> Delivery:
        return Delivery.model_validate({"state": state, "at": at(2)})

    sent = {"a@example.org": outcome("sent"), "b@example.org": outcome("sent")}
    assert sorted(repository.record_delivery("t1", reply.id, posted, sent)) == [
        "a@example.org",
        "b@example.org",
    ]
    later = {"a@example.org": outcome("bounced"), "b@example.org": outcome("delivered")}
    assert sorted(repository.record_delivery("t1", reply.id, posted, later)) == [
        "a@example.org",
        "b@example.org",
    ]
    # A milder or equal report, late, changes nothing
    late = {"a@example.org": outcome("delivered"), "b@example.org": outcome("delivered")}
    assert repository.record_delivery("t1", reply.id, posted, late) == []
    _, page = repository.get_with_messages("t1", 10, None)
    assert page.items[-1].delivery == later
    assert repository.record_delivery("t1", "unknown", posted, sent) == []


def test_a_message_is_found_by_its_id_in_the_second_it_was_posted(storage: Storage) -> None:
    repository = storage.repository
    first = opening(ticket(1))
    file = Attachment(name="a.pdf", content_type="application/pdf", size=3, key="uploads/x/a.pdf")
    reply = message("t1", 0.5, attachments=[file])
    first.messages.append(reply)
    repository.commit(first)
    found = repository.find_message("t1", reply.id, reply.created_at.replace(microsecond=0))
    assert found is not None
    assert (found.id, found.attachments) == (reply.id, [file])
    assert repository.find_message("t1", reply.id, reply.created_at + timedelta(seconds=1)) is None
    assert repository.find_message("t1", "unknown", reply.created_at) is None
    assert repository.find_message("t2", reply.id, reply.created_at) is None


def test_an_address_is_replaced_in_authors_and_mail_outcomes(storage: Storage) -> None:
    repository = storage.repository
    first = opening(ticket(1))
    reply = message("t1", 1, "Reply", author=Author(type="agent", email=ALICE))
    first.messages.append(reply)
    repository.commit(first)
    bounced = {"Client@Example.org": Delivery.model_validate({"state": "bounced", "at": at(2)})}
    repository.record_delivery("t1", reply.id, reply.created_at, bounced)
    assert repository.replace_address("t1", "client@example.org", "erased@erased.invalid") == 2
    _, page = repository.get_with_messages("t1", 10, None)
    client, agent = page.items
    assert client.author == Author(type="client", email="erased@erased.invalid")
    assert agent.author.email == ALICE
    assert list(agent.delivery) == ["erased@erased.invalid"]
    assert repository.replace_address("t1", "client@example.org", "x@erased.invalid") == 0


# --- lists ---------------------------------------------------------------------------------------


def every_page(storage: Storage, plan: ListPlan, limit: int) -> list[str]:
    found: list[str] = []
    cursor: str | None = None
    for _ in range(50):
        page = storage.repository.list_page(plan, limit, cursor)
        assert len(page.items) <= limit
        found += [t.id for t in page.items]
        if (cursor := page.cursor) is None:
            return found
    raise AssertionError("the cursor never ran out")


def queues(
    index: Any, departments: tuple[str | None, ...], statuses: tuple[Status, ...] = STATUSES
) -> tuple[Partition, ...]:
    return tuple(Partition(index, queue_key(d, s)) for d in departments for s in statuses)


@pytest.fixture
def twelve(storage: Storage) -> Storage:
    """Twelve tickets in two departments and none, opened in one order and changed in another,
    in several statuses and priorities, some assigned, some tagged."""
    tickets = [
        ticket(
            n,
            n,
            department_id=("billing", "technical", None)[n % 3],
            priority=("low", "high")[n % 2],
            tags=["vip"] if n % 4 == 0 else [],
            contact_id="contact-1" if n % 5 == 0 else None,
        )
        for n in range(12)
    ]
    storage.repository.commit(*(opening(t) for t in tickets))
    for step in range(12):
        n = (step * 5) % 12
        update: dict[str, Any] = {"status": ("open", "in_progress", "resolved")[n % 3]}
        if n % 3 == 0 and n % 2 == 0:
            update["assignee"] = ALICE
        storage.repository.commit(change(stored(storage, f"t{n}"), 20 + step, **update))
    return storage


def order(storage: Storage, keep: Callable[[Ticket], bool], by: str = "updated_at") -> list[str]:
    tickets = [stored(storage, f"t{n}") for n in range(12)]
    chosen = sorted((t for t in tickets if keep(t)), key=lambda t: getattr(t, by), reverse=True)
    return [t.id for t in chosen]


def test_queues_are_merged_newest_first_in_bounded_pages(twelve: Storage) -> None:
    every = (None, "billing", "technical")
    updated = ListPlan(queues("by_queue_updated", every), TicketFilter(), newest_first=True)
    created = ListPlan(queues("by_queue_created", every), TicketFilter(), newest_first=True)
    for limit in (5, 12, 100):
        assert every_page(twelve, updated, limit) == order(twelve, lambda t: True), limit
        assert every_page(twelve, created, limit) == [f"t{n}" for n in reversed(range(12))]
    # One queue is one partition
    billing = ListPlan(queues("by_queue_updated", ("billing",), ("open",)), TicketFilter(), True)
    assert every_page(twelve, billing, 1) == order(
        twelve, lambda t: t.department_id == "billing" and t.status == "open"
    )


def test_filters_apply_while_paging_without_short_pages_in_between(twelve: Storage) -> None:
    every = queues("by_queue_updated", ("billing", "technical"), ("open", "in_progress"))
    read = set(order(twelve, lambda t: t.department_id is not None and t.status != "resolved"))
    filters = {
        TicketFilter(priority="high"): lambda t: t.priority == "high",
        TicketFilter(tag="vip"): lambda t: "vip" in t.tags,
        TicketFilter(priority="low", tag="vip"): lambda t: t.priority == "low" and "vip" in t.tags,
        TicketFilter(sla_state="breached"): lambda t: False,
    }
    for conditions, keep in filters.items():
        plan = ListPlan(every, conditions, newest_first=True)
        wanted = [found for found in order(twelve, keep) if found in read]
        for limit in (2, 100):
            page = twelve.repository.list_page(plan, limit, None)
            assert [t.id for t in page.items] == wanted[:limit]
            assert (page.cursor is None) == (len(wanted) <= limit)
            assert every_page(twelve, plan, limit) == wanted


def test_assignee_and_contact_lists_filter_by_status_and_department(twelve: Storage) -> None:
    mine = ListPlan(
        tuple(Partition("by_assignee", assignee_key(ALICE, s)) for s in STATUSES),
        TicketFilter(departments=("billing",)),
        newest_first=True,
    )
    assert every_page(twelve, mine, 1) == order(
        twelve, lambda t: t.assignee == ALICE and t.department_id == "billing"
    )
    unassigned = ListPlan(
        tuple(Partition("by_assignee", assignee_key(None, s)) for s in STATUSES),
        TicketFilter(departments=("", "technical")),
        newest_first=True,
    )
    assert every_page(twelve, unassigned, 2) == order(
        twelve, lambda t: t.assignee is None and t.department_id in (None, "technical")
    )

    def contact(conditions: TicketFilter) -> ListPlan:
        return ListPlan((Partition("by_contact", "contact-1"),), conditions, newest_first=True)

    everyone = order(twelve, lambda t: t.contact_id == "contact-1", by="created_at")
    assert every_page(twelve, contact(TicketFilter()), 1) == everyone == ["t10", "t5", "t0"]
    statuses = TicketFilter(assignee=NO_KEY, statuses=("open", "resolved"))
    assert every_page(twelve, contact(statuses), 1) == order(
        twelve,
        lambda t: t.contact_id == "contact-1" and t.assignee is None and t.status != "in_progress",
    )
    assert every_page(twelve, contact(TicketFilter(assignee=ALICE)), 1) == ["t0"]
    assert every_page(twelve, contact(TicketFilter(departments=())), 1) == []


def test_the_sla_queue_lists_unfinished_tickets_soonest_due_first(storage: Storage) -> None:
    def due(first: float | None, resolution: float | None) -> Sla:
        times = [at(m) if m is not None else None for m in (first, resolution)]
        return Sla(state="ok", first_response_due_at=times[0], resolution_due_at=times[1])

    storage.repository.commit(
        opening(ticket(1, sla=due(30, 300))),
        opening(ticket(2, sla=due(10, 300))),
        # answered: its resolution is what is due
        opening(ticket(3, sla=due(5, 60), first_response_at=at(1))),
        opening(ticket(4, sla=due(1, 2), status="resolved")),  # done: in no SLA order
        opening(ticket(5)),  # no due time yet
        opening(ticket(6, sla=due(20, 300), status="waiting_on_client")),
    )
    plan = ListPlan(queues("by_queue_sla", ("billing",)), TicketFilter(), newest_first=False)
    for limit in (1, 2, 10):
        assert every_page(storage, plan, limit) == ["t2", "t6", "t1", "t3"]
    assert storage.repository.tickets_of_contact("nobody") == []


def test_a_list_cursor_fits_only_the_list_it_came_from(twelve: Storage) -> None:
    every = (None, "billing", "technical")
    updated = ListPlan(queues("by_queue_updated", every), TicketFilter(), newest_first=True)
    cursor = twelve.repository.list_page(updated, 2, None).cursor
    assert cursor is not None
    # The same list goes on from it, whatever its filter
    twelve.repository.list_page(updated, 2, cursor)
    for other in (
        ListPlan(queues("by_queue_created", every), TicketFilter(), newest_first=True),
        ListPlan(queues("by_queue_updated", ("billing",)), TicketFilter(), newest_first=True),
    ):
        with pytest.raises(Invalid):
            twelve.repository.list_page(other, 2, cursor)
    for made_up in ("not-a-cursor", encode_cursor({}), encode_cursor([1]), encode_cursor({"9": 1})):
        with pytest.raises(Invalid):
            twelve.repository.list_page(updated, 2, made_up)


def test_the_tickets_of_a_contact_are_read_oldest_first(twelve: Storage) -> None:
    assert [t.id for t in twelve.repository.tickets_of_contact("contact-1")] == ["t0", "t5", "t10"]


def test_a_merge_records_its_copy_job_with_the_tickets_or_not_at_all(storage: Storage) -> None:
    repository = storage.repository
    for n in (1, 2):
        repository.commit(opening(ticket(n)))
    source, target = stored(storage, "t1"), stored(storage, "t2")
    job = MergeCopy(source_id="t1", target_id="t2")
    # A merge refused because the source moved records no job
    repository.commit(change(source, 1, priority="high"))
    with pytest.raises(StaleVersion):
        repository.commit_merge(job, change(target, 2), change(source, 2, status="closed"))
    assert repository.merge_copy("t1") is None
    # A merge that commits records the job, pending from the start
    source = stored(storage, "t1")
    repository.commit_merge(job, change(target, 3), change(source, 3, status="closed"))
    assert repository.merge_copy("t1") == job


def test_copy_progress_only_moves_on_and_ends_with_the_job(storage: Storage) -> None:
    repository = storage.repository
    for n in (1, 2):
        repository.commit(opening(ticket(n)))
    job = MergeCopy(source_id="t1", target_id="t2")
    repository.commit_merge(job, change(stored(storage, "t2"), 1))
    repository.copy_messages([message("t1", minutes) for minutes in (1, 2, 3)])
    _, first_page = repository.get_with_messages("t1", 1, None)
    _, second_page = repository.get_with_messages("t1", 2, first_page.cursor)
    # Progress is recorded, then a slower run's older progress is refused
    ahead = replace(job, cursor=second_page.cursor, copied=3)
    assert repository.record_merge_copy(ahead)
    assert not repository.record_merge_copy(replace(job, cursor=first_page.cursor, copied=1))
    assert repository.merge_copy("t1") == ahead
    # Once done, nothing more is recorded
    done = replace(ahead, copied=4, done=True)
    assert repository.record_merge_copy(done)
    assert not repository.record_merge_copy(replace(done, copied=5, done=False))
    assert repository.merge_copy("t1") == done
    # A job never recorded takes no progress
    assert not repository.record_merge_copy(MergeCopy(source_id="t9", target_id="t2"))
    assert repository.merge_copy("t9") is None


def test_a_recount_of_open_tickets_agrees_with_the_counts_commits_keep(storage: Storage) -> None:
    repository = storage.repository
    for n, status in enumerate(["open", "waiting_on_client", "in_progress", "resolved"], 1):
        repository.commit(opening(ticket(n, n, assignee=ALICE, status=status)))
    repository.commit(change(stored(storage, "t1"), 10, assignee=BOB))

    repository.recount_open([ALICE, BOB, "carol@example.com"])

    loads = repository.loads([ALICE, BOB, "carol@example.com"])
    assert [load.open_tickets for load in loads.values()] == [2, 1, 0]  # resolved is not open


# --- filing for the automations under new timings ------------------------------------------------


def filed_in(repository: TicketRepository, queue: str) -> list[tuple[str, datetime | None]]:
    """The queue's tickets with their due times as filed, read two at a time."""
    found: list[tuple[str, datetime | None]] = []
    cursor = None
    while True:
        page = repository.filed_steps(queue, 2, cursor)
        assert len(page.items) <= 2
        found += [(filed.ticket.id, filed.due_at) for filed in page.items]
        if page.cursor is None:
            return found
        cursor = page.cursor


def test_tickets_are_filed_again_under_new_timings_unless_changed_meanwhile(
    storage: Storage,
) -> None:
    for n in (3, 1, 2):
        storage.repository.commit(opening(ticket(n, 10 * n, status="resolved")))
    storage.repository.commit(opening(ticket(4, 0, status="waiting_on_client")))
    resolved = queue_key("billing", "resolved")
    # Resolved while the auto-close was off: in the queue, least recently changed first, unfiled
    assert filed_in(storage.repository, resolved) == [("t1", None), ("t2", None), ("t3", None)]

    repository = storage.retimed(AutomationTimings(auto_close_after=timedelta(days=1)))
    as_read = {
        filed.ticket.id: filed.ticket for filed in repository.filed_steps(resolved, 9, None).items
    }
    repository.commit(change(as_read["t2"], 60, priority="high"))  # filed by its own write
    assert repository.refile(as_read["t1"])
    assert not repository.refile(as_read["t2"])  # changed since it was read: left as written

    assert filed_in(repository, resolved) == [
        ("t1", at(10) + timedelta(days=1)),
        ("t3", None),
        ("t2", at(60) + timedelta(days=1)),
    ]
    # Filing again is no change of the ticket: its revision and version stay
    assert stored(storage, "t1") == as_read["t1"]
    # And under timings that file nothing, it leaves the index
    assert storage.retimed(AutomationTimings()).refile(as_read["t1"])
    assert filed_in(repository, resolved)[0] == ("t1", None)


def test_the_automations_filing_is_stored_only_over_the_record_it_follows(
    storage: Storage,
) -> None:
    repository = storage.repository
    assert repository.automation_filing() == AutomationFiling()
    # Timings read back exactly, fractions of days included
    timings = AutomationTimings(timedelta(days=0.1), None, timedelta(days=5))
    begun = AutomationFiling(None, timings, queue="billing#resolved", cursor="c1", revision=1)
    assert repository.record_automation_filing(begun)
    assert repository.automation_filing() == begun
    # Another run's first record, or a record that skips one, is refused
    assert not repository.record_automation_filing(replace(begun, cursor="c2"))
    assert not repository.record_automation_filing(replace(begun, revision=3))
    done = AutomationFiling(filed=timings, revision=2)
    assert repository.record_automation_filing(done)
    assert not repository.record_automation_filing(replace(begun, revision=2))
    assert repository.automation_filing() == done
