"""Binding a service's pynamodb table classes to their physical table at first use.

Table classes declare a logical name (the service's); the physical name comes from settings when
the repository is built, never at import, so importing needs no environment.
"""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.settings import get_settings


def bind_table(table: type[Model], service: str) -> None:
    settings = get_settings()
    table.Meta.table_name = settings.table_name(service)
    table.Meta.region = settings.region


def transaction(table: type[Model]) -> TransactWrite:
    """A write transaction on the table's cached connection (a new one costs a client build)."""
    return TransactWrite(connection=table._get_connection().connection)


def condition_failed(error: TransactWriteError) -> bool:
    """Whether the transaction was cancelled because a condition did not hold. pynamodb sends
    condition checks, then deletes, puts and updates, whatever order they were added in, so the
    position of a reason does not say which item it is about: for a transaction with one
    conditional write, any failed condition is that one."""
    return any(
        reason is not None and reason.code == "ConditionalCheckFailed"
        for reason in error.cancellation_reasons or []
    )
