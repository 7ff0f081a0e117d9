"""Macros on the in-memory storage: the text's placeholders (checked at save, filled in at apply,
braces escaped), who keeps and sees which macro, and applying one: the message and the changes in
one commit with the history and events the separate operations make, or nothing at all."""

from __future__ import annotations

from typing import Any

import pytest

from services.tickets.logic.agent_directory import Agent
from services.tickets.logic.apply_macro import MacroOutcome, apply_macro, preview_macro
from services.tickets.logic.change_ticket import ExpectedVersion
from services.tickets.logic.macros import (
    PLACEHOLDERS,
    Macro,
    MacroChanges,
    MacroDraft,
    MacroEdit,
    create_macro,
    delete_macro,
    get_macro,
    list_macros,
    render,
    update_macro,
)
from services.tickets.logic.ticket import Ticket
from shared.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from shared.events.catalogue import Person
from shared.identity import Caller
from tests.fakes.macros import FakeMacroStore
from tests.tickets_desk import ADMIN, ALICE, BOB, Desk, invalid, refusal

DANA = Caller("dana@example.com", "agent")  # Billing too, besides Alice


class MacroDesk(Desk):
    def __init__(self) -> None:
        super().__init__(agents=[Agent("alice@example.com", "Alice Smith", True, True, False)])
        self.macros = FakeMacroStore()

    def macro(self, as_: Caller = ADMIN, name: str = "Refunded", **fields: Any) -> Macro:
        changes = MacroChanges(**fields.pop("changes", {}))
        scope = fields.pop("scope", "shared" if as_.is_admin else "personal")
        draft = MacroDraft(name=name, scope=scope, changes=changes, **fields)
        return create_macro(draft, as_, self.macros, self.clock)

    def apply(
        self, ticket: Ticket, macro: Macro, as_: Caller = ALICE, version: int | None = None
    ) -> MacroOutcome:
        self.later()
        expected = ExpectedVersion(version, "if-match") if version is not None else None
        return apply_macro(ticket.id, macro.id, expected, as_, self.deps, self.macros)

    def preview(self, ticket: Ticket, macro: Macro, as_: Caller = ALICE) -> MacroOutcome:
        return preview_macro(ticket.id, macro.id, as_, self.deps, self.macros)

    def stored(self, ticket: Ticket) -> tuple[Ticket | None, int, int]:
        """The ticket as stored, with how many messages and events it has."""
        return self.repository.get(ticket.id), len(self.messages(ticket)), len(self.events())


@pytest.fixture
def desk() -> MacroDesk:
    desk = MacroDesk()
    desk.department("Billing", ALICE, DANA)
    desk.department("Technical", BOB)
    return desk


@pytest.fixture
def ticket(desk: MacroDesk) -> Ticket:
    ticket = desk.open(requester=Person(email="carol@example.org", name="Carol Jones"))
    desk.forget_events()
    return ticket


# --- the text ------------------------------------------------------------------------------------


def test_every_placeholder_is_filled_in_for_the_ticket_and_the_agent(
    desk: MacroDesk, ticket: Ticket
) -> None:
    text = " | ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    macro = desk.macro(body=text, visibility="internal")
    outcome = desk.preview(ticket, macro)
    assert outcome.message is not None
    assert outcome.message.body.split(" | ") == [
        "TKT-0001",
        "Invoice twice",
        "Carol Jones",
        "Carol",
        "carol@example.org",
        "Alice Smith",
        "alice@example.com",
        "Billing",
    ]


def test_missing_names_fall_back_to_addresses_and_no_department_to_nothing(
    desk: MacroDesk,
) -> None:
    ticket = desk.open(department_id=None, requester=Person(email="x@example.org"))
    macro = desk.macro(
        body="{requester.name}/{requester.first_name}/{agent.name}/{department.name}/"
    )
    outcome = desk.preview(ticket, macro, as_=ADMIN)
    assert outcome.message is not None
    assert outcome.message.body == "x@example.org/x@example.org/admin@example.com//"


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("{{ticket.number}}", "{ticket.number}"),
        ("{{{ticket.number}}}", "{TKT-0001}"),
        ("a }} b {{ c", "a } b { c"),
        ("a lone } stays", "a lone } stays"),
        ("{ ticket.number }", "TKT-0001"),
    ],
)
def test_double_braces_are_literal_braces(text: str, rendered: str) -> None:
    assert render(text, {"ticket.number": "TKT-0001"}.__getitem__) == rendered


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Hello {client.name}", "{client.name}"),
        ("Hello {ticket.number} {Ticket.Subject}", "{Ticket.Subject}"),
        ("Hello {}", "{}"),
        ("Price: {10", "character 8"),
    ],
)
def test_an_unknown_placeholder_is_refused_when_the_macro_is_saved(
    desk: MacroDesk, text: str, named: str
) -> None:
    error = refusal(lambda: desk.macro(body=text))
    assert invalid(error, "body")
    assert named in error.errors[0].message
    assert desk.macros.of_owner(None) == []


def test_a_macro_posts_a_text_or_changes_something_and_never_adds_and_removes_a_tag(
    desk: MacroDesk,
) -> None:
    assert invalid(refusal(lambda: desk.macro()), "body")
    both = refusal(lambda: desk.macro(changes={"tags_add": ["a", "b"], "tags_remove": ["b"]}))
    assert invalid(both, "changes.tags_remove")
    # Unassigning alone is a change
    assert desk.macro(changes={"assignee": None}).changes.model_fields_set == {"assignee"}


# --- who keeps and sees which macro --------------------------------------------------------------


def test_shared_macros_are_the_admins_and_personal_ones_their_owners_alone(desk: MacroDesk) -> None:
    shared = desk.macro(ADMIN, "Thanks", body="Thanks!")
    assert isinstance(refusal(lambda: desk.macro(ALICE, scope="shared", body="x")), Forbidden)
    mine = desk.macro(ALICE, "Mine", body="Mine")
    theirs = desk.macro(BOB, "Theirs", body="Theirs")
    # Each agent lists the shared ones and their own
    assert [m.id for m in list_macros(ALICE, desk.macros)] == [shared.id, mine.id]
    assert [m.id for m in list_macros(BOB, desk.macros)] == [shared.id, theirs.id]
    assert [m.id for m in list_macros(ADMIN, desk.macros)] == [shared.id]
    # Another's personal macro does not exist for anyone else, admins included
    for caller in (BOB, ADMIN):
        assert isinstance(refusal(lambda c=caller: get_macro(mine.id, c, desk.macros)), NotFound)
        stolen = refusal(
            lambda c=caller: update_macro(
                mine.id, MacroEdit(name="Stolen"), c, desk.macros, desk.clock
            )
        )
        assert isinstance(stolen, NotFound)
        assert isinstance(refusal(lambda c=caller: delete_macro(mine.id, c, desk.macros)), NotFound)
    # Agents read shared macros but do not change them
    assert get_macro(shared.id, BOB, desk.macros).name == "Thanks"
    edit = MacroEdit(name="Mine now")
    assert isinstance(
        refusal(lambda: update_macro(shared.id, edit, BOB, desk.macros, desk.clock)), Forbidden
    )
    assert isinstance(refusal(lambda: delete_macro(shared.id, BOB, desk.macros)), Forbidden)
    assert get_macro(mine.id, ALICE, desk.macros).name == "Mine"


def test_names_are_unique_per_scope_and_owner_whatever_their_case(desk: MacroDesk) -> None:
    desk.macro(ADMIN, "Refund", body="a")
    clash = refusal(lambda: desk.macro(ADMIN, "REFUND", body="b"))
    assert isinstance(clash, Conflict)
    assert [e.field for e in clash.errors] == ["name"]
    # The same name is free in each agent's own list
    desk.macro(ALICE, "Refund", body="c")
    desk.macro(BOB, "refund", body="d")
    assert isinstance(refusal(lambda: desk.macro(ALICE, "refund", body="e")), Conflict)
    # A rename onto a taken name is refused too, and a rename frees the old name
    other = desk.macro(ALICE, "Other", body="f")
    taken = MacroEdit(name="Refund")
    assert isinstance(
        refusal(lambda: update_macro(other.id, taken, ALICE, desk.macros, desk.clock)), Conflict
    )
    update_macro(other.id, MacroEdit(name="Renamed"), ALICE, desk.macros, desk.clock)
    desk.macro(ALICE, "Other", body="g")


def test_an_edit_changes_only_what_it_names_and_checks_the_text_again(desk: MacroDesk) -> None:
    macro = desk.macro(ALICE, body="Hi {requester.name}", changes={"priority": "high"})
    edited = update_macro(
        macro.id,
        MacroEdit(body=None, changes=MacroChanges(status="resolved")),
        ALICE,
        desk.macros,
        desk.clock,
    )
    assert (edited.name, edited.body, edited.changes.model_fields_set) == (
        "Refunded",
        None,
        {"status"},
    )
    bad = MacroEdit(body="Hi {requester.nickname}")
    assert invalid(
        refusal(lambda: update_macro(macro.id, bad, ALICE, desk.macros, desk.clock)), "body"
    )
    assert get_macro(macro.id, ALICE, desk.macros) == edited


# --- applying ------------------------------------------------------------------------------------


def test_a_macro_posts_its_reply_and_makes_its_changes_in_one_commit(
    desk: MacroDesk, ticket: Ticket
) -> None:
    desk.change(ticket, tags=["refund", "new"])
    desk.forget_events()
    macro = desk.macro(
        body="Hi {requester.first_name}, {ticket.number} is refunded.",
        changes={
            "status": "resolved",
            "priority": "low",
            "tags_add": ["refunded"],
            "tags_remove": ["new"],
            "assignee": "me",
        },
    )
    outcome = desk.apply(ticket, macro, version=2)
    # The ticket moved one version, with every change
    stored = desk.get(ticket)
    assert outcome.ticket == stored
    assert (stored.version, stored.status, stored.priority) == (3, "resolved", "low")
    assert (stored.tags, stored.assignee) == (["refund", "refunded"], ALICE.email)
    # The reply, filled in, by Alice, the first response
    [_, reply] = desk.messages(ticket)
    assert reply == outcome.message
    assert (reply.body, reply.visibility) == ("Hi Carol, TKT-0001 is refunded.", "public")
    assert (reply.author.type, reply.author.email) == ("agent", ALICE.email)
    assert stored.first_response_at == reply.created_at
    # History: every change Alice's, at the same moment
    changes = [(e.field, e.old, e.new, e.actor) for e in desk.history(ticket)[-4:]]
    assert changes == [
        ("priority", "medium", "low", ALICE.email),
        ("tags", ["new", "refund"], ["refund", "refunded"], ALICE.email),
        ("assignee", None, ALICE.email, ALICE.email),
        ("status", "open", "resolved", ALICE.email),
    ]
    # Events as a reply naming a status and a change would make them, in one commit
    assert desk.event_names() == [
        "MessagePosted",
        "TicketUpdated",
        "TicketAssigned",
        "TicketStatusChanged",
    ]
    [posted] = desk.events("MessagePosted")
    assert (posted["body"], posted["first_response"]) == (reply.body, True)
    [updated] = desk.events("TicketUpdated")
    assert [c["field"] for c in updated["changes"]] == ["priority", "tags", "assignee", "status"]
    assert (updated["actor"], updated["version"]) == (ALICE.email, 3)
    [status] = desk.events("TicketStatusChanged")
    assert (status["old"], status["new"], status["reason"]) == ("open", "resolved", "agent")


def test_a_reply_without_a_status_hands_the_ticket_to_the_client_as_the_systems_change(
    desk: MacroDesk, ticket: Ticket
) -> None:
    macro = desk.macro(body="Could you send the invoice?", changes={"priority": "high"})
    desk.apply(ticket, macro)
    assert desk.get(ticket).status == "waiting_on_client"
    assert desk.changes(ticket, "priority")[-1] == ("medium", "high", ALICE.email)
    assert desk.changes(ticket, "status")[-1] == ("open", "waiting_on_client", "system")
    assert desk.event_names() == [
        "MessagePosted",
        "TicketUpdated",
        "TicketUpdated",
        "TicketStatusChanged",
    ]
    assert [e["actor"] for e in desk.events("TicketUpdated")] == [ALICE.email, "system"]
    assert desk.events("TicketStatusChanged")[0]["reason"] == "agent_reply"


def test_an_internal_note_macro_is_announced_without_its_text(
    desk: MacroDesk, ticket: Ticket
) -> None:
    macro = desk.macro(body="Fraud check for {requester.email}", visibility="internal")
    outcome = desk.apply(ticket, macro)
    assert outcome.message is not None
    assert outcome.message.visibility == "internal"
    assert desk.get(ticket).status == "open"
    assert desk.event_names() == ["MessagePosted"]
    [posted] = desk.events("MessagePosted")
    assert (posted["visibility"], posted["body"]) == ("internal", None)


def test_a_macro_of_changes_alone_posts_nothing(desk: MacroDesk, ticket: Ticket) -> None:
    macro = desk.macro(changes={"status": "in_progress", "assignee": "dana@example.com"})
    outcome = desk.apply(ticket, macro)
    assert outcome.message is None
    assert len(desk.messages(ticket)) == 1
    assert (outcome.ticket.status, outcome.ticket.assignee) == ("in_progress", DANA.email)
    assert desk.event_names() == ["TicketUpdated", "TicketStatusChanged", "TicketAssigned"]
    # Applied again, it changes nothing and writes nothing
    again = desk.apply(ticket, macro)
    assert (again.ticket.version, again.commit) == (outcome.ticket.version, None)
    assert len(desk.event_names()) == 3


def test_unassigning_by_macro(desk: MacroDesk, ticket: Ticket) -> None:
    desk.change(ticket, assignee=DANA.email)
    outcome = desk.apply(ticket, desk.macro(changes={"assignee": None}))
    assert outcome.ticket.assignee is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"assignee": BOB.email}, "changes.assignee"),  # not a member of Billing
        ({"tags_add": [f"t{n}" for n in range(51)]}, "changes.tags_add"),
    ],
)
def test_a_change_the_agent_may_not_make_refuses_the_whole_macro(
    desk: MacroDesk, ticket: Ticket, changes: dict[str, Any], field: str
) -> None:
    macro = desk.macro(body="Done.", changes=changes)
    before = desk.stored(ticket)
    assert invalid(refusal(lambda: desk.apply(ticket, macro)), field)
    assert desk.stored(ticket) == before
    if field == "changes.assignee":  # the preview says so too
        assert invalid(refusal(lambda: desk.preview(ticket, macro)), field)


def test_the_status_rules_refuse_a_macro_on_a_closed_ticket(
    desk: MacroDesk, ticket: Ticket
) -> None:
    desk.change(ticket, status="closed")
    reopen = desk.macro(name="Reopen", changes={"status": "open"})
    reply = desk.macro(name="Reply", body="Hello again")
    before = desk.stored(ticket)
    assert invalid(refusal(lambda: desk.apply(ticket, reopen)), "changes.status")
    assert invalid(refusal(lambda: desk.apply(ticket, reply)), "visibility")
    assert desk.stored(ticket) == before
    # A note is still possible on a closed ticket, as with the messages route
    note = desk.macro(name="Note", body="For the record", visibility="internal")
    assert desk.apply(ticket, note).message is not None


def test_a_stale_version_applies_nothing(desk: MacroDesk, ticket: Ticket) -> None:
    macro = desk.macro(body="Done.", changes={"priority": "urgent"})
    desk.change(ticket, priority="low")
    before = desk.stored(ticket)
    assert isinstance(refusal(lambda: desk.apply(ticket, macro, version=1)), PreconditionFailed)
    stale_body = ExpectedVersion(1, "body")
    body_refusal = refusal(
        lambda: apply_macro(ticket.id, macro.id, stale_body, ALICE, desk.deps, desk.macros)
    )
    assert isinstance(body_refusal, Conflict)
    assert desk.stored(ticket) == before


def test_another_agents_personal_macro_is_not_theirs_to_apply(
    desk: MacroDesk, ticket: Ticket
) -> None:
    danas = desk.macro(DANA, body="Dana's words")
    before = desk.stored(ticket)
    assert invalid(refusal(lambda: desk.apply(ticket, danas, as_=ALICE)), "macro_id")
    assert invalid(refusal(lambda: desk.preview(ticket, danas, as_=ALICE)), "macro_id")
    assert desk.stored(ticket) == before
    # A macro that does not exist is not found
    missing = danas.model_copy(update={"id": "0" * 32})
    assert isinstance(refusal(lambda: desk.apply(ticket, missing)), NotFound)


def test_a_ticket_the_caller_may_not_see_is_not_found_whatever_the_macro(
    desk: MacroDesk, ticket: Ticket
) -> None:
    bobs = desk.macro(BOB, body="Bob's words", changes={"assignee": "me"})
    shared = desk.macro(body="Hi", changes={"status": "closed"})
    for macro in (bobs, shared):
        for action in (desk.apply, desk.preview):
            error = refusal(lambda a=action, m=macro: a(ticket, m, BOB))  # type: ignore[operator]
            assert isinstance(error, NotFound)
            assert "ticket" in error.detail


def test_a_preview_shows_the_text_and_the_changes_and_writes_nothing(
    desk: MacroDesk, ticket: Ticket
) -> None:
    macro = desk.macro(
        body="{ticket.subject}: on it.", changes={"priority": "urgent", "assignee": "me"}
    )
    before = desk.stored(ticket)
    outcome = desk.preview(ticket, macro)
    assert outcome.message is not None
    assert (outcome.message.body, outcome.message.visibility) == ("Invoice twice: on it.", "public")
    assert [(c.field, c.old, c.new) for c in outcome.changes] == [
        ("priority", "medium", "urgent"),
        ("assignee", None, ALICE.email),
        ("status", "open", "waiting_on_client"),
    ]
    assert (outcome.ticket.version, outcome.ticket.priority) == (2, "urgent")
    assert desk.stored(ticket) == before
