"""Rating mails waiting for the deployment's delay, on DynamoDB (pynamodb): a due list (as the
grouped notifications keep one), and an item per ticket that says whether what waits still goes.
See tables.py for the keys."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError

from services.channels.data.due_list import DueList
from services.channels.data.notifications import CLAIM_DAYS
from services.channels.data.tables import SERVICE, ChannelsTable, RatingDueItem, RatingTicketItem
from services.channels.logic.rating_requests import RatingRequest
from shared.storage import bind_table, failed_conditions, transaction

DUE = DueList("RATING_DUE", RatingDueItem)  # one entry per ticket and due time
# The ticket's item outlives what waits by as long as a late event can still come.
KEPT = timedelta(days=CLAIM_DAYS)


def _ticket_key(ticket_id: str) -> tuple[str, str]:
    return f"RATING#{ticket_id}", "RATING"


class DynamoRatingRequestStore:
    def __init__(self) -> None:
        bind_table(ChannelsTable, SERVICE)

    def hold(self, request: RatingRequest) -> None:
        resolved_at = request.resolved_at
        condition = (
            RatingTicketItem.reopened_at.does_not_exist()
            | (RatingTicketItem.reopened_at < resolved_at)
        ) & (
            RatingTicketItem.resolved_at.does_not_exist()
            | (RatingTicketItem.resolved_at <= resolved_at)
        )
        try:
            with transaction(ChannelsTable) as write:
                write.update(
                    RatingTicketItem(*_ticket_key(request.ticket_id)),
                    actions=[
                        RatingTicketItem.resolved_at.set(resolved_at),
                        RatingTicketItem.expires_at.set(request.due_at + KEPT),
                    ],
                    condition=condition,
                )
                DUE.add(
                    write,
                    request.due_at,
                    request.ticket_id,
                    ticket_id=request.ticket_id,
                    resolved_at=resolved_at,
                )
        except TransactWriteError as error:
            if not failed_conditions(write, error):
                raise  # otherwise re-opened after it, or resolved again since

    def reopened(self, ticket_id: str, at: str) -> None:
        item = RatingTicketItem
        try:
            item(*_ticket_key(ticket_id)).update(
                actions=[
                    item.reopened_at.set(at),
                    item.expires_at.set(item.expires_at | (datetime.fromisoformat(at) + KEPT)),
                ],
                condition=item.reopened_at.does_not_exist() | (item.reopened_at < at),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise  # otherwise a later re-open is kept already

    def due(self, now: datetime, limit: int) -> list[RatingRequest]:
        return [
            RatingRequest(item.ticket_id, item.resolved_at, due_at)
            for due_at, item in DUE.due(now, limit)
        ]

    def take(self, request: RatingRequest) -> bool:
        ticket_key, ticket = _ticket_key(request.ticket_id), RatingTicketItem
        try:
            with transaction(ChannelsTable) as write:
                DUE.take(write, request.due_at, request.ticket_id)
                write.condition_check(
                    RatingTicketItem,
                    *ticket_key,
                    condition=(ticket.resolved_at == request.resolved_at)
                    & (
                        ticket.reopened_at.does_not_exist()
                        | (ticket.reopened_at < request.resolved_at)
                    ),
                )
        except TransactWriteError as error:
            failed = failed_conditions(write, error)
            if failed == {ticket_key}:
                # Re-opened, or resolved again: not sent, and off the list.
                DUE.drop(request.due_at, request.ticket_id)
                return False
            if failed:
                return False  # another sweep took it
            raise
        return True
