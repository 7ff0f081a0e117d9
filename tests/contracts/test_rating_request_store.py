"""What the delayed rating mail counts on from its store, held against the in-memory fake and the
DynamoDB adapter alike: a request is due at its time, the oldest first, and taken once; a re-open
after its resolution, or a later resolution, means it is not taken, whichever event came first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.channels.data.rating_requests import DynamoRatingRequestStore
from services.channels.logic.dependencies import RatingRequestStore
from services.channels.logic.rating_requests import RatingRequest
from shared.clock import isoformat
from tests.fakes.channels import FakeRatingRequestStore

T0 = datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)
DELAY = timedelta(minutes=30)


@pytest.fixture
def store(implementation: str) -> RatingRequestStore:
    return FakeRatingRequestStore() if implementation == "fake" else DynamoRatingRequestStore()


def _request(ticket_id: str, resolved_at: datetime) -> RatingRequest:
    return RatingRequest(ticket_id, isoformat(resolved_at), resolved_at + DELAY)


def test_a_request_is_due_at_its_time_oldest_first_and_taken_once(
    store: RatingRequestStore,
) -> None:
    later = _request("t2", T0 + timedelta(minutes=1))
    earlier = _request("t1", T0)
    store.hold(later)
    store.hold(earlier)
    assert store.due(earlier.due_at - timedelta(seconds=1), 10) == []
    assert store.due(later.due_at, 10) == [earlier, later]
    assert store.due(later.due_at, 1) == [earlier]
    assert store.take(earlier) is True
    assert store.take(earlier) is False  # another sweep took it
    assert store.due(later.due_at, 10) == [later]
    store.hold(earlier)  # its event delivered again: listed, and taken, again
    assert store.take(earlier) is True


def test_a_re_open_after_the_resolution_means_it_is_not_taken(store: RatingRequestStore) -> None:
    request = _request("t1", T0)
    store.hold(request)
    store.reopened("t1", isoformat(T0 - timedelta(minutes=1)))  # a re-open before it
    store.reopened("t1", isoformat(T0 + timedelta(minutes=1)))
    store.reopened("t1", isoformat(T0 - timedelta(minutes=2)))  # an older one, late
    assert store.due(request.due_at, 10) == [request]
    assert store.take(request) is False
    assert store.due(request.due_at, 10) == []  # off the list
    store.hold(request)  # its event arriving after the re-open's
    assert store.due(request.due_at, 10) == []


def test_only_the_latest_resolution_is_taken(store: RatingRequestStore) -> None:
    first = _request("t1", T0)
    store.reopened("t1", isoformat(T0 + timedelta(minutes=1)))
    second = _request("t1", T0 + timedelta(minutes=2))
    store.hold(second)
    store.hold(first)  # older than the re-open and the resolution known
    assert store.due(second.due_at, 10) == [second]
    store.hold(_request("t2", T0))
    store.hold(third := _request("t2", T0 + timedelta(minutes=5)))
    assert store.take(_request("t2", T0)) is False  # a later resolution is asked about
    assert store.take(third) is True
