"""The tickets API's bulk change route: parse, call the use case, answer."""

from __future__ import annotations

from typing import Any

from services.tickets.bulk_models import (
    BulkChangedOut,
    BulkChangeIn,
    BulkChangeOut,
    BulkRefusedOut,
)
from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.bulk_change import Changed, Outcome, change_tickets
from services.tickets.logic.change_ticket import UNSET, TicketPatch
from shared.api import Api, ApiRequest

api = Api(__name__, tag="tickets", service="tickets")


@api.route(
    "/tickets/bulk",
    "POST",
    summary="Change up to 100 tickets at once, each as a single PATCH would (no version)",
    body=BulkChangeIn,
    response=BulkChangeOut,
    idempotent=True,
)
def bulk_change(request: ApiRequest[BulkChangeIn, Any]) -> BulkChangeOut:
    changes = request.body.changes
    sent = changes.model_fields_set
    assignee: str | object | None = UNSET
    if "assignee" in sent:  # sent as null: unassign
        assignee = str(changes.assignee).lower() if changes.assignee else None
    patch = TicketPatch(
        status=changes.status,
        priority=changes.priority,
        assignee=assignee,
        department_id=changes.department_id if "department_id" in sent else UNSET,
        tags_add=frozenset(changes.tags_add),
        tags_remove=frozenset(changes.tags_remove),
    )
    outcomes = change_tickets(
        request.body.ticket_ids, patch, request.caller, dependencies(), request.request_id
    )
    return BulkChangeOut(items=[_item(outcome) for outcome in outcomes])


def _item(outcome: Outcome) -> BulkChangedOut | BulkRefusedOut:
    if isinstance(outcome, Changed):
        ticket = outcome.ticket
        return BulkChangedOut(
            id=outcome.key,
            status=200,
            ticket_id=ticket.id,
            number=ticket.number,
            version=ticket.version,
        )
    error = outcome.error
    return BulkRefusedOut(id=outcome.key, status=error.status, problem=error.to_problem())
