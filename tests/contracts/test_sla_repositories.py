"""What the SLA use cases count on from their storage, held against the in-memory fakes and the
DynamoDB repositories alike: timers read back as saved at the next version, a write at a stale
version refused with its events, the alarm and report indexes in order and bounded, policy
versions in order and one retargeting pass at a time, department announcements never undone by
older ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.sla.data.dynamodb import (
    DynamoPolicyRepository,
    DynamoTimerRepository,
    department_store,
)
from services.sla.data.tables import SlaOutbox
from services.sla.logic.dependencies import (
    ALARM_BUCKETS,
    PolicyRepository,
    Retargeting,
    StalePolicy,
    StaleTimer,
    TimerRepository,
    alarm_bucket,
)
from services.sla.logic.policy import DEFAULT_RULES, PolicyHistory, PolicyVersion
from services.sla.logic.timer import Fact, Timer
from shared.clock import FixedClock
from shared.departments import Department, DepartmentStore
from shared.events.catalogue import SlaWarning
from shared.events.envelope import OutgoingEvent
from tests.fakes.departments import FakeDepartmentStore
from tests.fakes.sla import FakePolicyRepository, FakeTimerRepository

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WARNING_AFTER = timedelta(minutes=45)  # an urgent ticket's first warning under the default policy
HISTORY = PolicyHistory([])


@dataclass
class Storage:
    timers: TimerRepository
    policies: PolicyRepository
    departments: DepartmentStore
    outbox: Callable[[], list[str]]  # the ids of the events written, in any order


def fake_storage() -> Storage:
    timers = FakeTimerRepository()
    return Storage(
        timers,
        FakePolicyRepository(),
        FakeDepartmentStore(),
        lambda: [event.envelope.id for event in timers.outbox],
    )


def dynamodb_storage() -> Storage:
    return Storage(
        DynamoTimerRepository(FixedClock(T0)),
        DynamoPolicyRepository(),
        department_store(),
        lambda: [json.loads(item.detail)["id"] for item in SlaOutbox.scan()],
    )


@pytest.fixture
def storage(implementation: str) -> Storage:
    return fake_storage() if implementation == "fake" else dynamodb_storage()


def opened(ticket_id: str, at: datetime = T0, department: str | None = "support") -> Timer:
    """An urgent ticket's timer, started at `at`: its first alarm is 45 minutes later."""
    facts = [
        Fact(id="created", at=at, kind="created", new="urgent"),
        Fact(id=f"department:{at}", at=at, kind="department", new=department),
    ]
    return Timer(ticket_id=ticket_id).with_facts(facts).refresh(HISTORY)


def resolved(timer: Timer, at: datetime) -> Timer:
    facts = [Fact(id=f"status:{at}", at=at, kind="status", new="resolved")]
    return timer.with_facts(facts).refresh(HISTORY)


def warning(ticket_id: str) -> OutgoingEvent:
    data = SlaWarning(ticket_id=ticket_id, target="first_response", due_at="x", at="x")
    return OutgoingEvent.of(data, T0)


def in_bucket(bucket: int, count: int) -> list[str]:
    """`count` ticket ids whose alarms go in `bucket`."""
    ids = (f"ticket-{n}" for n in range(1000))
    return [ticket for ticket in ids if alarm_bucket(ticket) == bucket][:count]


def test_a_saved_timer_reads_back_as_saved_at_the_next_version(storage: Storage) -> None:
    timer = opened("t1")
    assert storage.timers.get("t1") is None
    storage.timers.save(timer, [])
    assert timer.version == 0  # the caller's copy is left as it was
    stored = storage.timers.get("t1")
    assert stored == timer.model_copy(update={"version": 1})
    # A timer read is a copy: changing it changes nothing stored
    assert stored is not None
    stored.clocks["first_response"].status = "met"
    assert storage.timers.get("t1") == timer.model_copy(update={"version": 1})


def test_a_write_at_a_stale_version_is_refused_and_the_first_write_stands(
    storage: Storage,
) -> None:
    storage.timers.save(opened("t1"), [])
    with pytest.raises(StaleTimer):
        storage.timers.save(opened("t1"), [])  # a second "new" timer
    read_by_one, read_by_other = storage.timers.get("t1"), storage.timers.get("t1")
    assert read_by_one is not None
    assert read_by_other is not None
    first = resolved(read_by_one, T0 + timedelta(minutes=5))
    storage.timers.save(first, [])
    with pytest.raises(StaleTimer):
        storage.timers.save(resolved(read_by_other, T0 + timedelta(minutes=9)), [])
    assert storage.timers.get("t1") == first.model_copy(update={"version": 2})
    with pytest.raises(StaleTimer):  # a version of a timer never saved
        storage.timers.save(opened("t2").model_copy(update={"version": 3}), [])
    assert storage.timers.get("t2") is None


def test_events_are_written_with_their_timer_and_not_at_all_when_it_is_stale(
    storage: Storage,
) -> None:
    announced = warning("t1")
    storage.timers.save(opened("t1"), [announced])
    assert storage.outbox() == [announced.envelope.id]
    with pytest.raises(StaleTimer):
        storage.timers.save(opened("t1"), [warning("t1")])
    assert storage.outbox() == [announced.envelope.id]


def test_due_timers_are_found_once_in_their_bucket_soonest_first_up_to_now(
    storage: Storage,
) -> None:
    starts = {f"t{n}": T0 + timedelta(minutes=7 * n) for n in range(12)}
    for ticket, at in starts.items():
        storage.timers.save(opened(ticket, at), [])
    now = starts["t8"] + WARNING_AFTER  # t0 to t8 are due, t8's alarm exactly now
    found: list[str] = []
    for bucket in range(ALARM_BUCKETS):
        due = list(storage.timers.due(bucket, now))
        alarms = [alarm for timer in due if (alarm := timer.next_alarm()) is not None]
        assert len(alarms) == len(due)
        assert alarms == sorted(alarms)
        assert all(alarm_bucket(timer.ticket_id) == bucket for timer in due)
        found += [timer.ticket_id for timer in due]
    assert sorted(found) == sorted(f"t{n}" for n in range(9))


def test_timers_without_a_pending_alarm_are_never_due(storage: Storage) -> None:
    storage.timers.save(Timer(ticket_id="not-started"), [])
    storage.timers.save(resolved(opened("resolved"), T0 + timedelta(minutes=10)), [])
    # An alarm that was pending and is no more leaves the index on the write that ends it
    storage.timers.save(opened("was-due"), [])
    was_due = storage.timers.get("was-due")
    assert was_due is not None
    storage.timers.save(resolved(was_due, T0 + timedelta(minutes=20)), [])
    far_future = T0 + timedelta(days=365)
    for bucket in range(ALARM_BUCKETS):
        assert list(storage.timers.due(bucket, far_future)) == []
        assert storage.timers.with_alarms(bucket, None, 10) == ([], None)


def test_timers_with_alarms_come_in_pages_soonest_first_until_no_cursor(
    storage: Storage,
) -> None:
    tickets = in_bucket(2, 7)
    for n, ticket in enumerate(reversed(tickets)):  # stored in another order than their alarms
        storage.timers.save(opened(ticket, T0 - timedelta(minutes=n)), [])
    storage.timers.save(opened(in_bucket(1, 1)[0]), [])  # another bucket
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page, cursor = storage.timers.with_alarms(2, cursor, 3)
        assert len(page) <= 3
        pages.append([timer.ticket_id for timer in page])
        if cursor is None:
            break
    assert [ticket for page in pages for ticket in page] == tickets
    assert len(pages) in (3, 4)  # DynamoDB may end on an empty page


def test_timers_started_in_a_period_are_listed_per_department_oldest_first(
    storage: Storage,
) -> None:
    hour = timedelta(hours=1)
    for ticket, at, department in [
        ("late", T0 + 2 * hour, "support"),
        ("first", T0, "support"),
        ("second", T0 + hour, "support"),
        ("before", T0 - timedelta(seconds=1), "support"),
        ("sales", T0 + hour, "sales"),
        ("nobody's", T0 + hour, None),
    ]:
        storage.timers.save(opened(ticket, at, department), [])
    storage.timers.save(Timer(ticket_id="not-started"), [])

    def started(department: str | None) -> list[str]:
        found = storage.timers.started_between(department, T0, T0 + 2 * hour)
        return [timer.ticket_id for timer in found]

    assert started("support") == ["first", "second"]  # from the start, until the end
    assert started("sales") == ["sales"]
    assert started(None) == ["nobody's"]
    assert started("billing") == []


def policy(version: int) -> PolicyVersion:
    return PolicyVersion(
        version=version,
        rules=DEFAULT_RULES,
        effective_from=T0 + timedelta(days=version),
        changed_by="admin@example.com",
    )


def test_policy_versions_are_kept_in_order_and_a_number_is_taken_once(storage: Storage) -> None:
    assert storage.policies.versions() == []
    for version in (1, 2, 10):
        storage.policies.add(policy(version))
    assert storage.policies.versions() == [policy(1), policy(2), policy(10)]
    with pytest.raises(StalePolicy):
        storage.policies.add(policy(2).model_copy(update={"changed_by": "other@example.com"}))
    assert storage.policies.versions() == [policy(1), policy(2), policy(10)]


def test_each_new_version_starts_its_retargeting_pass_which_records_its_progress(
    storage: Storage,
) -> None:
    assert storage.policies.retargeting() is None
    storage.policies.add(policy(1))
    started = storage.policies.retargeting()
    assert started == Retargeting(version=1, bucket=0, cursor=None)
    progress = Retargeting(version=1, bucket=2, cursor="somewhere")
    storage.policies.advance(started, progress)
    assert storage.policies.retargeting() == progress
    storage.policies.advance(progress, None)
    assert storage.policies.retargeting() is None
    storage.policies.advance(progress, progress)  # a pass that finished records nothing more
    assert storage.policies.retargeting() is None


def test_a_newer_version_restarts_the_pass_and_the_older_pass_cannot_move_it(
    storage: Storage,
) -> None:
    storage.policies.add(policy(1))
    older = Retargeting(version=1, bucket=1)
    storage.policies.advance(Retargeting(version=1), older)
    storage.policies.add(policy(2))
    storage.policies.advance(older, Retargeting(version=1, bucket=3))
    assert storage.policies.retargeting() == Retargeting(version=2)
    storage.policies.advance(older, None)
    assert storage.policies.retargeting() == Retargeting(version=2)


def announcement(department: str, members: list[str], hours: int) -> Department:
    return Department(id=department, members=members, changed_at=T0 + timedelta(hours=hours))


def test_department_announcements_are_kept_unless_a_newer_one_is(storage: Storage) -> None:
    assert storage.departments.load().departments == {}
    assert storage.departments.record(announcement("support", ["a@example.com"], 1))
    assert storage.departments.record(announcement("sales", ["b@example.com"], 1))
    directory = storage.departments.load()
    assert directory.of_member("A@example.com") == ["support"]
    assert sorted(directory.departments) == ["sales", "support"]
    # An older announcement arriving late changes nothing
    assert not storage.departments.record(announcement("support", ["c@example.com"], 0))
    assert storage.departments.load() == directory
    assert storage.departments.record(announcement("support", ["c@example.com"], 2))
    after = storage.departments.load()
    assert after.of_member("c@example.com") == ["support"]
    assert after.of_member("a@example.com") == []
    assert after.version > directory.version
