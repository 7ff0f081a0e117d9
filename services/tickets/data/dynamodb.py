"""The tickets repository on DynamoDB (pynamodb): the only module that touches the table."""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import BatchWrite

from services.tickets.data.ratings_dynamodb import add_tallies
from services.tickets.data.tables import (
    INDEXES,
    SERVICE,
    AgentLoadItem,
    AutomationFilingItem,
    CounterItem,
    CountsItem,
    DepartmentItem,
    HistoryItem,
    MemberItem,
    MergeCopyItem,
    MessageItem,
    RotationItem,
    TicketItem,
    TicketsOutbox,
    TicketsTable,
)
from services.tickets.logic.list_tickets import assignee_key, queue_key
from services.tickets.logic.merge_copy import MergeCopy
from services.tickets.logic.pending_steps import (
    AutomationTimings,
    PendingStep,
    automation_bucket,
    pending_step,
)
from services.tickets.logic.repository import (
    OPEN_STATUSES,
    AgentLoad,
    AutomationFiling,
    Commit,
    FiledStep,
    Guard,
    GuardFailed,
    ListPlan,
    MemberGuard,
    OpenDepartmentGuard,
    Rotation,
    StaleVersion,
    TicketFilter,
    TurnTaken,
    open_assignee,
)
from services.tickets.logic.ticket import (
    DELIVERY_RANK,
    STATUSES,
    Author,
    Delivery,
    Department,
    HistoryEntry,
    Message,
    Satisfaction,
    Sla,
    Status,
    Ticket,
)
from shared.clock import Clock, isoformat
from shared.events.catalogue import Attachment, Person
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import add_to_outbox
from shared.keys import NO_KEY
from shared.storage import (
    STALE_WRITE_ATTEMPTS,
    Page,
    bad_cursor,
    bind_table,
    decode_cursor,
    decode_key_cursor,
    encode_cursor,
    failed_conditions,
    is_key,
    retry_on_stale,
    transaction,
)

TICKET_NUMBER_COUNTER = "COUNTER#ticket-number"
TICKET_SK = "#TICKET"
DEPARTMENTS_PK = "DEPTS"
MERGE_SK = "MERGE"
LOAD_SK = "LOAD"
ROTATION_SK = "ROTATION"
AUTOMATIONS_PK = "AUTOMATIONS"
FILING_SK = "FILING"
MICROSECOND = timedelta(microseconds=1)  # the timings are stored exactly, in whole units


def ticket_key(ticket_id: str) -> str:
    return f"TICKET#{ticket_id}"


def department_key(department_id: str) -> str:
    return f"DEPT#{department_id}"


def member_key(email: str) -> str:
    return f"MEMBER#{email}"


def counts_key(department_id: str | None) -> str:
    return f"COUNTS#{department_id or NO_KEY}"


def merge_key(source_id: str) -> str:
    return f"MERGE#{source_id}"


def load_key(email: str) -> str:
    return f"AGENT#{email}"


def rotation_key(department_id: str) -> str:
    return f"ROTATION#{department_id}"


class DynamoTicketRepository:
    def __init__(self, clock: Clock, automations: AutomationTimings | None = None) -> None:
        """`automations`: the timings each ticket is filed under its pending step with."""
        bind_table(TicketsTable, SERVICE)
        self._clock = clock
        self._automations = automations or AutomationTimings()

    # --- tickets -------------------------------------------------------------------------------

    def next_number(self) -> int:
        counter = CounterItem(TICKET_NUMBER_COUNTER, "COUNTER")
        counter.update(actions=[CounterItem.value.add(1), CounterItem.kind.set(CounterItem)])
        return int(counter.value)

    def commit(self, *commits: Commit) -> None:
        self._commit(commits, None)

    def commit_merge(self, job: MergeCopy, *commits: Commit) -> None:
        self._commit(commits, job)

    def _commit(self, commits: tuple[Commit, ...], job: MergeCopy | None) -> None:
        # What the counts of assignees that refused a decrement hold: the next attempt takes off
        # no more than that.
        held: dict[str, int] = {}
        for _ in range(STALE_WRITE_ATTEMPTS):
            try:
                self._write(commits, job, held)
                return
            except _CountShort as short:
                loads = self.loads(short.emails)
                held |= {email: load.open_tickets for email, load in loads.items()}
        # The counts kept moving under it: like a lost race, the caller reads again.
        raise StaleVersion(commits[0].ticket.id)

    def _write(
        self, commits: tuple[Commit, ...], job: MergeCopy | None, held: dict[str, int]
    ) -> None:
        now = self._clock.now()
        guards = _distinct([guard for commit in commits for guard in commit.guards])
        write = transaction(TicketsTable)
        shrinking: list[str] = []
        try:
            with write:
                for guard in guards:
                    write.condition_check(*_guarded_item(guard))
                for commit in commits:
                    previous = commit.previous
                    condition = (
                        TicketItem.pk.does_not_exist() if previous is None else _unchanged(previous)
                    )
                    commit.ticket.revision = previous.revision + 1 if previous is not None else 1
                    step = pending_step(commit.ticket, self._automations)
                    write.save(ticket_item(commit.ticket, step), condition=condition)
                    for message in commit.messages:
                        write.save(_message_item(message))
                    for number, entry in enumerate(commit.history):
                        write.save(_history_item(entry, number))
                    add_to_outbox(write, TicketsOutbox, commit.events, now)
                if job is not None:
                    write.save(_merge_copy_item(job, now))
                self._count(write, commits)
                add_tallies(write, [t for commit in commits for t in commit.tallies])
                shrinking = self._count_open(write, commits, held)
                self._take_turns(write, commits)
        except TransactWriteError as error:
            failed = failed_conditions(write, error)
            for guard in guards:
                if _guarded_item(guard)[1:3] in failed:
                    raise GuardFailed(guard) from None
            for commit in commits:
                if (ticket_key(commit.ticket.id), TICKET_SK) in failed:
                    raise StaleVersion(commit.ticket.id) from None
            short = [email for email in shrinking if (load_key(email), LOAD_SK) in failed]
            if short:
                raise _CountShort(short) from None
            turns = [commit.turn for commit in commits if commit.turn is not None]
            for turn in turns:
                taken = {
                    (rotation_key(turn.department_id), ROTATION_SK),
                    (load_key(turn.assignee), LOAD_SK),
                }
                if taken & failed:
                    raise TurnTaken(turn.department_id) from None
            # Writers taking the same turn at the same instant cancel each other.
            reasons = error.cancellation_reasons or []
            if turns and any(r is not None and r.code == "TransactionConflict" for r in reasons):
                raise TurnTaken(turns[0].department_id) from None
            raise

    @staticmethod
    def _count(write: Any, commits: tuple[Commit, ...]) -> None:
        """Keep the per-department status counts in step, in the same transaction (one update
        per counts item: a transaction may touch an item once)."""
        moves: dict[str | None, dict[str, int]] = {}
        for commit in commits:
            previous, ticket = commit.previous, commit.ticket
            before = (previous.department_id, previous.status) if previous else None
            after = (ticket.department_id, ticket.status)
            if before == after:
                continue
            if before is not None:
                moves.setdefault(before[0], {})
                moves[before[0]][before[1]] = moves[before[0]].get(before[1], 0) - 1
            moves.setdefault(after[0], {})
            moves[after[0]][after[1]] = moves[after[0]].get(after[1], 0) + 1
        for department, deltas in moves.items():
            actions = [getattr(CountsItem, status).add(d) for status, d in deltas.items() if d]
            if actions:
                actions.append(CountsItem.kind.set(CountsItem))
                write.update(CountsItem(counts_key(department), "COUNTS"), actions=actions)

    @staticmethod
    def _count_open(write: Any, commits: tuple[Commit, ...], held: dict[str, int]) -> list[str]:
        """Keep each assignee's count of open tickets in step, in the same transaction; a ticket
        given by turns counts only if its assignee is still below the department's limit. A count
        never goes below zero (tickets assigned before counts were kept are in none): a decrement
        is written on the condition that the count holds it, or no more than `held` says it
        holds. Returns the assignees whose count goes down."""
        deltas: dict[str, int] = {}
        for commit in commits:
            for ticket, delta in ((commit.previous, -1), (commit.ticket, 1)):
                holder = open_assignee(ticket)
                if holder is not None:
                    deltas[holder] = deltas.get(holder, 0) + delta
        limits = {
            commit.turn.assignee: commit.turn.open_limit
            for commit in commits
            if commit.turn is not None and commit.turn.open_limit is not None
        }
        shrinking = []
        for email, delta in deltas.items():
            delta = max(delta, -held.get(email, -delta))  # no more off than the count holds
            if not delta:
                continue
            condition: Condition | None = None
            if delta < 0:
                condition = AgentLoadItem.open_tickets >= -delta
                shrinking.append(email)
            elif (limit := limits.get(email)) is not None:
                condition = AgentLoadItem.open_tickets.does_not_exist() | (
                    AgentLoadItem.open_tickets < limit
                )
            write.update(
                AgentLoadItem(load_key(email), LOAD_SK),
                actions=[
                    AgentLoadItem.open_tickets.add(delta),
                    AgentLoadItem.kind.set(AgentLoadItem),
                ],
                condition=condition,
            )
        return shrinking

    @staticmethod
    def _take_turns(write: Any, commits: tuple[Commit, ...]) -> None:
        """Count each turn taken, on the condition that nobody took it since it was read."""
        for commit in commits:
            turn = commit.turn
            if turn is None:
                continue
            write.update(
                RotationItem(rotation_key(turn.department_id), ROTATION_SK),
                actions=[
                    RotationItem.turns.set(turn.taken + 1),
                    RotationItem.last.set(turn.assignee),
                    RotationItem.kind.set(RotationItem),
                ],
                condition=RotationItem.turns.does_not_exist()
                if turn.taken == 0
                else RotationItem.turns == turn.taken,
            )

    def get(self, ticket_id: str) -> Ticket | None:
        try:
            return _ticket(TicketItem.get(ticket_key(ticket_id), TICKET_SK))
        except TicketItem.DoesNotExist:
            return None

    def get_many(self, ticket_ids: list[str]) -> list[Ticket]:
        # pynamodb asks for 100 keys at a time and again for any DynamoDB left unprocessed.
        keys = [(ticket_key(ticket_id), TICKET_SK) for ticket_id in dict.fromkeys(ticket_ids)]
        return [_ticket(item) for item in TicketItem.batch_get(keys)]

    def get_by_number(self, number: str) -> Ticket | None:
        for item in TicketsTable.by_number.query(number, limit=1):
            return _ticket(item)
        return None

    def automations_due(self, bucket: int, now: datetime) -> list[Ticket]:
        due = TicketsTable.by_automation.query(
            str(bucket), TicketItem.automation_due <= isoformat(now)
        )
        return [_ticket(item) for item in due]

    def filed_steps(self, queue: str, limit: int, cursor: str | None) -> Page[FiledStep]:
        hash_attribute, sort_attribute = INDEXES["by_queue_updated"]
        assert sort_attribute is not None
        start = (
            decode_key_cursor(
                cursor, ("pk", "sk", hash_attribute, sort_attribute), {hash_attribute: queue}
            )
            if cursor
            else None
        )
        results = TicketsTable.by_queue_updated.query(queue, limit=limit, last_evaluated_key=start)
        filed = [
            FiledStep(
                _ticket(item),
                datetime.fromisoformat(item.automation_due) if item.automation_due else None,
            )
            for item in results
        ]
        last = results.last_evaluated_key
        return Page(filed, encode_cursor(last) if last else None)

    def refile(self, ticket: Ticket) -> bool:
        keys = _automation_keys(ticket, pending_step(ticket, self._automations))
        actions = [
            getattr(TicketItem, name).set(value)
            if value is not None
            else getattr(TicketItem, name).remove()
            for name, value in keys.items()
        ]
        try:
            TicketItem(ticket_key(ticket.id), TICKET_SK).update(
                actions=actions, condition=_unchanged(ticket)
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def automation_filing(self) -> AutomationFiling:
        try:
            item = AutomationFilingItem.get(AUTOMATIONS_PK, FILING_SK)
        except AutomationFilingItem.DoesNotExist:
            return AutomationFiling()
        return AutomationFiling(
            filed=_timings(item.filed),
            refiling=_timings(item.refiling),
            queue=item.refile_queue,
            cursor=item.refile_cursor,
            revision=int(item.revision),
        )

    def record_automation_filing(self, filing: AutomationFiling) -> bool:
        item = AutomationFilingItem(
            AUTOMATIONS_PK,
            FILING_SK,
            filed=_timings_text(filing.filed),
            refiling=_timings_text(filing.refiling),
            refile_queue=filing.queue,
            refile_cursor=filing.cursor,
            revision=filing.revision,
        )
        try:
            item.save(
                condition=AutomationFilingItem.pk.does_not_exist()
                if filing.revision == 1
                else AutomationFilingItem.revision == filing.revision - 1
            )
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def get_with_messages(
        self, ticket_id: str, limit: int, cursor: str | None
    ) -> tuple[Ticket | None, Page[Message]]:
        start = decode_cursor(cursor, str) if cursor else None
        if start is not None and not start.startswith("MSG#"):
            raise bad_cursor()  # messages' keys are the only positions given out here
        ticket: Ticket | None = None
        messages: list[Message] = []
        # From `#TICKET` on: the ticket item first, then the messages in time order.
        results = TicketsTable.query(
            ticket_key(ticket_id),
            TicketsTable.sk > start if start else TicketsTable.sk >= TICKET_SK,
            limit=limit + (0 if start else 1),
        )
        last_sk = None
        for item in results:
            if item.sk == TICKET_SK:
                ticket = _ticket(item)
                continue
            messages.append(_message(item))
            last_sk = item.sk
        if start is not None and ticket is None:
            ticket = self.get(ticket_id)
        more = results.last_evaluated_key is not None and len(messages) >= limit
        return ticket, Page(messages, encode_cursor(last_sk) if more and last_sk else None)

    def find_message(self, ticket_id: str, message_id: str, posted_at: datetime) -> Message | None:
        for item in MessageItem.query(
            ticket_key(ticket_id), MessageItem.sk.startswith(f"MSG#{_second(posted_at)}")
        ):
            if item.id == message_id:
                return _message(item)
        return None

    def record_delivery(
        self, ticket_id: str, message_id: str, posted_at: datetime, outcomes: dict[str, Delivery]
    ) -> list[str]:
        """Note what became of a reply's mail per recipient, never over a worse outcome; returns
        the recipients whose state changed."""
        # Messages are keyed by their time; the event gives it to the millisecond, so look in
        # its second for the id (a handful of items at most).
        found = [
            item
            for item in MessageItem.query(
                ticket_key(ticket_id), MessageItem.sk.startswith(f"MSG#{_second(posted_at)}")
            )
            if item.id == message_id
        ]
        if not found:
            return []
        item = found[0]
        if item.delivery is None:
            item.update(actions=[MessageItem.delivery.set(MessageItem.delivery | {})])
        changed = []
        for recipient, outcome in outcomes.items():
            rank = DELIVERY_RANK[outcome.state]
            slot = MessageItem.delivery[recipient]
            try:
                item.update(
                    actions=[slot.set({**outcome.model_dump(mode="json"), "rank": rank})],
                    condition=slot.does_not_exist()
                    | (MessageItem.delivery[recipient]["rank"] < rank),
                )
            except UpdateError as error:
                if error.cause_response_code != "ConditionalCheckFailedException":
                    raise
                continue
            changed.append(recipient)
        return changed

    def copy_messages(self, messages: list[Message]) -> None:
        with BatchWrite(MessageItem) as batch:
            for message in messages:
                batch.save(_message_item(message))

    def merge_copy(self, source_id: str) -> MergeCopy | None:
        try:
            return _merge_copy(MergeCopyItem.get(merge_key(source_id), MERGE_SK))
        except MergeCopyItem.DoesNotExist:
            return None

    def record_merge_copy(self, job: MergeCopy) -> bool:
        actions: list[Any] = [
            MergeCopyItem.copied.set(job.copied),
            MergeCopyItem.status.set("done" if job.done else "pending"),
            MergeCopyItem.updated_at.set(self._clock.now()),
        ]
        if job.cursor is not None:
            actions.append(MergeCopyItem.last_copied.set(decode_cursor(job.cursor, str)))
        try:
            MergeCopyItem(merge_key(job.source_id), MERGE_SK).update(
                actions=actions,
                # Progress only moves on: a slower run that shares the job never takes it back.
                condition=(MergeCopyItem.status == "pending")
                & (MergeCopyItem.copied <= job.copied),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def replace_address(self, ticket_id: str, address: str, replacement: str) -> int:
        address = address.lower()
        changed = 0
        for item in MessageItem.query(ticket_key(ticket_id), MessageItem.sk.startswith("MSG#")):
            actions: list[Any] = []
            author = item.author.as_dict()
            if (author.get("email") or "").lower() == address:
                actions.append(
                    MessageItem.author.set({"type": author["type"], "email": replacement})
                )
            outcomes = item.delivery.as_dict() if item.delivery else {}
            if any(recipient.lower() == address for recipient in outcomes):
                renamed = {
                    replacement if recipient.lower() == address else recipient: outcome
                    for recipient, outcome in outcomes.items()
                }
                actions.append(MessageItem.delivery.set(renamed))
            if actions:
                item.update(actions=actions)
                changed += 1
        return changed

    def history(self, ticket_id: str, limit: int, cursor: str | None) -> Page[HistoryEntry]:
        last = (
            decode_key_cursor(cursor, ("pk", "sk"), {"pk": f"HIST#{ticket_id}"}) if cursor else None
        )
        results = HistoryItem.query(
            f"HIST#{ticket_id}",
            limit=limit,
            last_evaluated_key=last,
        )
        entries = [_history(item) for item in results]
        return Page(
            entries,
            encode_cursor(results.last_evaluated_key) if results.last_evaluated_key else None,
        )

    def tickets_of_contact(self, contact_id: str) -> list[Ticket]:
        return [_ticket(item) for item in TicketsTable.by_contact.query(contact_id)]

    # --- lists ---------------------------------------------------------------------------------

    def list_page(self, plan: ListPlan, limit: int, cursor: str | None) -> Page[Ticket]:
        """Read each partition in order, merge them, and remember where each one stands."""
        positions = _positions(cursor, plan) if cursor else {}
        condition = _filter_condition(plan.filter)
        runs: list[Iterator[tuple[str, TicketItem]]] = []
        for number, partition in enumerate(plan.partitions):
            name = str(number)
            position = positions.get(name)
            index = getattr(TicketsTable, partition.index)
            results = index.query(
                partition.key,
                scan_index_forward=not plan.newest_first,
                filter_condition=condition,
                limit=limit + 1,
                page_size=limit + 1 if condition is None else max(limit * 4, 50),
                last_evaluated_key=position,
            )
            runs.append(zip(itertools.repeat(name), results, strict=False))
        sort_attribute = _sort_attribute(plan)
        merged = heapq.merge(
            *runs,
            key=lambda pair: getattr(pair[1], sort_attribute) or "",
            reverse=plan.newest_first,
        )
        chosen: list[TicketItem] = []
        seen_runs: dict[str, Any] = dict(positions)
        more = False
        for name, item in merged:
            if len(chosen) == limit:
                more = True
                break
            chosen.append(item)
            seen_runs[name] = _item_key(item, plan.partitions[int(name)].index)
        if not more:
            return Page([_ticket(item) for item in chosen], None)
        # Runs that gave nothing to this page keep their position; exhausted runs are not marked,
        # so a later page may ask them once more (cheap: their query answers empty).
        return Page([_ticket(item) for item in chosen], encode_cursor(seen_runs))

    # --- departments and membership ------------------------------------------------------------

    def departments_of(self, email: str) -> frozenset[str]:
        return frozenset(item.department_id for item in MemberItem.query(member_key(email)))

    def is_member(self, email: str, department_id: str) -> bool:
        try:
            MemberItem.get(member_key(email), department_key(department_id))
        except MemberItem.DoesNotExist:
            return False
        return True

    def department(self, department_id: str) -> Department | None:
        try:
            return _department(DepartmentItem.get(DEPARTMENTS_PK, department_key(department_id)))
        except DepartmentItem.DoesNotExist:
            return None

    def department_and_membership(
        self, department_id: str, email: str | None
    ) -> tuple[Department | None, bool]:
        keys = [(DEPARTMENTS_PK, department_key(department_id))]
        if email is not None:
            keys.append((member_key(email), department_key(department_id)))
        found = list(TicketsTable.batch_get(keys))
        departments = [_department(item) for item in found if isinstance(item, DepartmentItem)]
        member = any(isinstance(item, MemberItem) for item in found)
        return (departments[0] if departments else None), member

    def departments(self) -> list[Department]:
        return [_department(item) for item in DepartmentItem.query(DEPARTMENTS_PK)]

    def save_department(
        self,
        department: Department,
        events: list[OutgoingEvent],
        *,
        new: bool = False,
        added: str | None = None,
        removed: str | None = None,
    ) -> None:
        item = DepartmentItem(
            DEPARTMENTS_PK,
            department_key(department.id),
            id=department.id,
            name=department.name,
            members=set(department.members) or None,
            archived=department.archived,
            assignment=department.assignment,
            open_limit=department.open_limit,
        )
        write = transaction(TicketsTable)
        try:
            with write:
                write.save(item, condition=DepartmentItem.pk.does_not_exist() if new else None)
                if added:
                    write.save(
                        MemberItem(
                            member_key(added),
                            department_key(department.id),
                            email=added,
                            department_id=department.id,
                        )
                    )
                if removed:
                    write.delete(MemberItem(member_key(removed), department_key(department.id)))
                add_to_outbox(write, TicketsOutbox, events, self._clock.now())
        except TransactWriteError as error:
            if (DEPARTMENTS_PK, department_key(department.id)) in failed_conditions(write, error):
                raise GuardFailed(OpenDepartmentGuard(department.id)) from None
            raise

    def counts(self, department_id: str | None) -> dict[Status, int]:
        try:
            item = CountsItem.get(counts_key(department_id), "COUNTS")
        except CountsItem.DoesNotExist:
            return dict.fromkeys(STATUSES, 0)
        return {status: int(getattr(item, status) or 0) for status in STATUSES}

    # --- assignment by turns -------------------------------------------------------------------

    def set_available(self, email: str, available: bool) -> AgentLoad:
        item = AgentLoadItem(load_key(email), LOAD_SK)
        item.update(
            actions=[AgentLoadItem.available.set(available), AgentLoadItem.kind.set(AgentLoadItem)]
        )
        return _load(item)

    def loads(self, emails: list[str]) -> dict[str, AgentLoad]:
        return self._read_loads(None, emails)[1]

    def rotation(
        self, department_id: str, emails: list[str]
    ) -> tuple[Rotation, dict[str, AgentLoad]]:
        return self._read_loads(department_id, emails)

    def recount_open(self, emails: list[str]) -> None:
        for email in dict.fromkeys(emails):
            retry_on_stale(partial(self._recount, email), _CountMoved, _CountMoved(email))

    def _recount(self, email: str) -> None:
        """Count the agent's open tickets in the assignee index (one partition per open status),
        and store the count on the condition that no commit moved it since it was read."""
        held = self.loads([email])[email].open_tickets
        count = sum(
            TicketsTable.by_assignee.count(assignee_key(email, status)) for status in OPEN_STATUSES
        )
        if count == held:
            return
        unmoved = AgentLoadItem.open_tickets == held
        if held == 0:
            unmoved |= AgentLoadItem.open_tickets.does_not_exist()
        try:
            AgentLoadItem(load_key(email), LOAD_SK).update(
                actions=[
                    AgentLoadItem.open_tickets.set(count),
                    AgentLoadItem.kind.set(AgentLoadItem),
                ],
                condition=unmoved,
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            raise _CountMoved(email) from None

    @staticmethod
    def _read_loads(
        department_id: str | None, emails: list[str]
    ) -> tuple[Rotation, dict[str, AgentLoad]]:
        keys = [(load_key(email), LOAD_SK) for email in dict.fromkeys(emails)]
        if department_id is not None:
            keys.append((rotation_key(department_id), ROTATION_SK))
        rotation = Rotation()
        loads = dict.fromkeys(emails, AgentLoad())
        # Consistent: a turn read stale would only lose its race and be read again.
        for item in TicketsTable.batch_get(keys, consistent_read=True):
            if isinstance(item, RotationItem):
                rotation = Rotation(turns=int(item.turns or 0), last=item.last)
            elif isinstance(item, AgentLoadItem):
                loads[item.pk.removeprefix("AGENT#")] = _load(item)
        return rotation, loads


class _CountShort(Exception):
    """These assignees' counts of open tickets hold less than a commit takes off them."""

    def __init__(self, emails: list[str]) -> None:
        super().__init__(emails)
        self.emails = emails


class _CountMoved(Exception):
    """A commit changed the agent's count of open tickets while it was recounted."""


def _guarded_item(guard: Guard) -> tuple[Any, str, str, Condition]:
    """The item a guard checks: its model, key and condition."""
    if isinstance(guard, MemberGuard):
        return (
            MemberItem,
            member_key(guard.email),
            department_key(guard.department_id),
            MemberItem.pk.exists(),
        )
    return (
        DepartmentItem,
        DEPARTMENTS_PK,
        department_key(guard.department_id),
        DepartmentItem.pk.exists() & (DepartmentItem.archived == False),  # noqa: E712
    )


def _unchanged(previous: Ticket) -> Condition:
    """The stored ticket is still at `previous`'s revision (at its version, written before
    revisions were kept)."""
    return (TicketItem.revision == previous.revision) | (
        TicketItem.revision.does_not_exist() & (TicketItem.version == previous.version)
    )


def _distinct(guards: list[Guard]) -> list[Guard]:
    """One check per item (a transaction may touch an item once); the first guard of an item
    names the failure, so the caller's own membership outranks an assignee's on the same item."""
    seen: dict[tuple[str, ...], Guard] = {}
    for guard in guards:
        key = (
            ("member", guard.email, guard.department_id)
            if isinstance(guard, MemberGuard)
            else ("department", guard.department_id)
        )
        seen.setdefault(key, guard)
    return list(seen.values())


# --- mapping between items and the domain -------------------------------------------------------


def _time_key(moment: datetime, ticket_id: str) -> str:
    return f"{moment.isoformat()}#{ticket_id}"


def ticket_item(ticket: Ticket, step: PendingStep | None = None) -> TicketItem:
    """The item a ticket is stored as, with the keys of every index it belongs to (`step`: its
    pending automatic step): public for loading many tickets in batches where no commit is needed
    (a benchmark's index)."""
    due = ticket.sla.next_due(ticket.first_response_at is not None)
    return TicketItem(
        ticket_key(ticket.id),
        TICKET_SK,
        id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        department_id=ticket.department_id,
        assignee=ticket.assignee,
        requester={"email": ticket.requester.email, "name": ticket.requester.name},
        contact_id=ticket.contact_id,
        tags=set(ticket.tags) or None,
        cc=ticket.cc or None,
        channel_id=ticket.channel_id,
        sla=ticket.sla.model_dump(),
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        reminded_at=ticket.reminded_at,
        merged_into=ticket.merged_into,
        follow_up_of=ticket.follow_up_of,
        possible_follow_up_of=ticket.possible_follow_up_of,
        satisfaction=ticket.satisfaction.model_dump() if ticket.satisfaction else None,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
        revision=ticket.revision,
        **_automation_keys(ticket, step),
        queue=queue_key(ticket.department_id, ticket.status),
        assignee_queue=assignee_key(ticket.assignee, ticket.status),
        updated_key=_time_key(ticket.updated_at, ticket.id),
        created_key=_time_key(ticket.created_at, ticket.id),
        # Only tickets still running against a target are in the SLA-ordered index.
        sla_due_key=_time_key(due, ticket.id)
        if due is not None and ticket.status not in ("resolved", "closed")
        else None,
    )


def _automation_keys(ticket: Ticket, step: PendingStep | None) -> dict[str, str | None]:
    """The keys that file a ticket in `by_automation` under its pending step (none: not there)."""
    return {
        "automation_bucket": str(automation_bucket(ticket.id)) if step else None,
        "automation_due": isoformat(step.due_at) if step else None,
    }


def _timings_text(timings: AutomationTimings | None) -> str | None:
    if timings is None:
        return None
    spans: dict[str, timedelta | None] = {
        field.name: getattr(timings, field.name) for field in fields(timings)
    }
    return json.dumps(
        {name: None if span is None else span // MICROSECOND for name, span in spans.items()}
    )


def _timings(text: str | None) -> AutomationTimings | None:
    if text is None:
        return None
    spans = json.loads(text)
    return AutomationTimings(
        **{name: None if n is None else n * MICROSECOND for name, n in spans.items()}
    )


def _ticket(item: TicketItem) -> Ticket:
    sla = item.sla
    return Ticket(
        id=item.id,
        number=item.number,
        subject=item.subject,
        status=item.status,
        priority=item.priority,
        department_id=item.department_id,
        assignee=item.assignee,
        requester=Person(email=item.requester.email, name=item.requester.name),
        contact_id=item.contact_id,
        tags=sorted(item.tags or ()),
        cc=list(item.cc or ()),
        channel_id=item.channel_id,
        sla=Sla(
            state=sla.state,
            first_response_due_at=sla.first_response_due_at,
            resolution_due_at=sla.resolution_due_at,
            sequence=int(sla.sequence or 0),
        )
        if sla is not None
        else Sla(),
        first_response_at=item.first_response_at,
        resolved_at=item.resolved_at,
        closed_at=item.closed_at,
        reminded_at=item.reminded_at,
        merged_into=item.merged_into,
        follow_up_of=item.follow_up_of,
        possible_follow_up_of=item.possible_follow_up_of,
        satisfaction=_satisfaction(item),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version),
        revision=int(item.revision if item.revision is not None else item.version),
    )


def _satisfaction(item: TicketItem) -> Satisfaction | None:
    rated = item.satisfaction
    if rated is None:
        return None
    return Satisfaction(
        rating=rated.rating,
        comment=rated.comment,
        rated_at=rated.rated_at,
        resolved_at=rated.resolved_at,
        agent=rated.agent,
        department_id=rated.department_id,
    )


def _merge_copy_item(job: MergeCopy, now: datetime) -> MergeCopyItem:
    return MergeCopyItem(
        merge_key(job.source_id),
        MERGE_SK,
        source_id=job.source_id,
        target_id=job.target_id,
        last_copied=decode_cursor(job.cursor, str) if job.cursor else None,
        copied=job.copied,
        status="done" if job.done else "pending",
        created_at=now,
        updated_at=now,
    )


def _merge_copy(item: MergeCopyItem) -> MergeCopy:
    return MergeCopy(
        source_id=item.source_id,
        target_id=item.target_id,
        # The job's position reads like a page's: the key the next read starts after.
        cursor=encode_cursor(item.last_copied) if item.last_copied else None,
        copied=int(item.copied or 0),
        done=item.status == "done",
    )


def _message_item(message: Message) -> MessageItem:
    return MessageItem(
        ticket_key(message.ticket_id),
        f"MSG#{message.created_at.isoformat()}#{message.id}",
        id=message.id,
        ticket_id=message.ticket_id,
        visibility=message.visibility,
        author=message.author.model_dump(exclude_none=True),
        body=message.body,
        html=message.html,
        attachments=[a.model_dump() for a in message.attachments] or None,
        attachments_omitted=message.attachments_omitted or None,
        mail_message_id=message.mail_message_id,
        created_at=message.created_at,
    )


def _message(item: MessageItem) -> Message:
    return Message(
        id=item.id,
        ticket_id=item.ticket_id,
        visibility=item.visibility,
        author=Author(**item.author.as_dict()),
        body=item.body,
        html=item.html,
        attachments=[Attachment(**a.as_dict()) for a in item.attachments or ()],
        attachments_omitted=int(item.attachments_omitted or 0),
        mail_message_id=item.mail_message_id,
        delivery={
            recipient: Delivery(**{k: v for k, v in outcome.items() if k != "rank"})
            for recipient, outcome in (item.delivery.as_dict() if item.delivery else {}).items()
        },
        created_at=item.created_at,
    )


def _history_item(entry: HistoryEntry, number: int) -> HistoryItem:
    return HistoryItem(
        f"HIST#{entry.ticket_id}",
        f"{entry.at.isoformat()}#{number:03d}#{entry.field}",
        ticket_id=entry.ticket_id,
        field=entry.field,
        old=json.dumps(entry.old, default=str),
        new=json.dumps(entry.new, default=str),
        actor=entry.actor,
        at=entry.at,
        reason=entry.reason,
    )


def _history(item: HistoryItem) -> HistoryEntry:
    return HistoryEntry(
        ticket_id=item.ticket_id,
        field=item.field,
        old=json.loads(item.old) if item.old else None,
        new=json.loads(item.new) if item.new else None,
        actor=item.actor,
        at=item.at,
        reason=item.reason,
    )


def _department(item: DepartmentItem) -> Department:
    return Department(
        id=item.id,
        name=item.name,
        members=sorted(item.members or ()),
        archived=bool(item.archived),
        assignment=item.assignment or "manual",
        open_limit=int(item.open_limit) if item.open_limit is not None else None,
    )


def _load(item: AgentLoadItem) -> AgentLoad:
    return AgentLoad(available=bool(item.available), open_tickets=int(item.open_tickets or 0))


# --- list helpers --------------------------------------------------------------------------------


def _filter_condition(conditions: TicketFilter) -> Condition | None:
    parts: list[Condition] = []
    if conditions.priority:
        parts.append(TicketItem.priority == conditions.priority)
    if conditions.tag:
        parts.append(TicketItem.tags.contains(conditions.tag))
    if conditions.sla_state:
        parts.append(TicketItem.sla.state == conditions.sla_state)
    if conditions.assignee:
        parts.append(
            TicketItem.assignee.does_not_exist()
            if conditions.assignee == NO_KEY
            else TicketItem.assignee == conditions.assignee
        )
    if conditions.statuses:
        parts.append(TicketItem.status.is_in(*conditions.statuses))
    if conditions.departments is not None:
        named = [d for d in conditions.departments if d]
        allowed = [TicketItem.department_id.is_in(*named)] if named else []
        if "" in conditions.departments:
            allowed.append(TicketItem.department_id.does_not_exist())
        if not allowed:
            allowed.append(TicketItem.pk.does_not_exist())  # nothing may be seen
        either = allowed[0]
        for alternative in allowed[1:]:
            either = either | alternative
        parts.append(either)
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition = condition & part
    return condition


def _sort_attribute(plan: ListPlan) -> str:
    sort_attribute = INDEXES[plan.partitions[0].index][1]
    assert sort_attribute is not None  # every list index is sorted
    return sort_attribute


def _item_key(item: TicketItem, index: str) -> dict[str, dict[str, str]]:
    """Where a read of `index` continues after `item` (DynamoDB's ExclusiveStartKey)."""
    hash_attribute, sort_attribute = INDEXES[index]
    names = ("pk", "sk", hash_attribute, sort_attribute)
    return {name: {"S": getattr(item, name)} for name in names if name is not None}


def _positions(cursor: str, plan: ListPlan) -> dict[str, Any]:
    """The read positions a list cursor holds, refused unless they fit this very list."""
    positions = decode_cursor(cursor, dict)
    if not positions:
        raise bad_cursor()  # a cursor given out says where at least one partition stands
    for name, position in positions.items():
        if not name.isdigit() or int(name) >= len(plan.partitions):
            raise bad_cursor()
        partition = plan.partitions[int(name)]
        hash_attribute, sort_attribute = INDEXES[partition.index]
        wanted = {"pk", "sk", hash_attribute, sort_attribute}
        if not is_key(position, wanted) or position[hash_attribute]["S"] != partition.key:
            raise bad_cursor()
    return positions


def _second(moment: datetime) -> str:
    """A moment as message keys begin with it, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")[: len("YYYY-MM-DDTHH:MM:SS")]
