"""The functions that sync: the one reading the work queue (webhook changes, requested runs),
the poll every few minutes, and the nightly full pass that catches whatever was missed.

A run reads a bounded number of pages; when work is left it queues its own continuation, so a
long backfill proceeds run after run, each resuming from the stored checkpoint. One run at a time:
a run that finds another under way stands down (a full pass asked for is queued again).
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint, Chalice, Rate

from services.crm_sync.handlers.wiring import dependencies
from services.crm_sync.logic.repository import Run
from services.crm_sync.logic.work import SyncRequest, parse_message, sync_message

WORK_FUNCTION = "apply_crm_work"
POLL_MINUTES = 5
BUSY_RETRY_SECONDS = 60

logger = logging.getLogger(__name__)


def run_sync(request: SyncRequest) -> Run | None:
    deps = dependencies()
    if deps.engine is None:
        return None
    run = deps.engine.run(full=request.full)
    if run.outcome == "more":  # the rest in a fresh invocation, from the saved checkpoint
        deps.queue.send([sync_message(SyncRequest(requested_by="continuation"))])
    elif run.outcome == "busy" and request.full:
        # The run under way does the incremental work a plain request asks for, not a full
        # pass: ask again once it is over (runs are short).
        deps.queue.send([sync_message(request)], delay_seconds=BUSY_RETRY_SECONDS)
    return run


def _apply(record: SQSRecord) -> None:
    message = parse_message(record.body)
    if isinstance(message, SyncRequest):
        run_sync(message)
        return
    engine = dependencies().engine
    if engine is None:
        logger.warning("webhook changes queued while no CRM is connected; dropped")
        return
    # A CRM outage or a long rate limit raises: the message is retried, then dead-lettered.
    engine.apply_changes(message)


def apply_crm_work(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]
        event=event,
        record_handler=_apply,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )


def poll_crm(event: Any) -> None:
    run_sync(SyncRequest())


def reconcile_crm(event: Any) -> None:
    run_sync(SyncRequest(full=True))


def register_work(app: Chalice | Blueprint) -> tuple[Any, Any, Any]:
    """Add the sync functions. Returns them: its entry module must hold each under its own name,
    the handler Lambda looks up."""
    return (
        app.lambda_function(name=WORK_FUNCTION)(apply_crm_work),
        app.schedule(Rate(POLL_MINUTES, unit=Rate.MINUTES), name="poll_crm")(poll_crm),
        app.schedule(Rate(1, unit=Rate.DAYS), name="reconcile_crm")(reconcile_crm),
    )
