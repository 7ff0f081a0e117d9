"""Merging a ticket into another: the conversation is copied into the target, the source is
closed with a pointer to it, both histories record it, and mail to the source now threads into
the target (the tickets service follows `merged_into`).

The copy comes after the commit, as the job the commit records (`merge_copy`): a refused merge
copies nothing, and a copy cut short is finished by the consumer of `TicketMerged`."""

from __future__ import annotations

import logging
import uuid

from services.tickets.logic.access import viewer_of, write_guards
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.find_ticket import load_ticket
from services.tickets.logic.merge_copy import REQUEST_COPY_STEPS, MergeCopy, run_merge_copy
from services.tickets.logic.recording import change_events, history_of, outgoing
from services.tickets.logic.repository import Commit, GuardFailed, StaleVersion
from services.tickets.logic.ticket import (
    Author,
    Change,
    HistoryEntry,
    Message,
    Ticket,
    apply_status,
)
from shared.clock import isoformat
from shared.errors import Conflict, not_found
from shared.events.catalogue import TicketMerged
from shared.identity import Caller

logger = logging.getLogger(__name__)


def merge_tickets(
    source_key: str, target_key: str, caller: Caller, deps: Dependencies, correlation_id: str | None
) -> tuple[Ticket, Ticket]:
    viewer = viewer_of(caller, deps.repository, deps.config.triage_department)
    source, target = load_ticket(source_key, deps), load_ticket(target_key, deps)
    if source is None or not viewer.sees(source):
        raise not_found("ticket", source_key)
    if target is None or not viewer.sees(target):
        raise not_found("ticket", target_key)
    if source.id == target.id:
        raise Conflict("A ticket cannot be merged into itself.")
    if source.merged_into is not None:
        raise Conflict(f"{source.number} was already merged.")
    if target.status == "closed":
        raise Conflict(f"{target.number} is closed, and a closed ticket is final.")
    now = deps.clock.now()
    note = Message(
        id=str(uuid.uuid4()),
        ticket_id=target.id,
        visibility="internal",
        author=Author(type="system"),
        body=f"{source.number} ({source.subject}) was merged into this ticket by {caller.email}.",
        created_at=now,
    )
    merged = TicketMerged(
        source_ticket_id=source.id,
        source_number=source.number,
        target_ticket_id=target.id,
        target_number=target.number,
        actor=caller.email,
        merged_at=isoformat(now),
    )
    new_target = target.model_copy(update={"version": target.version + 1, "updated_at": now})
    new_source = source.model_copy(deep=True)
    changes: list[Change] = [Change(field="merged_into", old=None, new=target.number)]
    new_source.merged_into = target.id
    changes += [c for c in [apply_status(new_source, "closed", now)] if c]
    new_source.version, new_source.updated_at = source.version + 1, now
    triage = deps.config.triage_department
    job = MergeCopy(source_id=source.id, target_id=target.id)
    try:
        # Both tickets and the copy job in one transaction: a merge is either whole or not at all.
        deps.repository.commit_merge(
            job,
            Commit(
                ticket=new_target,
                previous=target,
                messages=[note],
                history=[
                    HistoryEntry(
                        ticket_id=target.id,
                        field="merged_from",
                        new=source.number,
                        actor=caller.email,
                        at=now,
                    )
                ],
                guards=write_guards(caller, target.department_id, triage, target_key),
            ),
            Commit(
                ticket=new_source,
                previous=source,
                history=history_of(new_source, changes, caller.email, now),
                events=outgoing(
                    [merged, *change_events(new_source, changes, caller.email, now, "merge")],
                    now,
                    correlation_id,
                ),
                guards=write_guards(caller, source.department_id, triage, source_key),
            ),
        )
    except GuardFailed:
        raise not_found("ticket", source_key) from None
    except StaleVersion:
        raise Conflict("One of the tickets changed during the merge; try again.") from None
    try:
        # At once, so the agent finds the whole conversation on the target.
        run_merge_copy(job, deps, max_steps=REQUEST_COPY_STEPS)
    except Exception:
        # The merge stands; the consumer of its TicketMerged finishes the copy.
        logger.warning("merge copy left unfinished", exc_info=True, extra={"source": source.id})
    return new_source, new_target
