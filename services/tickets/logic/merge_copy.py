"""Copying a merged ticket's conversation into the target, after the merge, as a recorded job.

The merge's transaction records the job with the tickets and the `TicketMerged` event (a
transaction holds at most 100 items, a conversation may hold thousands of messages). The copy
then goes a batch at a time, each batch's progress recorded after the batch is written. Copies
have ids derived from the original and the target, so a batch redone after a crash rewrites the
same copies. The merge request runs the job at once; the consumer of `TicketMerged` resumes
whatever a crash left unfinished, and finds a finished job nothing to do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from services.tickets.logic.ticket import Message

if TYPE_CHECKING:  # dependencies names the job in its Protocol
    from services.tickets.logic.dependencies import Dependencies

COPY_NAMESPACE = uuid.UUID("5f0c7c56-2f57-4c2e-9a55-5d0b6f1f2a10")
COPY_STEP = 25  # messages per step: one DynamoDB batch write
# The merge request copies up to 1,000 messages itself, well within API Gateway's 29 seconds; the
# consumer of `TicketMerged` copies the rest of a longer conversation.
REQUEST_COPY_STEPS = 40


@dataclass(frozen=True)
class MergeCopy:
    """Where the copy of a merged ticket's conversation into its target stands."""

    source_id: str
    target_id: str
    cursor: str | None = None  # after the last copied source message; None: from the start
    copied: int = 0
    done: bool = False


def copy_of(message: Message, target_id: str) -> Message:
    """The target's copy of a source message. It keeps its time, so the target's conversation
    reads in order, and its id derives from the original and the target: written again, it
    replaces itself."""
    return message.model_copy(
        update={
            "id": str(uuid.uuid5(COPY_NAMESPACE, f"{target_id}/{message.id}")),
            "ticket_id": target_id,
        }
    )


def run_merge_copy(
    job: MergeCopy,
    deps: Dependencies,
    on_step: Callable[[MergeCopy], None] | None = None,
    max_steps: int | None = None,
) -> MergeCopy:
    """Copy what is left of the job, a step at a time (at most `max_steps`); `on_step` hears of
    each recorded step. Returns the job as it ends: done, unless steps ran out or its record
    vanished meanwhile."""
    steps = 0
    while not job.done and (max_steps is None or steps < max_steps):
        steps += 1
        _, page = deps.repository.get_with_messages(job.source_id, COPY_STEP, job.cursor)
        deps.repository.copy_messages([copy_of(m, job.target_id) for m in page.items])
        step = replace(
            job,
            cursor=page.cursor or job.cursor,
            copied=job.copied + len(page.items),
            done=page.cursor is None,
        )
        if not deps.repository.record_merge_copy(step):
            # Another run (the request and the consumer at once) recorded more: go on from
            # there, or stop if it finished.
            found = deps.repository.merge_copy(job.source_id)
            if found is None:
                break
            job = found
            continue
        job = step
        if on_step is not None:
            on_step(job)
    return job


def resume_merge_copy(
    source_id: str,
    deps: Dependencies,
    on_step: Callable[[MergeCopy], None] | None = None,
) -> MergeCopy | None:
    """Finish the copy of the merge of `source_id`, if it is unfinished; None if no job was
    recorded (merges from before jobs copied everything before their commit)."""
    job = deps.repository.merge_copy(source_id)
    if job is None or job.done:
        return job
    return run_merge_copy(job, deps, on_step)
