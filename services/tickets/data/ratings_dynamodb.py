"""Clients' ratings counted per day, department and agent, on DynamoDB: written with the rating's
commit, read one Query per department for a report (never a Scan)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from services.tickets.data.tables import SERVICE, RatingTallyItem, TicketsTable
from services.tickets.logic.repository import RatingTally
from shared.keys import NO_KEY
from shared.storage import bind_table


def tally_key(department_id: str | None) -> str:
    return f"RATINGS#{department_id or NO_KEY}"


def add_tallies(write: Any, tallies: Iterable[RatingTally]) -> None:
    """Add the tallies in the transaction `write`, one update per item (a transaction may touch
    an item once)."""
    summed: dict[tuple[str, str], list[int]] = {}
    for tally in tallies:
        key = (tally_key(tally.department_id), f"{tally.day.isoformat()}#{tally.agent or NO_KEY}")
        counts = summed.setdefault(key, [0, 0])
        counts[0] += tally.good
        counts[1] += tally.bad
    for (pk, sk), (good, bad) in summed.items():
        if good or bad:
            actions = [
                RatingTallyItem.good.add(good),
                RatingTallyItem.bad.add(bad),
                RatingTallyItem.kind.set(RatingTallyItem),
            ]
            write.update(RatingTallyItem(pk, sk), actions=actions)


class DynamoRatingTallies:
    def __init__(self) -> None:
        bind_table(TicketsTable, SERVICE)

    def tallies(self, department_id: str | None, first: date, last: date) -> list[RatingTally]:
        """The counts of the days `first` to `last` (both included) of one department."""
        items = RatingTallyItem.query(
            tally_key(department_id),
            RatingTallyItem.sk.between(f"{first.isoformat()}#", f"{last.isoformat()}#\uffff"),
        )
        found = []
        for item in items:
            day, _, agent = item.sk.partition("#")
            found.append(
                RatingTally(
                    day=date.fromisoformat(day),
                    department_id=department_id,
                    agent=None if agent == NO_KEY else agent,
                    good=int(item.good or 0),
                    bad=int(item.bad or 0),
                )
            )
        return found
