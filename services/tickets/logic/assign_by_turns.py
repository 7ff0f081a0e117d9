"""Assignment by turns: a department that opts in gives each new ticket to the next of its
members (in the order of their addresses, after the one who had the last turn) who is available
and below the department's limit of open tickets. The turn is taken in the ticket's own
transaction, on the condition that nobody took it meanwhile, so tickets opened at the same moment
never go to the same member out of turn; the loser reads the rotation again and takes the next."""

from __future__ import annotations

import bisect
import random
import time
from dataclasses import replace

from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.recording import change_events, history_of, outgoing
from services.tickets.logic.repository import (
    AgentLoad,
    Commit,
    GuardFailed,
    MemberGuard,
    Rotation,
    Turn,
    TurnTaken,
)
from services.tickets.logic.ticket import SYSTEM, Change, Department, Ticket
from shared.events.catalogue import TicketCreated

REASON = "assigned by turns"
# Each lost race means another ticket was assigned: this many tickets opened in one department
# at the same moment still all find their turn.
ATTEMPTS = 200
BACKOFF_SECONDS = 0.005  # per attempt lost, up to ten: the racers spread out instead of colliding


def next_in_turn(
    department: Department, rotation: Rotation, loads: dict[str, AgentLoad]
) -> str | None:
    """The member whose turn it is: the first after the last one given a ticket who is available
    and below the open limit; None when nobody is."""
    members = sorted(department.members)
    start = bisect.bisect_right(members, rotation.last) if rotation.last is not None else 0
    for member in members[start:] + members[:start]:
        load = loads.get(member, AgentLoad())
        limit = department.open_limit
        if load.available and (limit is None or load.open_tickets < limit):
            return member
    return None


def commit_new_ticket(
    commit: Commit,
    created: TicketCreated,
    department: Department | None,
    correlation_id: str | None,
    deps: Dependencies,
) -> Ticket:
    """Store a new ticket and announce it (`created`): in a department that assigns by turns,
    given to whoever's turn it is (left unassigned when nobody can take it). Returns the ticket
    as stored."""
    at = commit.ticket.created_at
    unassigned = replace(commit, events=[*commit.events, *outgoing([created], at, correlation_id)])
    if department is None or department.assignment != "round_robin":
        deps.repository.commit(unassigned)
        return commit.ticket
    for attempt in range(ATTEMPTS):
        rotation, loads = deps.repository.rotation(department.id, department.members)
        assignee = next_in_turn(department, rotation, loads)
        if assignee is None:
            break
        turn = Turn(department.id, assignee, rotation.turns, department.open_limit)
        assigned = _assigned(commit, created, turn, correlation_id)
        try:
            deps.repository.commit(assigned)
        except TurnTaken:
            time.sleep(random.uniform(0, BACKOFF_SECONDS * min(attempt + 1, 10)))
            continue
        except GuardFailed as failed:
            if not (isinstance(failed.guard, MemberGuard) and failed.guard.role == "assignee"):
                raise
            # The member left the department since it was read: take the turns of those in it.
            department = deps.repository.department(department.id) or department
            continue
        return assigned.ticket
    # Nobody can take it (or the races never ended): it waits in the queue, never lost.
    deps.repository.commit(unassigned)
    return commit.ticket


def _assigned(
    commit: Commit, created: TicketCreated, turn: Turn, correlation_id: str | None
) -> Commit:
    """The commit with its ticket given to the turn's assignee, recorded as the system's change.
    The announcement names the assignee too, so no consumer takes the ticket for nobody's."""
    ticket = commit.ticket.model_copy(deep=True, update={"assignee": turn.assignee})
    changes = [Change(field="assignee", old=None, new=turn.assignee)]
    at = ticket.created_at
    announced = [
        created.model_copy(update={"assignee": turn.assignee}),
        *change_events(ticket, changes, SYSTEM, at, REASON),
    ]
    return replace(
        commit,
        ticket=ticket,
        history=[*commit.history, *history_of(ticket, changes, SYSTEM, at, REASON)],
        events=[*commit.events, *outgoing(announced, at, correlation_id)],
        guards=[*commit.guards, MemberGuard(turn.assignee, turn.department_id, role="assignee")],
        turn=turn,
    )
