"""The tickets service's use cases on the in-memory storage: numbering, the statuses agents set and
the ones that follow from messages, the conversation and history, mail in, lists (filters, sorts,
paging), who sees and changes what, assignment and moves, departments and their counts, the events
announced and the other services' updates. Time is a fixed clock the desk moves, nothing sleeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from services.tickets.logic import merge_tickets as merge_tickets_module
from services.tickets.logic.agent_directory import Agent
from services.tickets.logic.agents import (
    AgentChange,
    Invitation,
    change_agent,
    invite_agent,
    list_agents,
)
from services.tickets.logic.change_ticket import ExpectedVersion
from services.tickets.logic.departments import (
    add_member,
    create_department,
    remove_member,
    update_department,
)
from services.tickets.logic.erase_requester import ERASED_REQUESTER, anonymise_requester
from services.tickets.logic.find_ticket import conversation, history
from services.tickets.logic.list_tickets import TicketQuery, list_tickets, queue_counts
from services.tickets.logic.merge_copy import COPY_STEP, resume_merge_copy
from services.tickets.logic.merge_tickets import merge_tickets
from services.tickets.logic.system_updates import (
    link_contact,
    move_contact,
    record_mail_outcome,
    record_sla_event,
    set_due_times,
)
from services.tickets.logic.ticket import STATUSES, Status, Ticket
from shared.clock import isoformat
from shared.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from shared.events.catalogue import (
    EmailBounced,
    EmailDelivered,
    EmailDeliveryEvent,
    EmailSent,
    RecipientOutcome,
    SlaBreached,
    SlaMet,
    SlaTargetEvent,
    SlaWarning,
)
from shared.identity import Caller
from tests.tickets_desk import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    CLIENT,
    T0,
    UNKNOWN_ID,
    UNKNOWN_NUMBER,
    Desk,
    fields,
    invalid,
    refusal,
)

ZERO = dict.fromkeys(STATUSES, 0)
PRIORITIES = ("low", "medium", "high", "urgent")


@pytest.fixture
def desk() -> Desk:
    return Desk()


@pytest.fixture
def billing(desk: Desk) -> Ticket:
    """Billing (Alice) and Technical (Bob), and an urgent Billing ticket tagged refund."""
    desk.billing_and_technical()
    return desk.open("billing", ALICE, priority="urgent", tags=["refund"])


def unchanged(desk: Desk, ticket: Ticket) -> None:
    """The ticket as stored is the one given, and its conversation is its first message."""
    assert desk.repository.get(ticket.id) == ticket
    assert len(desk.messages(ticket)) == 1


# --- numbers, finding, a new ticket -----------------------------------------------------------


def test_numbers_count_up_with_prefix_and_padding_and_find_the_ticket(desk: Desk) -> None:
    # Given an agent of Billing
    desk.billing_and_technical()
    # When they open two tickets
    first, second = desk.open(as_=ALICE), desk.open(as_=ALICE, subject="Second")
    # Then the numbers follow each other, and each is found by its id and by its number
    assert (first.number, second.number) == ("TKT-0001", "TKT-0002")
    assert first.id != second.id
    assert desk.get(first.id, ALICE) == desk.get("TKT-0001", ALICE) == first
    assert desk.get(second.id, ALICE) == desk.get("TKT-0002", ALICE) == second
    assert isinstance(refusal(lambda: desk.get("TKT-0003", ALICE)), NotFound)


def test_numbers_take_the_configured_prefix_and_width() -> None:
    desk = Desk(prefix="HD", width=6)
    first, second = desk.open(None), desk.open(None)
    assert (first.number, second.number) == ("HD-000001", "HD-000002")
    assert desk.get("HD-000002").id == second.id


def test_a_new_ticket_keeps_its_tags_once_in_order_and_its_copies_in_lower_case(
    desk: Desk,
) -> None:
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE, tags=["refund", "invoice", "refund"], cc=["Carol@Example.com"])
    assert (ticket.tags, ticket.cc) == (["invoice", "refund"], ["carol@example.com"])
    assert (ticket.status, ticket.version, ticket.assignee) == ("open", 1, None)
    assert ticket.created_at == ticket.updated_at == desk.clock.now()
    assert ticket.first_response_at is None
    # The conversation starts with the body, the history with the opening, by the agent
    [message] = desk.messages(ticket)
    assert (message.body, message.visibility, message.author.type) == (
        "I was charged twice in March.",
        "public",
        "agent",
    )
    [created] = desk.history(ticket)
    assert (created.field, created.new, created.actor) == ("created", "TKT-0001", ALICE.email)


# --- statuses set by hand ----------------------------------------------------------------------


def test_an_agent_sets_any_status_by_hand(desk: Desk) -> None:
    # Given an open ticket
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE)
    path: list[Status] = [
        "waiting_on_client",
        "in_progress",
        "resolved",
        "open",
        "in_progress",
        "closed",
    ]
    # When the agent moves it through every status by hand
    for status in path:
        ticket = desk.change(ticket, ALICE, status=status)
        # Then each status is the one they chose
        assert ticket.status == desk.get(ticket).status == status
    # And the history names them for each step, old and new
    olds = ["open", *path[:-1]]
    assert desk.changes(ticket, "status") == [
        (old, new, ALICE.email) for old, new in zip(olds, path, strict=True)
    ]
    assert ticket.version == 1 + len(path)


def test_resolving_and_closing_record_when_it_happened(desk: Desk) -> None:
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE)
    # When it is resolved, the time of resolution is set, and it is not closed
    resolved = desk.change(ticket, ALICE, status="resolved")
    assert resolved.resolved_at == desk.clock.now()
    assert resolved.closed_at is None
    # When it is closed, the time of closing is set too, and the resolution time stays
    closed = desk.change(ticket, ALICE, status="closed")
    assert closed.closed_at == desk.clock.now() > resolved.resolved_at
    assert closed.resolved_at == resolved.resolved_at
    assert desk.get(ticket).closed_at == closed.closed_at


def test_a_closed_ticket_is_final(desk: Desk) -> None:
    # Given a closed ticket
    desk.billing_and_technical()
    ticket = desk.change(desk.open(as_=ALICE), ALICE, status="closed")
    before = (desk.get(ticket), desk.messages(ticket), desk.history(ticket))
    # When an agent sets it back to open, replies on it, or adds a note that reopens it
    # Then each is a conflict
    for refused in (
        lambda: desk.change(ticket, ALICE, status="open"),
        lambda: desk.post(ticket, "Hello again", ALICE),
        lambda: desk.post(ticket, "Reopen?", ALICE, "internal", status="open"),
    ):
        assert isinstance(refusal(refused), Conflict)
    # And nothing changed: not the ticket, not the conversation, not the history
    assert (desk.get(ticket), desk.messages(ticket), desk.history(ticket)) == before


def test_an_agent_takes_a_ticket_by_assigning_it_to_themselves(desk: Desk) -> None:
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE)
    taken = desk.change(ticket, ALICE, assignee=ALICE.email, status="in_progress")
    assert (taken.assignee, taken.status) == (ALICE.email, "in_progress")
    assert desk.get(ticket).assignee == ALICE.email
    assert desk.listed(ALICE, assignee="me") == [ticket.id]


# --- statuses that follow from messages --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [("waiting_on_client", "open"), ("resolved", "open"), ("in_progress", "in_progress")],
)
def test_a_client_message_reopens_a_ticket_that_waited_or_was_resolved(
    desk: Desk, status: Status, expected: Status
) -> None:
    # Given a ticket in `status`, set by the agent
    desk.billing_and_technical()
    ticket = desk.change(desk.open(as_=ALICE), ALICE, status=status)
    # When the client writes to it
    desk.mail(ticket_id=ticket.id, text="Still broken.")
    # Then the ticket has the client's message
    last = desk.messages(ticket)[-1]
    assert (last.body, last.author.type, last.author.email) == (
        "Still broken.",
        "client",
        CLIENT.email,
    )
    # And its status is `expected`; a change is the system's in the history
    assert desk.get(ticket).status == expected
    automatic = [(status, "open", "system")] if expected != status else []
    assert desk.changes(ticket, "status") == [("open", status, ALICE.email), *automatic]


@pytest.mark.parametrize("status", ["open", "in_progress"])
def test_a_public_reply_hands_the_ticket_to_the_client(desk: Desk, status: Status) -> None:
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE)
    if status != "open":
        ticket = desk.change(ticket, ALICE, status=status)
    # When the agent replies to the client
    replied, message = desk.post(ticket, "Could you send the invoice number?", ALICE)
    # Then the ticket waits on the client, and the history shows the system made that change
    assert (replied.status, message.visibility) == ("waiting_on_client", "public")
    assert desk.get(ticket).status == "waiting_on_client"
    assert desk.changes(ticket, "status")[-1] == (status, "waiting_on_client", "system")


def test_a_reply_that_names_a_status_sets_that_status_as_the_agent(desk: Desk) -> None:
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE)
    replied, _ = desk.post(ticket, "Refunded, sorry.", ALICE, status="resolved")
    assert (replied.status, replied.resolved_at) == ("resolved", desk.clock.now())
    assert desk.get(ticket).status == "resolved"
    assert desk.changes(ticket, "status") == [("open", "resolved", ALICE.email)]


@pytest.mark.parametrize("status", ["open", "in_progress", "waiting_on_client", "resolved"])
def test_an_internal_note_changes_no_status_and_is_no_response(desk: Desk, status: Status) -> None:
    desk.billing_and_technical()
    ticket = desk.change(desk.open(as_=ALICE), ALICE, status=status)
    changes_before = desk.changes(ticket, "status")
    noted, _ = desk.post(ticket, "Check with finance first.", ALICE, "internal")
    assert noted.status == desk.get(ticket).status == status
    assert desk.changes(ticket, "status") == changes_before
    assert desk.get(ticket).first_response_at is None


def test_first_response_is_the_first_public_agent_reply_only(desk: Desk) -> None:
    # Given a ticket opened by an agent: opening it is not a response
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE)
    # When a note is added and the client writes, still no response has been given
    desk.post(ticket, "Looking into it.", ALICE, "internal")
    desk.mail(ticket_id=ticket.id)
    assert desk.get(ticket).first_response_at is None
    # When the agent replies publicly, that reply's time is the first response
    first, message = desk.post(ticket, "We are on it.", ALICE)
    assert first.first_response_at == message.created_at
    # And a second reply does not move it
    second, _ = desk.post(ticket, "Refund sent.", ALICE)
    assert second.first_response_at == desk.get(ticket).first_response_at == message.created_at


# --- conversation and history ------------------------------------------------------------------


def test_the_conversation_reads_oldest_first_with_notes_and_client_messages(desk: Desk) -> None:
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE)
    desk.post(ticket, "Finance says yes.", ALICE, "internal")
    desk.post(ticket, "A refund is on its way.", ALICE)
    desk.mail(ticket_id=ticket.id, text="Thank you!")
    messages = desk.messages(ticket, ALICE)
    assert [(m.body, m.visibility, m.author.type) for m in messages] == [
        ("I was charged twice in March.", "public", "agent"),
        ("Finance says yes.", "internal", "agent"),
        ("A refund is on its way.", "public", "agent"),
        ("Thank you!", "public", "client"),
    ]


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_through_the_conversation_gives_every_message_once(desk: Desk, limit: int) -> None:
    # Given a ticket with seven messages (the first and six more)
    desk.billing_and_technical()
    ticket = desk.open(as_=ALICE)
    for number in range(6):
        desk.post(ticket, f"message {number}", ALICE, "internal")
    everything = [m.id for m in desk.messages(ticket)]
    # When it is read page by page (by its number, as the console links it)
    pages, cursor = [], None
    for _ in range(10):
        found, page = conversation(ticket.number, ALICE, desk.deps, limit, cursor)
        assert found.id == ticket.id
        pages.append([m.id for m in page.items])
        cursor = page.cursor
        if cursor is None:
            break
    # Then no page is longer than asked, and together they are the conversation, once, in order
    assert all(len(page) <= limit for page in pages)
    assert [m for page in pages for m in page] == everything
    assert len(everything) == 7


def test_the_history_lists_every_change_and_pages_through_it(desk: Desk) -> None:
    # Given a ticket changed in several ways by an agent
    desk.billing_and_technical()
    colleague = Caller("carol@example.com", "agent")
    add_member("billing", colleague.email, ADMIN, desk.deps)
    ticket = desk.open(as_=ALICE, tags=["invoice"], priority="high")
    desk.change(ticket, ALICE, priority="urgent")
    desk.change(ticket, ALICE, assignee=colleague.email, status="in_progress")
    desk.change(ticket, ALICE, tags=["invoice", "refund"])
    desk.post(ticket, "Refund approved.", ALICE)
    # When the history is read, then it has every change: field, old, new, who and when
    entries = desk.history(ticket, ALICE)
    assert [(e.field, e.old, e.new, e.actor) for e in entries] == [
        ("created", None, "TKT-0001", ALICE.email),
        ("priority", "high", "urgent", ALICE.email),
        ("status", "open", "in_progress", ALICE.email),
        ("assignee", None, colleague.email, ALICE.email),
        ("tags", ["invoice"], ["invoice", "refund"], ALICE.email),
        ("status", "in_progress", "waiting_on_client", "system"),
    ]
    # And paging with any page size gives each entry once, in the same order
    for limit in (1, 2, 4):
        pages, cursor = [], None
        while True:
            page = history(ticket.number, ALICE, desk.deps, limit, cursor)
            assert len(page.items) <= limit
            pages += page.items
            if (cursor := page.cursor) is None:
                break
        assert pages == entries


# --- mail --------------------------------------------------------------------------------------


def test_mail_to_a_closed_ticket_opens_a_follow_up(desk: Desk) -> None:
    # Given a closed Billing ticket
    desk.billing_and_technical()
    closed = desk.change(desk.open(as_=ALICE), ALICE, status="closed")
    messages_before = desk.messages(closed)
    # When the client writes to it again
    follow_up = desk.mail(ticket_id=closed.id, text="It happened again.", subject="Re: again")
    # Then a new ticket continues it, in the same department, for the sender
    assert desk.get("TKT-0002") == follow_up
    assert (follow_up.follow_up_of, follow_up.department_id) == (closed.id, "billing")
    assert (follow_up.status, follow_up.requester) == ("open", CLIENT)
    [message] = desk.messages(follow_up)
    assert (message.body, message.author.type) == ("It happened again.", "client")
    # And the closed ticket is untouched
    assert desk.get(closed) == closed
    assert desk.messages(closed) == messages_before


def test_mail_without_a_thread_opens_a_ticket_in_its_department(desk: Desk) -> None:
    desk.billing_and_technical()
    sender = CLIENT.model_copy(update={"email": "zoe@example.org", "name": "Zoë"})
    desk.mail(department_id="billing", sender=sender, subject="Refund", text="Please refund.")
    [ticket_id] = desk.listed(ALICE, department_id="billing")
    ticket = desk.get(ticket_id)
    assert (ticket.number, ticket.subject, ticket.status) == ("TKT-0001", "Refund", "open")
    assert (ticket.department_id, ticket.requester, ticket.follow_up_of) == (
        "billing",
        sender,
        None,
    )
    [message] = desk.messages(ticket)
    assert (message.body, message.visibility) == ("Please refund.", "public")
    assert (message.author.type, message.author.email) == ("client", "zoe@example.org")
    # The system opened it
    [created] = desk.history(ticket)
    assert (created.field, created.actor) == ("created", "system")


def test_one_mail_received_twice_opens_one_ticket_per_department(desk: Desk) -> None:
    desk.billing_and_technical()
    # When the same mail arrives in two events (a replayed outbox, a retried write)
    first = desk.mail(department_id="billing", message_id="<same@example.org>", text="Locked")
    again = desk.mail(department_id="billing", message_id="<same@example.org>", text="Locked")
    # Then one ticket was opened, with one message
    assert again == first
    assert [m.body for m in desk.messages(first)] == ["Locked"]
    assert desk.listed() == [first.id]
    # And the same mail to no department is another ticket
    other = desk.mail(department_id=None, message_id="<same@example.org>", text="Locked")
    assert other.id != first.id
    assert len(desk.listed()) == 2


def test_mail_for_an_archived_department_is_filed_without_one(desk: Desk) -> None:
    desk.billing_and_technical()
    update_department("billing", None, True, ADMIN, desk.deps)
    ticket = desk.mail(department_id="billing", text="Anyone?")
    assert ticket.department_id is None
    assert desk.listed(department_id="none") == [ticket.id]


# --- lists: filters ----------------------------------------------------------------------------


def sla_event(
    kind: type[SlaTargetEvent], ticket: Ticket, target: str = "first_response"
) -> SlaTargetEvent:
    due = T0.isoformat()
    return kind(ticket_id=ticket.id, target=target, due_at=due, at=due)


def thirty_tickets(desk: Desk) -> None:
    """Twelve Billing, twelve Technical and six department-less tickets in every status, some
    assigned, changed in an order unlike the order they were opened in."""
    desk.billing_and_technical()
    opened = []
    for i in range(30):
        department = ("billing", "billing", "technical", "technical", None)[i % 5]
        tags = ["vip"] if i % 3 == 0 else []
        opened.append(desk.open(department, priority=PRIORITIES[i % 4], tags=tags))
    for step in range(30):
        i = (step * 7) % 30
        ticket = opened[i]
        status = STATUSES[(i // 2) % 5]
        patch: dict[str, Any] = {} if status == "open" else {"status": status}
        if ticket.department_id == "billing" and i % 4 == 0:
            patch["assignee"] = ALICE.email
        if ticket.department_id == "technical" and i % 4 == 1:
            patch["assignee"] = BOB.email
        if patch:
            desk.change(ticket, **patch)


def test_a_list_shows_the_tickets_in_any_of_the_statuses_asked_for(desk: Desk) -> None:
    # Given one Billing ticket in each status
    desk.billing_and_technical()
    tickets = [desk.open("billing") for _ in STATUSES]
    for ticket, status in zip(tickets, STATUSES, strict=True):
        desk.change(ticket, status=status)
    # When the list asks for two statuses, then one, then all
    # Then each shows exactly the tickets in those statuses, most recently changed first
    two = desk.listed(statuses=("open", "resolved"))
    assert two == desk.expected(lambda t: t.status in ("open", "resolved"))
    assert len(two) == 2
    assert desk.listed(statuses=("waiting_on_client",)) == [tickets[2].id]
    assert desk.listed() == desk.expected()


def test_priority_and_tag_filters_keep_only_matching_tickets(desk: Desk) -> None:
    # Given tickets of several priorities and tags, in two departments and none
    desk.billing_and_technical()
    desk.open("billing", priority="high", tags=["vip"])
    desk.open("technical", priority="high")
    desk.open(None, priority="low", tags=["vip", "refund"])
    desk.open("billing", priority="urgent", tags=["refund"])
    retagged = desk.open("technical", priority="low")
    desk.change(retagged, tags=["vip"])
    # When the list is filtered by priority, by tag and by both
    # Then only the matching tickets show, most recently changed first
    high = desk.listed(priority="high")
    assert high == desk.expected(lambda t: t.priority == "high")
    assert len(high) == 2
    vip = desk.listed(tag="vip")
    assert vip == desk.expected(lambda t: "vip" in t.tags)
    assert vip[0] == retagged.id  # tagged last, so changed most recently
    low_vip = desk.listed(priority="low", tag="vip")
    assert low_vip == desk.expected(lambda t: t.priority == "low" and "vip" in t.tags)
    assert len(low_vip) == 2
    assert desk.listed(priority="medium") == []


def test_the_department_filter_and_none_which_only_admins_see(desk: Desk) -> None:
    # Given tickets in Billing, in Technical and without a department, in several statuses
    desk.billing_and_technical()
    billing = [desk.open("billing") for _ in range(3)]
    technical = [desk.open("technical") for _ in range(2)]
    loose = [desk.open(None) for _ in range(2)]
    desk.change(billing[0], status="in_progress")
    desk.change(technical[1], status="closed")
    desk.change(loose[0], status="waiting_on_client")
    # When an admin filters by department, each list holds that department's tickets
    in_billing = desk.listed(department_id="billing")
    assert in_billing == desk.expected(lambda t: t.department_id == "billing")
    assert len(in_billing) == 3
    in_technical = desk.listed(department_id="technical")
    assert in_technical == desk.expected(lambda t: t.department_id == "technical")
    without = desk.listed(department_id="none")
    assert without == desk.expected(lambda t: t.department_id is None)
    assert len(without) == 2
    # And an agent sees only their own departments: never another's, never department-less ones
    assert desk.listed(ALICE) == in_billing
    assert desk.listed(ALICE, department_id="billing") == in_billing
    assert desk.listed(ALICE, department_id="none") == []
    assert desk.listed(ALICE, department_id="technical") == []
    assert desk.listed(BOB) == in_technical


def test_the_assignee_filter_for_me_none_and_an_agent(desk: Desk) -> None:
    # Given tickets assigned to Alice (Billing) and Bob (Technical), and unassigned ones
    desk.billing_and_technical()
    b1, b2, b3 = (desk.open("billing") for _ in range(3))
    t1, t2 = (desk.open("technical") for _ in range(2))
    loose = desk.open(None)
    desk.change(b1, assignee=ALICE.email)
    desk.change(t1, assignee=BOB.email)
    desk.change(b3, assignee=ALICE.email, status="in_progress")
    desk.change(b1, status="waiting_on_client")
    # Then "me" is the caller's tickets in every status, most recently changed first
    assert desk.listed(ALICE, assignee="me") == [b1.id, b3.id]
    assert desk.listed(BOB, assignee="me") == [t1.id]
    assert desk.listed(assignee="Alice@Example.com") == [b1.id, b3.id]
    # And "none" is the unassigned tickets the caller may see
    unassigned = desk.listed(assignee="none")
    assert unassigned == desk.expected(lambda t: t.assignee is None)
    assert set(unassigned) == {b2.id, t2.id, loose.id}
    assert desk.listed(ALICE, assignee="none") == [b2.id]
    # And an agent never sees tickets of departments they do not belong to
    assert desk.listed(ALICE, assignee=BOB.email) == []
    assert desk.listed(BOB, assignee=ALICE.email) == []


def test_the_contact_filter_shows_the_tickets_linked_to_a_contact(desk: Desk) -> None:
    # Given tickets in two departments, whose requesters were linked to contacts
    desk.billing_and_technical()
    first, second, other, unlinked = (desk.open(d) for d in ("billing", "technical") * 2)
    link_contact(first.id, "contact-1", desk.deps)
    link_contact(second.id, "contact-1", desk.deps)
    link_contact(other.id, "contact-2", desk.deps)
    # When the list is filtered by contact (newest ticket first)
    # Then it shows that contact's tickets only, and an agent only those of their departments
    assert desk.listed(contact_id="contact-1", sort="created") == [second.id, first.id]
    assert desk.listed(ALICE, contact_id="contact-1", sort="created") == [first.id]
    assert desk.listed(BOB, contact_id="contact-1", sort="created") == [second.id]
    assert desk.listed(CAROL, contact_id="contact-1", sort="created") == []
    open_only = desk.listed(contact_id="contact-2", statuses=("open",), sort="created")
    assert open_only == [other.id]
    assert unlinked.id not in desk.listed(contact_id="contact-2", sort="created")
    assert desk.listed(contact_id="contact-9", sort="created") == []


@pytest.mark.parametrize("query", [{"contact_id": "contact-1"}, {"assignee": "me"}])
def test_a_contact_or_assignee_list_sorts_only_one_way(desk: Desk, query: dict[str, Any]) -> None:
    desk.billing_and_technical()
    assert invalid(refusal(lambda: desk.listed(ALICE, sort="sla_due", **query)), "query.sort")


def test_the_sla_filter_shows_tickets_by_their_sla_state(desk: Desk) -> None:
    # Given tickets whose targets the SLA service reported on
    desk.billing_and_technical()
    warned, breached, worst, met, quiet = (desk.open("billing") for _ in range(5))
    for event in (
        sla_event(SlaWarning, warned),
        sla_event(SlaBreached, breached),
        sla_event(SlaWarning, worst),
        sla_event(SlaMet, met, target="resolution"),
        sla_event(SlaBreached, worst),
    ):
        record_sla_event(event, desk.deps)
    # When the list is filtered by SLA state, then each state shows its tickets
    assert desk.listed(sla="at_risk") == [warned.id]
    assert desk.listed(sla="breached") == [worst.id, breached.id]  # still newest change first
    assert desk.listed(sla="met") == [met.id]
    assert quiet.id not in desk.listed(sla="at_risk") + desk.listed(sla="breached")


def test_combined_filters_keep_only_tickets_matching_all_of_them(desk: Desk) -> None:
    # Given a mix of tickets across departments, statuses, priorities, tags and assignees
    desk.billing_and_technical()
    for i in range(16):
        department = ("billing", "technical")[i % 2]
        tags = ["vip"] if i % 6 != 2 else []
        ticket = desk.open(department, priority=("high", "low")[i // 2 % 2], tags=tags)
        status = ("open", "in_progress", "resolved", "open")[i // 4]
        patch: dict[str, Any] = {} if status == "open" else {"status": status}
        if department == "billing" and i % 5 < 3:
            patch["assignee"] = ALICE.email
        if patch:
            desk.change(ticket, **patch)
    # When several filters are given at once, then only tickets matching every one show
    answer = desk.listed(
        department_id="billing", statuses=("open", "in_progress"), priority="high", tag="vip"
    )
    assert answer == desk.expected(
        lambda t: (
            t.department_id == "billing"
            and t.status in ("open", "in_progress")
            and t.priority == "high"
            and "vip" in t.tags
        )
    )
    assert len(answer) == 3
    mine = desk.listed(ALICE, assignee="me", priority="high", tag="vip", statuses=("open",))
    assert mine == desk.expected(
        lambda t: (
            t.assignee == ALICE.email
            and t.priority == "high"
            and "vip" in t.tags
            and t.status == "open"
        )
    )
    assert len(mine) == 2


# --- lists: sorting and paging -----------------------------------------------------------------


def test_lists_sort_by_last_change_or_by_creation_newest_first(desk: Desk) -> None:
    # Given four tickets, two of them changed after all were opened
    desk.billing_and_technical()
    t1, t2, t3, t4 = (desk.open(department) for department in ("billing", None) * 2)
    desk.change(t2, priority="high")
    desk.change(t1, status="in_progress")
    # Then the last changed comes first, or the last opened
    assert desk.listed() == desk.listed(sort="updated") == [t1.id, t2.id, t4.id, t3.id]
    assert desk.listed(sort="created") == [t4.id, t3.id, t2.id, t1.id]


def test_lists_sort_by_sla_due_time_soonest_first(desk: Desk) -> None:
    # Given tickets whose due times the SLA service announced, one already answered
    desk.billing_and_technical()
    later, soonest, second, answered, resolved = (desk.open("billing") for _ in range(5))
    desk.post(answered, "On it.")
    desk.change(resolved, status="resolved")

    def due(ticket: Ticket, first: float, resolution: float) -> None:
        hour = timedelta(hours=1)
        set_due_times(ticket.id, T0 + first * hour, T0 + resolution * hour, 1, desk.deps)

    due(later, 3, 24)
    due(soonest, 1, 24)
    due(second, 2, 24)
    due(answered, 0.5, 5)  # the first response is done: its resolution target is what matters
    due(resolved, 0.1, 0.2)  # done: in no SLA order at all
    # Then the soonest due comes first, the answered ticket by its resolution due time
    order = [soonest.id, second.id, later.id, answered.id]
    assert desk.listed(sort="sla_due") == order
    assert desk.listed(sort="sla_due", department_id="billing") == order
    # And paging one at a time gives the same order
    assert desk.every_page(1, sort="sla_due") == order


def test_paging_through_one_queue_returns_every_ticket_once_in_order(desk: Desk) -> None:
    # Given fifteen open Billing tickets (one queue), some changed out of order
    desk.billing_and_technical()
    opened = [desk.open("billing", priority=PRIORITIES[i % 4]) for i in range(15)]
    for i in (2, 9, 0, 5):  # none of them urgent yet
        desk.change(opened[i], priority="urgent")
    query: dict[str, Any] = {"department_id": "billing", "statuses": ("open",)}
    # When the pages are followed to the end, at several page sizes and both sorts
    for limit in (1, 4, 7, 15, 100):
        # Then each ticket shows exactly once, in the order of the whole list
        assert desk.every_page(limit, **query) == desk.expected(), limit
        assert desk.every_page(limit, sort="created", **query) == desk.expected(sort="created")
    # And a filter applied while paging still returns every match once
    urgent = desk.expected(lambda t: t.priority == "urgent")
    assert len(urgent) >= 4
    assert desk.every_page(2, priority="urgent", **query) == urgent


def test_paging_an_admins_view_of_every_department_merges_them_in_order(desk: Desk) -> None:
    # Given thirty tickets in two departments and none, in every status, some assigned
    thirty_tickets(desk)
    # When an admin pages through every department at several page sizes
    for limit in (1, 4, 7, 29, 30, 100):
        # Then every ticket shows once, most recently changed first, across all the queues
        assert desk.every_page(limit) == desk.expected(), limit
    for limit in (3, 8):
        assert desk.every_page(limit, sort="created") == desk.expected(sort="created"), limit
    # And filters spanning several queues page just as well
    some = desk.every_page(2, statuses=("open", "closed"), priority="high")
    assert some == desk.expected(lambda t: t.status in ("open", "closed") and t.priority == "high")
    assert desk.every_page(3, assignee="none") == desk.expected(lambda t: t.assignee is None)
    # And an agent's pages hold exactly their department's tickets
    alice = desk.every_page(4, ALICE)
    assert alice == desk.expected(lambda t: t.department_id == "billing")
    assert len(alice) == 12
    assert len(set(desk.every_page(6))) == 30


def test_a_cursor_of_one_sort_is_refused_by_another(desk: Desk) -> None:
    desk.billing_and_technical()
    for _ in range(3):
        desk.open("billing")
    page = list_tickets(TicketQuery(sort="created"), ADMIN, desk.deps, 1, None)
    assert page.cursor is not None
    refused = refusal(lambda: list_tickets(TicketQuery(), ADMIN, desk.deps, 1, page.cursor))
    assert fields(refused) == ["query.cursor"]


# --- who sees and works a ticket ---------------------------------------------------------------

Action = Callable[[Desk, str, Caller], object]
ACTIONS: dict[str, Action] = {
    "read": lambda desk, key, who: desk.get(key, who),
    "messages": lambda desk, key, who: desk.messages(key, who),
    "history": lambda desk, key, who: desk.history(key, who),
    "change": lambda desk, key, who: desk.change(key, who, priority="low"),
    "reply": lambda desk, key, who: desk.post(key, "On it.", who),
    "note": lambda desk, key, who: desk.post(key, "Check the ledger.", who, "internal"),
}
KEYS = {"id": UNKNOWN_ID, "number": UNKNOWN_NUMBER}  # a missing ticket, by each kind of key


def key_of(ticket: Ticket, kind: str) -> str:
    return ticket.id if kind == "id" else ticket.number


@pytest.mark.parametrize("kind", list(KEYS))
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", [ADMIN, ALICE], ids=["admin", "member"])
def test_admins_and_members_read_and_work_the_ticket(
    desk: Desk, billing: Ticket, who: Caller, action: str, kind: str
) -> None:
    # When an admin or a Billing agent acts on the Billing ticket
    done = ACTIONS[action](desk, key_of(billing, kind), who)
    # Then it works, on that very ticket
    if isinstance(done, tuple):  # posted: the ticket and the message
        done = done[0]
    if isinstance(done, Ticket):
        assert done.id == billing.id
    else:
        assert isinstance(done, list)
        assert {item.ticket_id for item in done} == {billing.id}
        assert action != "history" or done[0].field == "created"


@pytest.mark.parametrize("kind", list(KEYS))
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", [BOB, CAROL], ids=["other-department", "no-department"])
def test_a_hidden_ticket_is_refused_exactly_like_a_missing_one(
    desk: Desk, billing: Ticket, who: Caller, action: str, kind: str
) -> None:
    # When an agent outside Billing acts on its ticket, and on a ticket that does not exist
    sent = key_of(billing, kind)
    hidden = refusal(lambda: ACTIONS[action](desk, sent, who))
    missing = refusal(lambda: ACTIONS[action](desk, KEYS[kind], who))
    # Then both are the same "not found", but for the key the caller sent
    assert isinstance(hidden, NotFound)
    assert hidden.to_problem() == {
        **missing.to_problem(),
        "detail": missing.detail.replace(KEYS[kind], sent),
    }
    # And nothing changed on it
    unchanged(desk, billing)


def test_a_stale_version_from_a_non_member_is_still_not_found(desk: Desk, billing: Ticket) -> None:
    stale_header, stale_body = ExpectedVersion(7, "if-match"), ExpectedVersion(7, "body")
    # The member hears it is stale: a precondition for If-Match, a conflict for the body
    for expected, kind in ((stale_header, PreconditionFailed), (stale_body, Conflict)):
        answer = refusal(lambda e=expected: desk.change(billing, ALICE, e, priority="low"))
        assert type(answer) is kind
    # But an outsider sending the same hears only "not found"
    for who in (BOB, CAROL):
        for expected in (stale_header, stale_body):
            answer = refusal(lambda w=who, e=expected: desk.change(billing, w, e, priority="low"))
            assert isinstance(answer, NotFound)
    unchanged(desk, billing)


def test_a_closed_ticket_is_not_found_for_a_non_member_rather_than_final(
    desk: Desk, billing: Ticket
) -> None:
    closed = desk.change(billing, status="closed")
    attempts: list[Callable[[Caller], object]] = [
        lambda who: desk.change(closed, who, status="open"),
        lambda who: desk.post(closed, "Anything new?", who),
        lambda who: desk.post(closed, "Reopen?", who, "internal", status="open"),
    ]
    # The member hears the ticket is final; an outsider, that there is no such ticket
    assert [type(refusal(lambda a=a: a(ALICE))) for a in attempts] == [Conflict] * 3
    for who in (BOB, CAROL):
        assert [type(refusal(lambda a=a, w=who: a(w))) for a in attempts] == [NotFound] * 3
    unchanged(desk, closed)


@pytest.mark.parametrize(
    "patch",
    [{"assignee": BOB.email}, {"department_id": "nowhere"}, {"department_id": "technical"}],
)
def test_an_invalid_change_from_a_non_member_is_not_found_rather_than_invalid(
    desk: Desk, billing: Ticket, patch: dict[str, Any]
) -> None:
    answer = refusal(lambda: desk.change(billing, BOB, **patch))
    assert isinstance(answer, NotFound)
    assert answer.errors == []
    unchanged(desk, billing)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({}, None),
        ({"priority": "urgent"}, None),  # what it is already
        ({"tags": ["refund"]}, None),
        ({}, ExpectedVersion(1, "if-match")),  # the current version: "it exists"
    ],
    ids=["empty", "same-priority", "same-tags", "current-if-match"],
)
def test_a_change_that_changes_nothing_tells_a_non_member_nothing(
    desk: Desk, billing: Ticket, patch: dict[str, Any], expected: ExpectedVersion | None
) -> None:
    answer = refusal(lambda: desk.change(billing, BOB, expected, **patch))
    assert isinstance(answer, NotFound)
    # While the member gets the ticket back as it is
    assert desk.change(billing, ALICE, expected, **patch) == billing


# --- who sees what in lists and counts ---------------------------------------------------------

FILTERS: dict[str, tuple[dict[str, Any], int]] = {
    "all": ({}, 100),
    "open": ({"statuses": ("open",)}, 100),
    "three statuses": ({"statuses": ("open", "in_progress", "waiting_on_client")}, 100),
    "billing": ({"department_id": "billing"}, 100),
    "none": ({"department_id": "none"}, 100),
    "urgent": ({"priority": "urgent"}, 100),
    "tag": ({"tag": "refund"}, 100),
    "alice's": ({"assignee": ALICE.email}, 100),
    "unassigned": ({"assignee": "none"}, 100),
    "created": ({"sort": "created"}, 100),
    "one a page": ({}, 1),
}


@pytest.fixture
def assigned(desk: Desk, billing: Ticket) -> Ticket:
    """The Billing ticket assigned to Alice, a second unassigned one, and Bob's own ticket."""
    desk.open("technical", BOB, subject="VPN down", priority="low", tags=["vpn"])
    ticket = desk.change(billing, assignee=ALICE.email)
    desk.open("billing", ALICE, subject="Unassigned", priority="urgent", tags=["refund"])
    return ticket


@pytest.mark.parametrize("name", list(FILTERS))
def test_a_non_member_never_finds_the_ticket_in_a_list(
    desk: Desk, assigned: Ticket, name: str
) -> None:
    query, limit = FILTERS[name]
    billing = {assigned.id, *desk.listed(department_id="billing")}
    for who in (BOB, CAROL):
        assert not billing & set(desk.every_page(limit, who, **query)), who
    # While Bob's own ticket is listed, so the lists do work for him
    assert desk.listed(department_id="technical")[0] in desk.listed(BOB, assignee="none")
    assert desk.every_page(1, CAROL) == []


@pytest.mark.parametrize("name", list(FILTERS))
def test_members_and_admins_find_the_ticket_with_each_filter(
    desk: Desk, assigned: Ticket, name: str
) -> None:
    query, limit = FILTERS[name]
    [unassigned] = desk.listed(ALICE, assignee="none")
    expected = {"unassigned": unassigned, "none": None, "one a page": unassigned}.get(
        name, assigned.id
    )
    for who in (ALICE, ADMIN):
        found = desk.listed(who, limit, **query)
        if expected is None:
            assert found == []
            continue
        assert expected in found
        if who == ALICE:
            assert set(found) <= set(desk.listed(department_id="billing"))


def test_counts_are_for_members_and_admins_only(desk: Desk, billing: Ticket) -> None:
    desk.open("technical", BOB)
    assert queue_counts("billing", ALICE, desk.deps) == {**ZERO, "open": 1}
    assert queue_counts("billing", ADMIN, desk.deps) == {**ZERO, "open": 1}
    assert queue_counts("technical", BOB, desk.deps) == {**ZERO, "open": 1}
    for who, department in ((BOB, "billing"), (CAROL, "billing"), (BOB, "nowhere")):
        answer = refusal(lambda w=who, d=department: queue_counts(d, w, desk.deps))
        assert isinstance(answer, NotFound)


def test_an_agent_without_departments_sees_nothing_and_opens_nothing(
    desk: Desk, billing: Ticket
) -> None:
    for query, limit in FILTERS.values():
        assert desk.listed(CAROL, limit, **query) == []
    assert isinstance(refusal(lambda: desk.get(billing, CAROL)), NotFound)
    refused = refusal(lambda: desk.open("billing", CAROL))
    assert invalid(refused, "department_id")
    assert desk.repository.get_by_number("TKT-0002") is None


# --- tickets without a department, and the triage department -----------------------------------


def test_a_ticket_without_a_department_is_for_admins_only(desk: Desk, billing: Ticket) -> None:
    loose = desk.open(None, subject="Where do I go?")
    for who in (ALICE, BOB, CAROL):
        for action in ACTIONS.values():
            assert isinstance(refusal(lambda a=action, w=who: a(desk, loose.id, w)), NotFound)
        assert loose.id not in desk.listed(who)
        assert desk.listed(who, department_id="none") == []
        assert isinstance(refusal(lambda w=who: queue_counts("none", w, desk.deps)), NotFound)
    # Only the admin sees it, in lists and counts too
    assert desk.get(loose.number) == loose
    assert desk.listed(department_id="none") == [loose.id]
    assert queue_counts("none", ADMIN, desk.deps)["open"] == 1
    unchanged(desk, loose)


DAVE = Caller("dave@example.com", "agent")  # of the triage department


@pytest.fixture
def triage() -> Desk:
    desk = Desk(triage="triage")
    desk.billing_and_technical()
    desk.department("Triage", DAVE)
    desk.open("billing", ALICE)
    return desk


def test_members_of_the_triage_department_work_tickets_without_a_department(
    triage: Desk,
) -> None:
    loose = triage.open(None, subject="Where do I go?")
    assert triage.listed(DAVE, department_id="none") == [loose.id]
    assert triage.listed(DAVE) == [loose.id]  # and not the Billing ticket
    assert queue_counts("none", DAVE, triage.deps)["open"] == 1
    for action in ACTIONS.values():
        action(triage, loose.number, DAVE)
    assert triage.get(loose).priority == "low"


def test_an_agent_of_the_triage_department_opens_tickets_without_one(triage: Desk) -> None:
    opened = triage.open(None, DAVE)
    assert opened.department_id is None
    # Others must name a department they belong to
    refused = refusal(lambda: triage.open(None, ALICE))
    assert invalid(refused, "department_id")


def test_with_a_triage_department_other_agents_still_do_not_see_loose_tickets(
    triage: Desk,
) -> None:
    loose = triage.open(None, subject="Where do I go?")
    for action in ACTIONS.values():
        assert isinstance(refusal(lambda a=action: a(triage, loose.id, ALICE)), NotFound)
    assert loose.id not in triage.listed(ALICE)
    assert triage.listed(ALICE, department_id="none") == []
    assert isinstance(refusal(lambda: queue_counts("none", ALICE, triage.deps)), NotFound)
    unchanged(triage, loose)


def test_the_triage_agent_routes_a_loose_ticket_only_to_their_departments(
    triage: Desk,
) -> None:
    loose = triage.open(None, subject="Where do I go?")
    # When the triage agent moves it to Billing, which they are not in, it is refused
    refused = refusal(lambda: triage.change(loose, DAVE, department_id="billing"))
    assert invalid(refused, "department_id")
    unchanged(triage, loose)
    # When they move it into Triage, it is theirs to work and no longer loose
    assert triage.change(loose, DAVE, department_id="triage").department_id == "triage"
    assert triage.listed(DAVE, department_id="none") == []
    assert triage.listed(DAVE, department_id="triage") == [loose.id]
    # And an agent outside Triage may not hand a ticket to it by taking its department away
    [ticket] = triage.listed(ALICE)
    refused = refusal(lambda: triage.change(ticket, ALICE, department_id=None))
    assert invalid(refused, "department_id")
    assert triage.get(ticket).department_id == "billing"


# --- assignment and moves ----------------------------------------------------------------------


def test_only_a_member_of_the_tickets_department_can_be_assigned(
    desk: Desk, billing: Ticket
) -> None:
    # When it is assigned to Bob, who is not in Billing, it is refused naming the assignee
    for who in (ADMIN, ALICE):
        refused = refusal(lambda w=who: desk.change(billing, w, assignee=BOB.email))
        assert invalid(refused, "assignee")
    unchanged(desk, billing)
    # When it is assigned to Alice (in whatever case), it is hers; and None unassigns it
    assert desk.change(billing, ALICE, assignee="Alice@Example.COM").assignee == ALICE.email
    assert desk.change(billing, ALICE, assignee=None).assignee is None


def test_a_ticket_without_a_department_cannot_be_assigned(desk: Desk, billing: Ticket) -> None:
    loose = desk.open(None)
    refused = refusal(lambda: desk.change(loose, assignee=ALICE.email))
    assert invalid(refused, "assignee")
    unchanged(desk, loose)


@pytest.fixture
def alices(desk: Desk, billing: Ticket) -> Ticket:
    """The Billing ticket, assigned to Alice."""
    return desk.change(billing, assignee=ALICE.email)


def test_a_move_keeps_the_assignee_who_is_a_member_of_the_new_department(
    desk: Desk, alices: Ticket
) -> None:
    # Given Alice is in Technical too
    add_member("technical", ALICE.email, ADMIN, desk.deps)
    # When the admin moves her ticket to Technical, it is still hers
    moved = desk.change(alices, department_id="technical")
    assert (moved.department_id, moved.assignee) == ("technical", ALICE.email)
    # And history records the move, not an unassignment
    assert desk.changes(alices, "department_id") == [("billing", "technical", ADMIN.email)]
    assert desk.changes(alices, "assignee") == [(None, ALICE.email, ADMIN.email)]


def test_a_move_drops_the_assignee_who_is_not_a_member_there(desk: Desk, alices: Ticket) -> None:
    moved = desk.change(alices, department_id="technical")
    assert (moved.department_id, moved.assignee) == ("technical", None)
    # History says who dropped Alice
    assert desk.changes(alices, "assignee")[-1] == (ALICE.email, None, ADMIN.email)
    # And Alice no longer sees it, while Bob does, among his unassigned tickets
    assert isinstance(refusal(lambda: desk.get(alices, ALICE)), NotFound)
    assert desk.get(alices, BOB) == moved
    assert desk.listed(BOB, assignee="none") == [alices.id]


def test_a_move_with_a_new_assignee_checks_them_against_the_new_department(
    desk: Desk, alices: Ticket
) -> None:
    # Moving it to Technical and keeping Alice, who is not there, is refused naming the assignee
    refused = refusal(lambda: desk.change(alices, department_id="technical", assignee=ALICE.email))
    assert invalid(refused, "assignee")
    unchanged(desk, alices)
    # Moving it and giving it to Bob, who is there, makes it his
    assert desk.change(alices, department_id="technical", assignee=BOB.email).assignee == BOB.email


def test_an_agent_moves_a_ticket_only_into_a_department_they_belong_to(
    desk: Desk, billing: Ticket
) -> None:
    refused = refusal(lambda: desk.change(billing, ALICE, department_id="technical"))
    assert invalid(refused, "department_id")
    unchanged(desk, billing)
    # When she joins Technical, the same move works
    add_member("technical", ALICE.email, ADMIN, desk.deps)
    assert desk.change(billing, ALICE, department_id="technical").department_id == "technical"


def test_an_agent_cannot_leave_a_ticket_without_a_department(desk: Desk, billing: Ticket) -> None:
    refused = refusal(lambda: desk.change(billing, ALICE, department_id=None))
    assert invalid(refused, "department_id")
    unchanged(desk, billing)


@pytest.mark.parametrize("who", [ADMIN, ALICE], ids=["admin", "member"])
@pytest.mark.parametrize("destination", ["archived", "nowhere"])
def test_a_ticket_cannot_move_to_an_archived_or_unknown_department(
    desk: Desk, alices: Ticket, who: Caller, destination: str
) -> None:
    # Given an archived department Alice belongs to
    desk.department("Archived", ALICE)
    update_department("archived", None, True, ADMIN, desk.deps)
    # When the ticket is moved there, or to a department that does not exist
    refused = refusal(lambda: desk.change(alices, who, department_id=destination))
    # Then it is refused naming the department, and nothing changed (not even the assignee)
    assert invalid(refused, "department_id")
    unchanged(desk, alices)


# --- membership changes take effect at once ----------------------------------------------------


def test_removing_an_agent_from_a_department_takes_their_access_away_at_once(
    desk: Desk, alices: Ticket
) -> None:
    assert desk.listed(ALICE, assignee="me") == [alices.id]
    # When the admin removes her from Billing
    remove_member("billing", ALICE.email, ADMIN, desk.deps)
    # Then the ticket is hidden from her: reads, lists, counts and writes
    for action in ACTIONS.values():
        assert isinstance(refusal(lambda a=action: a(desk, alices.id, ALICE)), NotFound)
    assert desk.listed(ALICE) == desk.listed(ALICE, assignee="me") == []
    assert isinstance(refusal(lambda: queue_counts("billing", ALICE, desk.deps)), NotFound)
    unchanged(desk, alices)
    # And she can no longer open tickets there
    refused = refusal(lambda: desk.open("billing", ALICE))
    assert invalid(refused, "department_id")
    # And adding her back gives it back
    add_member("billing", ALICE.email, ADMIN, desk.deps)
    assert desk.get(alices, ALICE) == alices


# --- departments -------------------------------------------------------------------------------


def test_a_department_id_is_a_slug_of_its_name_unless_one_is_chosen(desk: Desk) -> None:
    assert create_department("Technical Support", None, ADMIN, desk.deps).id == "technical-support"
    chosen = create_department("Billing & Invoices", "money", ADMIN, desk.deps)
    assert (chosen.id, chosen.name, chosen.members, chosen.archived) == (
        "money",
        "Billing & Invoices",
        [],
        False,
    )
    assert [d.id for d in desk.repository.departments()] == ["money", "technical-support"]
    assert desk.repository.department("billing-invoices") is None


@pytest.mark.parametrize("name", ["!!!", "None"])
def test_a_name_without_letters_or_the_word_none_makes_no_id(desk: Desk, name: str) -> None:
    refused = refusal(lambda: create_department(name, None, ADMIN, desk.deps))
    assert invalid(refused, "id")
    assert desk.repository.departments() == []


@pytest.mark.parametrize(
    ("name", "chosen"),
    [("Billing", None), ("BILLING!", None), ("Accounts", "billing")],
    ids=["same-name", "same-slug", "same-explicit-id"],
)
def test_a_second_department_with_the_same_id_is_a_conflict(
    desk: Desk, name: str, chosen: str | None
) -> None:
    original = desk.department("Billing", ALICE)
    desk.forget_events()
    refused = refusal(lambda: create_department(name, chosen, ADMIN, desk.deps))
    assert isinstance(refused, Conflict)
    assert desk.repository.departments() == [original]
    assert desk.events() == []


def test_an_admin_renames_and_archives_and_the_id_and_members_stay(desk: Desk) -> None:
    desk.department("Billing", ALICE)
    renamed = update_department("billing", "Accounts Receivable", None, ADMIN, desk.deps)
    assert (renamed.id, renamed.name, renamed.members) == (
        "billing",
        "Accounts Receivable",
        [ALICE.email],
    )
    assert desk.repository.department("billing") == renamed
    assert desk.open("billing", ALICE).department_id == "billing"  # Alice still works there
    archived = update_department("billing", None, True, ADMIN, desk.deps)
    assert (archived.name, archived.archived) == ("Accounts Receivable", True)


def test_agents_manage_no_departments(desk: Desk) -> None:
    desk.department("Billing", ALICE)
    before = desk.repository.departments()
    for who in (ALICE, BOB):
        for attempt in (
            lambda w: create_department("Shadow IT", None, w, desk.deps),
            lambda w: update_department("billing", "Mine", None, w, desk.deps),
            lambda w: update_department("billing", None, True, w, desk.deps),
            lambda w: add_member("billing", "eve@example.com", w, desk.deps),
            lambda w: remove_member("billing", ALICE.email, w, desk.deps),
        ):
            assert isinstance(refusal(lambda a=attempt, w=who: a(w)), Forbidden)
    assert desk.repository.departments() == before


def test_an_unknown_department_is_not_found_to_change_or_to_manage(desk: Desk) -> None:
    for attempt in (
        lambda: update_department("nowhere", "X", None, ADMIN, desk.deps),
        lambda: add_member("nowhere", ALICE.email, ADMIN, desk.deps),
        lambda: remove_member("nowhere", ALICE.email, ADMIN, desk.deps),
    ):
        assert isinstance(refusal(attempt), NotFound)
    assert desk.repository.departments() == []


def test_an_archived_department_refuses_new_tickets_until_restored(desk: Desk) -> None:
    desk.department("Billing", ALICE)
    existing = desk.open("billing", ALICE)
    update_department("billing", None, True, ADMIN, desk.deps)
    # New tickets there are refused naming the department, for agents and admins
    for who in (ALICE, ADMIN):
        refused = refusal(lambda w=who: desk.open("billing", w))
        assert invalid(refused, "department_id")
    # And the tickets it has are still there for its members, with no gap in the numbers
    assert desk.get(existing, ALICE) == existing
    assert queue_counts("billing", ALICE, desk.deps)["open"] == 1
    update_department("billing", None, False, ADMIN, desk.deps)
    assert desk.open("billing", ALICE).number == "TKT-0002"


def test_an_unknown_department_refuses_new_tickets(desk: Desk) -> None:
    refused = refusal(lambda: desk.open("nowhere"))
    assert invalid(refused, "department_id")
    assert desk.listed() == []


def test_an_admin_adds_and_removes_members_in_any_case(desk: Desk) -> None:
    desk.department("Billing")
    add_member("billing", BOB.email, ADMIN, desk.deps)
    added = add_member("billing", "Alice@Example.COM", ADMIN, desk.deps)
    assert added.members == [ALICE.email, BOB.email]
    assert add_member("billing", ALICE.email, ADMIN, desk.deps) == added  # once only
    assert desk.repository.is_member(ALICE.email, "billing")
    removed = remove_member("billing", "bOb@example.com", ADMIN, desk.deps)
    assert removed.members == [ALICE.email]
    assert desk.repository.department("billing") == removed
    assert desk.repository.departments_of(BOB.email) == frozenset()


def test_removing_someone_who_is_not_a_member_is_not_found(desk: Desk) -> None:
    original = desk.department("Billing", ALICE)
    assert isinstance(
        refusal(lambda: remove_member("billing", BOB.email, ADMIN, desk.deps)), NotFound
    )
    assert desk.repository.department("billing") == original


# --- counts --------------------------------------------------------------------------------------


def counts(desk: Desk, department_id: str) -> dict[Status, int]:
    return queue_counts(department_id, ADMIN, desk.deps)


def test_counts_follow_creates_status_changes_and_moves(desk: Desk) -> None:
    desk.billing_and_technical()
    assert counts(desk, "billing") == ZERO
    # When three Billing tickets are opened, Billing counts three open
    first, second, third = (desk.open("billing", ALICE) for _ in range(3))
    assert queue_counts("billing", ALICE, desk.deps) == {**ZERO, "open": 3}
    # When one is set in progress, one answered (waiting on the client), one resolved
    desk.change(first, status="in_progress")
    desk.post(second, "Fixed?", ALICE)
    desk.change(third, status="resolved")
    assert counts(desk, "billing") == {
        **ZERO,
        "in_progress": 1,
        "waiting_on_client": 1,
        "resolved": 1,
    }
    # When the one in progress moves to Technical, and the resolved one is closed
    desk.change(first, department_id="technical")
    desk.change(third, status="closed")
    assert counts(desk, "billing") == {**ZERO, "waiting_on_client": 1, "closed": 1}
    assert counts(desk, "technical") == {**ZERO, "in_progress": 1}


def test_a_change_that_is_refused_does_not_move_the_counts(desk: Desk, billing: Ticket) -> None:
    stale = ExpectedVersion(9, "if-match")
    assert isinstance(
        refusal(lambda: desk.change(billing, expected=stale, status="resolved")), PreconditionFailed
    )
    assert isinstance(refusal(lambda: desk.change(billing, department_id="nowhere")), Invalid)
    assert counts(desk, "billing") == {**ZERO, "open": 1}


# --- events announced --------------------------------------------------------------------------


@pytest.fixture
def support(desk: Desk) -> Ticket:
    """An open, high-priority Support ticket Alice opened, its opening already announced; Carol is
    her colleague in Support."""
    desk.department("Support", ALICE, CAROL)
    ticket = desk.open("support", ALICE, priority="high")
    desk.forget_events()
    return ticket


def test_opening_a_ticket_announces_it_once(desk: Desk) -> None:
    desk.department("Support", ALICE)
    desk.forget_events()
    ticket = desk.open("support", ALICE, priority="high", cc=["Carol@Example.com"])
    assert desk.event_names(ticket.id) == ["TicketCreated"]  # not a change or an assignment
    [created] = desk.events("TicketCreated")
    assert (created["number"], created["department_id"]) == ("TKT-0001", "support")
    assert created["requester"] == CLIENT.model_dump()
    assert (created["subject"], created["status"], created["priority"]) == (
        "Invoice twice",
        "open",
        "high",
    )
    assert created["cc"] == ["carol@example.com"]


def test_a_change_by_hand_is_announced_once_with_its_narrower_events(
    desk: Desk, support: Ticket
) -> None:
    # When Alice assigns it to Carol, starts it and raises its priority in one change
    changed = desk.change(
        support, ALICE, assignee=CAROL.email, status="in_progress", priority="urgent"
    )
    # Then TicketUpdated lists every change, names the agent and the new version
    assert sorted(desk.event_names(support.id)) == [
        "TicketAssigned",
        "TicketStatusChanged",
        "TicketUpdated",
    ]
    [updated] = desk.events("TicketUpdated")
    assert sorted((c["field"], c["old"], c["new"]) for c in updated["changes"]) == [
        ("assignee", None, CAROL.email),
        ("priority", "high", "urgent"),
        ("status", "open", "in_progress"),
    ]
    assert (updated["actor"], updated["version"], updated["number"]) == (
        ALICE.email,
        changed.version,
        "TKT-0001",
    )
    assert changed.version == 2
    # And the status change and the assignment each have their own event
    [status] = desk.events("TicketStatusChanged")
    assert (status["old"], status["new"], status["reason"]) == ("open", "in_progress", "agent")
    [assigned] = desk.events("TicketAssigned")
    assert (assigned["old"], assigned["new"], assigned["department_id"]) == (
        None,
        CAROL.email,
        "support",
    )


def test_a_change_that_changes_nothing_announces_nothing(desk: Desk, support: Ticket) -> None:
    same = desk.change(support, ALICE, status="open", priority="high")
    assert same.version == 1
    assert desk.events() == []
    assert [entry.field for entry in desk.history(support)] == ["created"]


def test_unassigning_is_announced(desk: Desk, support: Ticket) -> None:
    desk.change(support, ALICE, assignee=CAROL.email)
    desk.forget_events()
    desk.change(support, ALICE, assignee=None)
    [assigned] = desk.events("TicketAssigned")
    assert (assigned["old"], assigned["new"]) == (CAROL.email, None)
    [updated] = desk.events("TicketUpdated")
    assert [(c["field"], c["old"], c["new"]) for c in updated["changes"]] == [
        ("assignee", CAROL.email, None)
    ]
    assert desk.events("TicketStatusChanged") == []


def test_a_public_reply_is_announced_with_its_content_and_the_status_it_caused(
    desk: Desk, support: Ticket
) -> None:
    replied, message = desk.post(support, "Your account is unlocked now.", ALICE)
    # MessagePosted carries the public reply, once
    [posted] = desk.events("MessagePosted")
    assert (posted["message_id"], posted["visibility"], posted["body"]) == (
        message.id,
        "public",
        "Your account is unlocked now.",
    )
    assert (posted["author"]["type"], posted["author"]["email"]) == ("agent", ALICE.email)
    assert (posted["requester"], posted["first_response"]) == (CLIENT.model_dump(), True)
    # And the ticket waiting on the client is announced as the system's change
    [status] = desk.events("TicketStatusChanged")
    assert (status["old"], status["new"], status["reason"]) == (
        "open",
        "waiting_on_client",
        "agent_reply",
    )
    [updated] = desk.events("TicketUpdated")
    assert (updated["actor"], updated["version"]) == ("system", replied.version)
    # When she replies again, it is not the first response, and no status changed
    desk.forget_events()
    desk.post(support, "Anything else?", ALICE)
    assert desk.event_names(support.id) == ["MessagePosted"]
    assert desk.events("MessagePosted")[0]["first_response"] is False


def test_an_internal_note_is_announced_without_its_content(desk: Desk, support: Ticket) -> None:
    _, note = desk.post(support, "Client is on the fraud list", ALICE, "internal")
    assert desk.event_names(support.id) == ["MessagePosted"]
    [posted] = desk.events("MessagePosted")
    assert (posted["message_id"], posted["visibility"]) == (note.id, "internal")
    assert (posted["body"], posted["html"], posted["attachments"]) == (None, None, [])
    assert posted["first_response"] is False


def test_a_client_reply_is_announced_and_reopens_the_ticket(desk: Desk, support: Ticket) -> None:
    desk.post(support, "Did you try resetting the password?", ALICE)
    desk.forget_events()
    desk.mail(ticket_id=support.id, text="Yes, no luck.")
    [posted] = desk.events("MessagePosted")
    assert (posted["visibility"], posted["body"], posted["first_response"]) == (
        "public",
        "Yes, no luck.",
        False,
    )
    assert (posted["author"]["type"], posted["author"]["email"]) == ("client", CLIENT.email)
    [status] = desk.events("TicketStatusChanged")
    assert (status["old"], status["new"], status["reason"]) == (
        "waiting_on_client",
        "open",
        "client_reply",
    )
    assert desk.events("TicketUpdated")[0]["actor"] == "system"


def test_a_refused_change_announces_nothing(desk: Desk, support: Ticket) -> None:
    for attempt in (
        lambda: desk.change(support, ALICE, assignee=BOB.email),
        lambda: desk.change(support, BOB, priority="low"),
        lambda: desk.change(support, ALICE, ExpectedVersion(5, "body"), priority="low"),
    ):
        refusal(attempt)
    assert desk.events() == []


def members_announced(desk: Desk) -> list[tuple[str, list[str], bool]]:
    return [
        (data["department_id"], data["members"], data["archived"])
        for data in desk.events("DepartmentMembersChanged")
    ]


def test_membership_changes_are_announced_with_the_whole_member_list(desk: Desk) -> None:
    desk.department("Billing")
    assert members_announced(desk) == [("billing", [], False)]
    desk.forget_events()
    # When members are added (one twice, in another case) and one removed
    for email in (BOB.email, ALICE.email, "BOB@example.com"):
        add_member("billing", email, ADMIN, desk.deps)
    remove_member("billing", BOB.email, ADMIN, desk.deps)
    update_department("billing", None, True, ADMIN, desk.deps)
    # Then each real change was announced once, with the members at that moment
    assert members_announced(desk) == [
        ("billing", [BOB.email], False),
        ("billing", [ALICE.email, BOB.email], False),
        ("billing", [ALICE.email], False),
        ("billing", [ALICE.email], True),
    ]
    assert {data["name"] for data in desk.events()} == {"Billing"}


def test_refused_membership_changes_announce_nothing(desk: Desk) -> None:
    desk.department("Billing", ALICE)
    desk.forget_events()
    refusal(lambda: add_member("billing", BOB.email, ALICE, desk.deps))
    refusal(lambda: remove_member("billing", BOB.email, ADMIN, desk.deps))
    refusal(lambda: create_department("Billing", None, ADMIN, desk.deps))
    assert update_department("billing", "Billing", False, ADMIN, desk.deps).name == "Billing"
    assert desk.events() == []


# --- other services' updates -------------------------------------------------------------------


def sla(desk: Desk, ticket: Ticket) -> tuple[str | None, Any, Any]:
    found = desk.get(ticket).sla
    return found.state, found.first_response_due_at, found.resolution_due_at


def test_sla_events_set_due_times_and_state_without_downgrading(
    desk: Desk, support: Ticket
) -> None:
    first, resolution = T0 + timedelta(hours=1), T0 + timedelta(hours=4)
    # When the SLA service announces the due times, the ticket is on track with them
    set_due_times(support.id, first, resolution, 1, desk.deps)
    assert sla(desk, support) == ("ok", first, resolution)
    # And a target approaching, then breached, makes it at risk, then breached
    desk.later()
    record_sla_event(sla_event(SlaWarning, support), desk.deps)
    assert sla(desk, support)[0] == "at_risk"
    desk.later()
    record_sla_event(sla_event(SlaBreached, support), desk.deps)
    assert sla(desk, support)[0] == "breached"
    # And a warning arriving late, after the breach, changes nothing
    desk.later()
    record_sla_event(sla_event(SlaWarning, support), desk.deps)
    assert sla(desk, support) == ("breached", first, resolution)
    # And none of it is a person's change: the version and update time stay, nothing announced
    stored = desk.get(support)
    assert (stored.version, stored.updated_at) == (support.version, support.updated_at)
    assert desk.events() == []
    assert [(e.field, e.actor) for e in desk.history(support)][1:] == [("sla", "system")] * 3
    # So an agent who read it before all this still saves with that version
    expected = ExpectedVersion(support.version, "if-match")
    assert desk.change(support, ALICE, expected, tags=["vip"]).tags == ["vip"]


def test_due_times_announced_late_never_replace_newer_ones(desk: Desk, support: Ticket) -> None:
    newer, older = T0 + timedelta(hours=3), T0 + timedelta(hours=1)
    set_due_times(support.id, newer, newer + timedelta(days=1), 100, desk.deps)
    set_due_times(support.id, older, older + timedelta(days=1), 99, desk.deps)
    assert sla(desk, support)[1] == newer


def test_a_met_first_response_leaves_the_ticket_on_its_resolution_clock(
    desk: Desk, support: Ticket
) -> None:
    set_due_times(support.id, T0, T0, 1, desk.deps)
    record_sla_event(sla_event(SlaMet, support, "first_response"), desk.deps)
    assert sla(desk, support)[0] == "ok"
    record_sla_event(sla_event(SlaMet, support, "resolution"), desk.deps)
    assert sla(desk, support)[0] == "met"


def test_a_breached_ticket_stays_breached_when_resolved_late(desk: Desk, support: Ticket) -> None:
    record_sla_event(sla_event(SlaBreached, support, "resolution"), desk.deps)
    record_sla_event(sla_event(SlaMet, support, "resolution"), desk.deps)
    assert sla(desk, support)[0] == "breached"


def test_an_update_for_a_ticket_that_does_not_exist_changes_nothing(desk: Desk) -> None:
    link_contact(UNKNOWN_ID, "contact-1", desk.deps)
    set_due_times(UNKNOWN_ID, T0, T0, 1, desk.deps)
    assert desk.repository.get(UNKNOWN_ID) is None


def test_contact_links_and_merges_move_tickets_to_the_surviving_contact(
    desk: Desk, support: Ticket
) -> None:
    second, third = desk.open("support", ALICE), desk.open("support", ALICE)
    for ticket, contact in ((support, "keep"), (second, "keep"), (third, "gone")):
        link_contact(ticket.id, contact, desk.deps)
    desk.forget_events()
    assert desk.listed(contact_id="keep", sort="created") == [second.id, support.id]
    # When the other contact is merged into the first
    desk.later()
    assert move_contact("gone", "keep", desk.deps) == 1
    # Then every ticket belongs to the surviving contact, listed newest first
    assert desk.listed(contact_id="keep", sort="created") == [third.id, second.id, support.id]
    assert desk.listed(contact_id="gone", sort="created") == []
    # And the history says the system moved it, without a person's version moving
    assert desk.changes(third, "contact_id") == [
        (None, "gone", "system"),
        ("gone", "keep", "system"),
    ]
    assert desk.get(third).version == third.version
    assert desk.events() == []


def test_an_erased_contact_leaves_their_tickets_without_their_address(
    desk: Desk, support: Ticket
) -> None:
    desk.post(support, "We are on it.", ALICE)
    desk.mail(ticket_id=support.id, text="Thanks, Client")
    link_contact(support.id, "contact-1", desk.deps)
    desk.forget_events()
    # When the contact is erased (and the event comes twice)
    assert anonymise_requester("contact-1", desk.deps) == 1
    assert anonymise_requester("contact-1", desk.deps) == 0
    # Then the requester is anonymous, and so are the client's messages
    assert desk.get(support).requester == ERASED_REQUESTER
    authors = [m.author.email for m in desk.messages(support) if m.author.type == "client"]
    assert authors == [ERASED_REQUESTER.email]
    # And the history says so without the address, and the change is announced once
    [(old, _, actor)] = desk.changes(support, "requester")
    assert (old, actor) == (None, "system")
    [updated] = desk.events("TicketUpdated")
    assert updated["changes"][0]["field"] == "requester"


def test_mail_outcomes_land_on_the_reply_and_never_undo_a_worse_one(
    desk: Desk, support: Ticket
) -> None:
    _, reply = desk.post(support, "Unlocked.", ALICE)
    posted = isoformat(reply.created_at)
    outcome = {"ticket_id": support.id, "ticket_message_id": reply.id, "message_id": "<m@x>"}
    sent = EmailSent(
        **outcome, ticket_message_at=posted, sender="s@x", recipients=[CLIENT.email], sent_at=posted
    )
    assert record_mail_outcome(sent, desk.deps) == [CLIENT.email]

    def report(event: type[EmailDeliveryEvent], **extra: Any) -> EmailDeliveryEvent:
        recipients = [RecipientOutcome(email=CLIENT.email, detail="550")]
        return event(**outcome, ticket_message_at=posted, recipients=recipients, at=posted, **extra)

    bounce = report(EmailBounced, kind="bounce", permanent=True)
    assert record_mail_outcome(bounce, desk.deps) == [CLIENT.email]
    # A delivery report arriving late does not hide the bounce
    assert record_mail_outcome(report(EmailDelivered), desk.deps) == []
    delivery = desk.messages(support)[-1].delivery[CLIENT.email]
    assert (delivery.state, delivery.detail) == ("bounced", "550")
    # A report about no message (an acknowledgement) changes nothing
    acknowledgement = EmailDelivered(
        **{**outcome, "ticket_message_id": None}, recipients=[], at=posted
    )
    assert record_mail_outcome(acknowledgement, desk.deps) == []


# --- agents --------------------------------------------------------------------------------------


def agent(email: str, admin: bool = False, enabled: bool = True) -> Agent:
    return Agent(email=email, name=None, enabled=enabled, confirmed=True, admin=admin)


def test_an_admin_invites_agents_once_and_may_make_them_admins(desk: Desk) -> None:
    invited = invite_agent(Invitation("Dana@Example.com", "Dana", admin=True), ADMIN, desk.deps)
    assert (invited.email, invited.status, invited.admin) == ("dana@example.com", "invited", True)
    assert desk.agents.invited == ["dana@example.com"]
    again = refusal(lambda: invite_agent(Invitation("dana@example.com"), ADMIN, desk.deps))
    assert isinstance(again, Conflict)
    assert list_agents(desk.deps, 10, None).items == [invited]
    assert isinstance(
        refusal(lambda: invite_agent(Invitation("x@y.z"), ALICE, desk.deps)), Forbidden
    )


def test_the_last_active_admin_keeps_their_role() -> None:
    desk = Desk(agents=[agent(ADMIN.email, admin=True), agent("old@example.com", True, False)])
    for change in (AgentChange(disabled=True), AgentChange(admin=False)):
        assert isinstance(
            refusal(lambda c=change: change_agent(ADMIN.email, c, ADMIN, desk.deps)), Conflict
        )
    # With another active admin, either may step down
    change_agent("old@example.com", AgentChange(disabled=False), ADMIN, desk.deps)
    assert change_agent(ADMIN.email, AgentChange(admin=False), ADMIN, desk.deps).admin is False
    assert isinstance(
        refusal(lambda: change_agent("nobody@x.org", AgentChange(), ADMIN, desk.deps)), NotFound
    )


def test_agents_are_listed_in_pages(desk: Desk) -> None:
    for n in range(5):
        desk.agents.invite(f"agent{n}@example.com", None)
    pages, cursor = [], None
    while True:
        page = list_agents(desk.deps, 2, cursor)
        pages.append([a.email for a in page.items])
        if (cursor := page.cursor) is None:
            break
    assert pages == [
        ["agent0@example.com", "agent1@example.com"],
        ["agent2@example.com", "agent3@example.com"],
        ["agent4@example.com"],
    ]


# --- merge: the copy of a long conversation ---------------------------------------------------


def test_a_merge_copies_what_the_request_has_time_for_and_its_event_copies_the_rest(
    desk: Desk, billing: Ticket, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a source whose conversation takes three copy steps, and a request with time for one
    monkeypatch.setattr(merge_tickets_module, "REQUEST_COPY_STEPS", 1)
    target = desk.open("billing", ALICE, subject="Printer broken", body="It jams.")
    for n in range(2 * COPY_STEP):
        desk.post(billing, f"Reply {n}")
    source_bodies = [m.body for m in desk.messages(billing)]
    # When it is merged
    desk.later()
    merge_tickets(billing.id, target.id, ADMIN, desk.deps, None)
    # Then the request copied one step and left the job for the consumer
    job = desk.repository.merge_copy(billing.id)
    assert job is not None
    assert (job.copied, job.done) == (COPY_STEP, False)
    # And the recorded TicketMerged finishes it, once, however often it arrives
    for _ in range(2):
        resume_merge_copy(billing.id, desk.deps)
    target_bodies = [m.body for m in desk.messages(target)]
    assert all(target_bodies.count(body) == 1 for body in source_bodies)
    assert len(target_bodies) == len(source_bodies) + 2  # its own first message, the merge note
    finished = desk.repository.merge_copy(billing.id)
    assert finished is not None
    assert (finished.copied, finished.done) == (len(source_bodies), True)
