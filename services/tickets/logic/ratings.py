"""Clients' ratings of resolved tickets (CSAT): a client follows a link of the rating mail, sees
the ticket and their choice, and sends it with a comment if they like. Only sending records: mail
scanners that open every link in a mail cast no rating.

A rating is on the ticket, in its history and announced (TicketRated). It counts for the ticket's
department and assignee at rating time, per day, in counters written in the same transaction, so
a report reads only the days of its period. The client may change it while the link is valid: the
old rating is taken off the counts it was added to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from services.tickets.logic.access import viewer_of
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.recording import outgoing
from services.tickets.logic.repository import Commit, RatingTally, StaleVersion
from services.tickets.logic.ticket import HistoryEntry, Satisfaction, Ticket
from shared.clock import isoformat
from shared.errors import Conflict, FieldError, Invalid, NotFound, not_found
from shared.events.catalogue import TicketRated
from shared.identity import Caller
from shared.rating_links import Rating, RatingClaim, read_rating_token

MAX_COMMENT = 2000  # characters
MAX_REPORT_DAYS = 366
WRITE_ATTEMPTS = 3  # a ticket changed by an agent meanwhile is read again
NO_DEPARTMENT = "none"  # the `department_id` that means tickets without one


class RatingTallies(Protocol):
    def tallies(self, department_id: str | None, first: date, last: date) -> list[RatingTally]:
        """The counts of one department on the days `first` to `last`, both included."""
        ...


def rated_ticket(token: str, secret: str | None, deps: Dependencies) -> tuple[Ticket, RatingClaim]:
    """The ticket a rating link is for, and what the link claims; reads only. Raises
    InvalidRatingToken or ExpiredRatingToken for a link that is not ours or is too old, Conflict
    when the ticket was resolved again since (that resolution has a link of its own)."""
    if secret is None:  # without the deployment's secret no link was ever given out
        raise NotFound("This helpdesk does not take ratings.")
    claim = read_rating_token(secret, token, deps.clock.now())
    ticket = deps.repository.get(claim.ticket_id)
    if ticket is None:
        raise not_found("ticket", claim.ticket_id)
    if not _rates_latest_resolution(ticket, claim):
        raise Conflict(
            f"{ticket.number} was resolved again after this link was sent: "
            "please use the link in the newest mail about it."
        )
    return ticket, claim


def _rates_latest_resolution(ticket: Ticket, claim: RatingClaim) -> bool:
    """The link names its resolution by the time it was announced, a moment after the ticket
    recorded it: a later resolution of the ticket is one the link was not sent for. Compared to
    the millisecond, as the wire writes times."""
    if ticket.resolved_at is None:
        return False
    resolved = ticket.resolved_at.replace(microsecond=ticket.resolved_at.microsecond // 1000 * 1000)
    return resolved <= datetime.fromisoformat(claim.resolved_at)


def rate_ticket(
    token: str, rating: Rating, comment: str | None, secret: str | None, deps: Dependencies
) -> Ticket:
    """Record the client's rating (replacing their earlier one for the same resolution)."""
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        message = f"a comment is at most {MAX_COMMENT} characters"
        raise Invalid(f"comment: {message}", [FieldError("comment", message)])
    for attempt in range(WRITE_ATTEMPTS):
        ticket, claim = rated_ticket(token, secret, deps)
        try:
            return _record(ticket, claim, rating, comment, deps)
        except StaleVersion:
            if attempt == WRITE_ATTEMPTS - 1:
                raise Conflict(f"{ticket.number} is changing: please send again.") from None
    raise AssertionError("unreachable")  # the loop returns or raises


def _record(
    ticket: Ticket, claim: RatingClaim, rating: Rating, comment: str | None, deps: Dependencies
) -> Ticket:
    now = deps.clock.now()
    earlier = ticket.satisfaction
    if earlier is not None and earlier.resolved_at != claim.resolved_at:
        earlier = None  # a rating of an earlier resolution: it stays counted where it is
    rated = Satisfaction(
        rating=rating,
        comment=comment,
        rated_at=now,
        resolved_at=claim.resolved_at,
        agent=ticket.assignee,
        department_id=ticket.department_id,
    )
    # A client's rating is not an agent's edit: version and updated_at (the clock of the
    # automatic close) stay.
    changed = ticket.model_copy(update={"satisfaction": rated})
    entry = HistoryEntry(
        ticket_id=ticket.id,
        field="satisfaction",
        old=None if earlier is None else {"rating": earlier.rating, "comment": earlier.comment},
        new={"rating": rating, "comment": comment},
        actor=ticket.requester.email,
        at=now,
    )
    event = TicketRated(
        ticket_id=ticket.id,
        number=ticket.number,
        rating=rating,
        previous_rating=None if earlier is None else earlier.rating,
        comment=comment,
        resolved_at=claim.resolved_at,
        agent=ticket.assignee,
        department_id=ticket.department_id,
        rated_at=isoformat(now),
    )
    tallies = [_tally(rated, 1)] + ([_tally(earlier, -1)] if earlier is not None else [])
    deps.repository.commit(
        Commit(
            ticket=changed,
            previous=ticket,
            history=[entry],
            events=outgoing([event], now, None),
            tallies=tallies,
        )
    )
    return changed


def _tally(rated: Satisfaction, count: int) -> RatingTally:
    good, bad = (count, 0) if rated.rating == "good" else (0, count)
    return RatingTally(rated.rated_at.date(), rated.department_id, rated.agent, good, bad)


@dataclass
class Score:
    good: int = 0
    bad: int = 0

    @property
    def share_good(self) -> float | None:
        rated = self.good + self.bad
        return round(self.good / rated, 3) if rated else None

    def add(self, tally: RatingTally) -> None:
        self.good += tally.good
        self.bad += tally.bad


@dataclass
class CsatReport:
    first: date
    last: date
    total: Score = field(default_factory=Score)
    departments: dict[str | None, Score] = field(default_factory=dict)
    agents: dict[str | None, Score] = field(default_factory=dict)


def csat_report(
    first: date,
    last: date,
    department: str | None,
    caller: Caller,
    deps: Dependencies,
    tallies: RatingTallies,
) -> CsatReport:
    """Good and bad ratings given from `first` to `last` (days, UTC, both included), per
    department and per agent, over the departments the caller sees (or the one asked for)."""
    if last < first:
        message = "must not be before from"
        raise Invalid(f"query.to: {message}", [FieldError("query.to", message)])
    if (last - first) >= timedelta(days=MAX_REPORT_DAYS):
        message = f"a report covers at most {MAX_REPORT_DAYS} days"
        raise Invalid(f"query.from: {message}", [FieldError("query.from", message)])
    viewer = viewer_of(caller, deps.repository, deps.config.triage_department)
    if department is not None:
        wanted = None if department == NO_DEPARTMENT else department
        if not viewer.sees_department(wanted):
            raise not_found("department", department)
        departments: list[str | None] = [wanted]
    else:
        known: list[str | None] = [d.id for d in deps.repository.departments()]
        departments = [d for d in [*known, None] if viewer.sees_department(d)]
    report = CsatReport(first, last)
    for department_id in departments:
        score = report.departments.setdefault(department_id, Score())
        for tally in tallies.tallies(department_id, first, last):
            score.add(tally)
            report.agents.setdefault(tally.agent, Score()).add(tally)
            report.total.add(tally)
    return report


def report_days(start: date | None, end: date | None, today: datetime) -> tuple[date, date]:
    """The period asked for; by default the 30 days up to today."""
    last = end or today.date()
    return start or last - timedelta(days=29), last
