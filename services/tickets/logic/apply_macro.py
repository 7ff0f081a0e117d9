"""Applying a macro to a ticket: its text filled in for that ticket and agent, posted as a reply or
note, and its changes made, all in one commit, with the history and events the separate reply and
change would have made; or a preview of the same that writes nothing.

With a text, the macro's status comes with the message, as a reply naming a status does; without
one, a public reply moves the ticket on by the usual rule (the system's change, in history). A
change the ticket's rules refuse is the macro's invalid input here, named by its field
(`changes.status`, `changes.assignee`, ...).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from services.tickets.logic.access import viewer_of, write_guards
from services.tickets.logic.change_ticket import (
    UNSET,
    ExpectedVersion,
    TicketPatch,
    apply_patch,
    refused_change,
    stale_version,
)
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.find_ticket import find_ticket, load_ticket
from services.tickets.logic.macros import ME, Macro, MacroStore, render, usable_macro
from services.tickets.logic.post_message import NewMessage, append_message, check_agent_message
from services.tickets.logic.recording import change_events, history_of, message_posted, outgoing
from services.tickets.logic.repository import (
    Commit,
    Guard,
    GuardFailed,
    MemberGuard,
    StaleVersion,
)
from services.tickets.logic.ticket import (
    Author,
    Change,
    Message,
    Ticket,
    check_status_change,
)
from shared.errors import Conflict, DomainError, FieldError, Invalid, not_found
from shared.events.envelope import EventData
from shared.identity import Caller
from shared.storage import retry_on_stale


@dataclass(frozen=True)
class MacroOutcome:
    ticket: Ticket  # as the macro leaves it
    message: Message | None  # the text it posts, filled in
    changes: list[Change]  # the caller's, then what followed from the reply
    commit: Commit | None  # None: nothing to write


def apply_macro(
    key: str,
    macro_id: str,
    expected: ExpectedVersion | None,
    caller: Caller,
    deps: Dependencies,
    macros: MacroStore,
    correlation_id: str | None = None,
) -> MacroOutcome:
    triage = deps.config.triage_department

    def attempt() -> MacroOutcome:
        current = load_ticket(key, deps)
        if current is None:
            raise not_found("ticket", key)
        try:
            guards = write_guards(caller, current.department_id, triage, key)
            macro = usable_macro(macro_id, caller, macros)
            if expected is not None and expected.version != current.version:
                raise stale_version(expected, current)
            outcome = _outcome(current, macro, caller, deps, guards, correlation_id)
        except DomainError:
            # Never tell a caller who may not see the ticket anything but "not found".
            if not viewer_of(caller, deps.repository, triage).sees(current):
                raise not_found("ticket", key) from None
            raise
        if outcome.commit is None:
            # Nothing to write means no write-time membership check: check before answering.
            if not viewer_of(caller, deps.repository, triage).sees(current):
                raise not_found("ticket", key)
            return outcome
        try:
            deps.repository.commit(outcome.commit)
        except GuardFailed as failed:
            raise _of_macro(refused_change(failed.guard, key)) from None
        return outcome

    return retry_on_stale(
        attempt, StaleVersion, Conflict("The ticket is changing too fast; try again.")
    )


def preview_macro(
    key: str, macro_id: str, caller: Caller, deps: Dependencies, macros: MacroStore
) -> MacroOutcome:
    """What applying the macro would post and change now, refused as applying it would be."""
    current = find_ticket(key, caller, deps)
    outcome = _outcome(current, usable_macro(macro_id, caller, macros), caller, deps, [], None)
    # The write would check who may be assigned; a preview asks.
    assignees = [
        guard
        for guard in (outcome.commit.guards if outcome.commit else [])
        if isinstance(guard, MemberGuard) and guard.role == "assignee"
    ]
    for guard in assignees:
        if not deps.repository.is_member(guard.email, guard.department_id):
            raise _of_macro(refused_change(guard, key))
    return outcome


def _outcome(
    current: Ticket,
    macro: Macro,
    caller: Caller,
    deps: Dependencies,
    guards: list[Guard],
    correlation_id: str | None,
) -> MacroOutcome:
    changes = macro.changes
    reply: NewMessage | None = None
    if macro.body is not None:
        text = render(macro.body, _values(current, caller, deps))
        author = Author(type="agent", email=caller.email)
        reply = NewMessage(
            text, author, macro.visibility, changes.status, correlation_id=correlation_id
        )
    if changes.status is not None:
        try:
            check_status_change(current, changes.status)
        except Conflict as refused:
            raise _invalid("changes.status", refused.detail) from None
    if reply is not None:
        try:
            check_agent_message(current, reply)
        except Conflict as refused:
            raise _invalid("visibility", refused.detail) from None
    assignee: str | object | None = UNSET
    if "assignee" in changes.model_fields_set:
        assignee = caller.email if changes.assignee == ME else changes.assignee
    patch = TicketPatch(
        status=changes.status if reply is None else None,
        priority=changes.priority,
        assignee=assignee,
        tags_add=frozenset(changes.tags_add),
        tags_remove=frozenset(changes.tags_remove),
    )
    try:
        ticket, by_caller, guards_for_change = apply_patch(current, patch, caller, deps)
    except Invalid as invalid:
        raise _of_macro(invalid) from None
    now = deps.clock.now()
    appended = append_message(ticket, reply, now) if reply is not None else None
    followed: list[Change] = []
    if appended is not None:
        if appended.actor == caller.email:
            by_caller = by_caller + appended.changes
        else:
            followed = appended.changes
    if appended is None and not by_caller:
        return MacroOutcome(current, None, [], None)
    ticket.version = current.version + 1
    ticket.updated_at = now
    events: list[EventData] = []
    history = history_of(ticket, by_caller, caller.email, now)
    if appended is not None:
        events.append(message_posted(ticket, appended.message, appended.first_response))
    events += change_events(ticket, by_caller, caller.email, now, "agent")
    if appended is not None and followed:
        events += change_events(ticket, followed, appended.actor, now, appended.reason)
        history += history_of(ticket, followed, appended.actor, now)
    message = appended.message if appended is not None else None
    commit = Commit(
        ticket=ticket,
        previous=current,
        messages=[message] if message is not None else [],
        history=history,
        events=outgoing(events, now, correlation_id),
        guards=guards + guards_for_change,
    )
    return MacroOutcome(ticket, message, by_caller + followed, commit)


def _values(ticket: Ticket, caller: Caller, deps: Dependencies) -> Callable[[str], str]:
    """Each placeholder's value for this ticket and caller, read only if the text names it."""
    requester = ticket.requester
    requester_name = requester.name or requester.email

    def agent_name() -> str:
        agent = deps.agents.agent(caller.email)
        return agent.name if agent is not None and agent.name else caller.email

    def department_name() -> str:
        if ticket.department_id is None:
            return ""
        department = deps.repository.department(ticket.department_id)
        return department.name if department is not None else ""

    sources: dict[str, Callable[[], str]] = {
        "ticket.number": lambda: ticket.number,
        "ticket.subject": lambda: ticket.subject,
        "requester.name": lambda: requester_name,
        "requester.first_name": lambda: requester_name.split()[0],
        "requester.email": lambda: requester.email,
        "agent.name": agent_name,
        "agent.email": lambda: caller.email,
        "department.name": department_name,
    }
    return functools.cache(lambda name: sources[name]())


def _invalid(field: str, detail: str) -> Invalid:
    return Invalid(f"{field}: {detail}", [FieldError(field, detail)])


def _of_macro(error: DomainError) -> DomainError:
    """A refusal of a ticket change, naming the field of the macro's changes it came from."""
    if not isinstance(error, Invalid):
        return error
    fields = {"tags": "changes.tags_add"}
    return Invalid(
        error.detail,
        [FieldError(fields.get(e.field, f"changes.{e.field}"), e.message) for e in error.errors],
    )
