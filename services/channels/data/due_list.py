"""A list of what falls due, under one partition of the channels table: each entry's sort key
starts with its due time, so one Query reads everything due by now, the oldest first. The grouped
notifications (`NOTIFY_DUE`) and the delayed rating mail (`RATING_DUE`) each keep one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pynamodb.transactions import TransactWrite

from services.channels.data.tables import ChannelsTable

Entry = TypeVar("Entry", bound=ChannelsTable)


class DueList(Generic[Entry]):
    """The entries of `partition`, as items of `entry`, each named by its due time and `name`
    (what is due, unique at that time)."""

    def __init__(self, partition: str, entry: type[Entry]) -> None:
        self.partition = partition
        self.entry = entry

    def _key(self, due_at: datetime, name: str) -> tuple[str, str]:
        return self.partition, f"{due_at.isoformat()}#{name}"

    def due(self, now: datetime, limit: int) -> list[tuple[datetime, Entry]]:
        """The entries due by `now` with their due times, the oldest first; no more than
        `limit`."""
        entries = self.entry.query(
            self.partition, self.entry.sk <= f"{now.isoformat()}#\uffff", limit=limit
        )
        return [(datetime.fromisoformat(e.sk.partition("#")[0]), e) for e in entries]

    def add(self, write: TransactWrite, due_at: datetime, name: str, **fields: Any) -> None:
        write.save(self.entry(*self._key(due_at, name), **fields))

    def remove(self, write: TransactWrite, due_at: datetime, name: str) -> None:
        write.delete(self.entry(*self._key(due_at, name)))

    def take(self, write: TransactWrite, due_at: datetime, name: str) -> None:
        """Remove the entry on the condition that it is still listed: of two sweeps, one takes
        it."""
        write.delete(self.entry(*self._key(due_at, name)), condition=self.entry.pk.exists())

    def drop(self, due_at: datetime, name: str) -> None:
        """Remove the entry on its own, outside any transaction."""
        self.entry(*self._key(due_at, name)).delete()
