"""The tickets service's storage, search index and agent directory in memory, keeping the promises
of `services.tickets.data.dynamodb`, `services.tickets.data.search_dynamodb` and
`services.tickets.data.cognito` (`tests/contracts/test_tickets_repositories.py` and
`tests/contracts/test_search_index.py` hold the fakes to them).

A commit is all or nothing: guards are checked first (the first failing one is named), then each
ticket's revision, and only then is anything stored. Reads hand out copies. Lists read the same
sparse, ordered indexes as DynamoDB, merged across partitions, with cursors that fit only the list
they came from. Events written with a change land in `outbox`. A merge's copy job is kept by its
source ticket, its progress recorded only forward. The search index stores a document only over
the version it was read at, and reads the tickets it loads from the repository they live in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode

from services.tickets.logic.agent_directory import Agent, AgentExists, UnknownAgent
from services.tickets.logic.list_tickets import assignee_key, queue_key
from services.tickets.logic.merge_copy import MergeCopy
from services.tickets.logic.pending_steps import (
    AutomationTimings,
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
    RatingTally,
    Rotation,
    StaleVersion,
    TicketFilter,
    Turn,
    TurnTaken,
    open_assignee,
)
from services.tickets.logic.search import Candidate, SearchDoc, StaleDoc
from services.tickets.logic.ticket import (
    DELIVERY_RANK,
    STATUSES,
    Author,
    Delivery,
    Department,
    HistoryEntry,
    Message,
    Status,
    Ticket,
)
from shared.events.envelope import OutgoingEvent
from shared.keys import NO_KEY
from shared.storage import Page, bad_cursor, decode_cursor, encode_cursor

# An index position: the sort value and the ticket id (DynamoDB's keys are `<time>#<id>`).
Position = tuple[str, str]


class FakeTicketRepository:
    def __init__(self, automations: AutomationTimings | None = None) -> None:
        self._automations = automations or AutomationTimings()
        self._tickets: dict[str, Ticket] = {}
        # ticket id -> when its pending automatic step is due, as filed at its last commit
        self._automation_due: dict[str, datetime] = {}
        self._messages: dict[str, dict[str, Message]] = {}  # ticket id -> sort key -> message
        self._history: dict[str, dict[str, HistoryEntry]] = {}  # ticket id -> sort key -> entry
        self._departments: dict[str, Department] = {}
        self._members: set[tuple[str, str]] = set()  # (email, department id)
        self._counts: dict[str | None, dict[Status, int]] = {}
        self._counter = 0
        self._available: dict[str, bool] = {}  # by agent email
        self._open_tickets: dict[str, int] = {}  # by assignee email
        self._rotations: dict[str, Rotation] = {}  # by department id
        self._merge_copies: dict[str, MergeCopy] = {}  # by source ticket id
        self._filing = AutomationFiling()
        # (department id, day, agent) -> [good, bad]: clients' ratings, as counted by commits
        self._tallies: dict[tuple[str | None, date, str | None], list[int]] = {}
        self.outbox: list[OutgoingEvent] = []

    # --- tickets -------------------------------------------------------------------------------

    def next_number(self) -> int:
        self._counter += 1
        return self._counter

    def commit(self, *commits: Commit) -> None:
        self._commit(commits, None)

    def commit_merge(self, job: MergeCopy, *commits: Commit) -> None:
        self._commit(commits, job)

    def _commit(self, commits: tuple[Commit, ...], job: MergeCopy | None) -> None:
        ids = [commit.ticket.id for commit in commits]
        if len(set(ids)) != len(ids):
            # DynamoDB refuses a transaction that names an item twice.
            raise ValueError(f"one commit per ticket in a transaction: {ids}")
        for guard in _distinct(commit.guards for commit in commits):
            if not self._holds(guard):
                raise GuardFailed(guard)
        for commit in commits:
            stored = self._tickets.get(commit.ticket.id)
            previous = commit.previous
            fresh = (
                stored is None
                if previous is None
                else stored is not None and stored.revision == previous.revision
            )
            if not fresh:
                raise StaleVersion(commit.ticket.id)
        for commit in commits:
            if commit.turn is not None and not self._turn_free(commit.turn):
                raise TurnTaken(commit.turn.department_id)
        self._count_open(commits)
        for commit in commits:
            # As the DynamoDB repository does, the caller's ticket learns its new revision.
            previous = commit.previous
            commit.ticket.revision = previous.revision + 1 if previous is not None else 1
            self._count(previous, commit.ticket)
            if commit.turn is not None:
                turns = commit.turn.taken + 1
                self._rotations[commit.turn.department_id] = Rotation(turns, commit.turn.assignee)
            self._tickets[commit.ticket.id] = _stored_ticket(commit.ticket)
            self._file(commit.ticket)
            for message in commit.messages:
                self._put_message(message)
            entries = self._history.setdefault(commit.ticket.id, {})
            for number, entry in enumerate(commit.history):
                # Keyed like DynamoDB's items: an entry at the same key replaces the older one.
                entries[f"{entry.at.isoformat()}#{number:03d}#{entry.field}"] = entry.model_copy()
            self.outbox.extend(commit.events)
            for tally in commit.tallies:
                key = (tally.department_id, tally.day, tally.agent)
                counts = self._tallies.setdefault(key, [0, 0])
                counts[0] += tally.good
                counts[1] += tally.bad
        if job is not None:
            self._merge_copies[job.source_id] = job

    def _file(self, ticket: Ticket) -> None:
        step = pending_step(ticket, self._automations)
        if step is None:
            self._automation_due.pop(ticket.id, None)
        else:
            self._automation_due[ticket.id] = step.due_at

    def retime(self, automations: AutomationTimings) -> None:
        """From now on, file tickets as a deployment with these timings does."""
        self._automations = automations

    def _holds(self, guard: Guard) -> bool:
        if isinstance(guard, MemberGuard):
            return (guard.email, guard.department_id) in self._members
        department = self._departments.get(guard.department_id)
        return department is not None and not department.archived

    def _count(self, previous: Ticket | None, ticket: Ticket) -> None:
        before = (previous.department_id, previous.status) if previous else None
        after = (ticket.department_id, ticket.status)
        if before == after:
            return
        if before is not None:
            self._counts_of(before[0])[before[1]] -= 1
        self._counts_of(after[0])[after[1]] += 1

    def _counts_of(self, department_id: str | None) -> dict[Status, int]:
        return self._counts.setdefault(department_id, dict.fromkeys(STATUSES, 0))

    def get(self, ticket_id: str) -> Ticket | None:
        stored = self._tickets.get(ticket_id)
        return None if stored is None else stored.model_copy(deep=True)

    def get_many(self, ticket_ids: list[str]) -> list[Ticket]:
        found = [self._tickets[i] for i in dict.fromkeys(ticket_ids) if i in self._tickets]
        return [ticket.model_copy(deep=True) for ticket in found]

    def get_by_number(self, number: str) -> Ticket | None:
        found = [ticket for ticket in self._tickets.values() if ticket.number == number]
        return found[0].model_copy(deep=True) if found else None

    def automations_due(self, bucket: int, now: datetime) -> list[Ticket]:
        due = sorted(
            (at, ticket_id)
            for ticket_id, at in self._automation_due.items()
            if at <= now and automation_bucket(ticket_id) == bucket
        )
        return [self._tickets[ticket_id].model_copy(deep=True) for _, ticket_id in due]

    def filed_steps(self, queue: str, limit: int, cursor: str | None) -> Page[FiledStep]:
        after = tuple(decode_cursor(cursor, list)) if cursor else None
        found = [
            (position, ticket)
            for position, ticket in _in_index(
                self._tickets.values(), _INDEXES["by_queue_updated"], queue
            )
            if after is None or position > after
        ]
        page = found[:limit]
        filed = [
            FiledStep(ticket.model_copy(deep=True), self._automation_due.get(ticket.id))
            for _, ticket in page
        ]
        return Page(filed, encode_cursor(list(page[-1][0])) if len(found) > limit else None)

    def refile(self, ticket: Ticket) -> bool:
        stored = self._tickets.get(ticket.id)
        if stored is None or stored.revision != ticket.revision:
            return False
        self._file(stored)
        return True

    def automation_filing(self) -> AutomationFiling:
        return self._filing

    def record_automation_filing(self, filing: AutomationFiling) -> bool:
        if self._filing.revision != filing.revision - 1:
            return False
        self._filing = filing
        return True

    def get_with_messages(
        self, ticket_id: str, limit: int, cursor: str | None
    ) -> tuple[Ticket | None, Page[Message]]:
        start = decode_cursor(cursor, str) if cursor else None
        if start is not None and not start.startswith("MSG#"):
            raise bad_cursor()
        stored = self._messages.get(ticket_id, {})
        keys = [key for key in sorted(stored) if start is None or key > start]
        page = keys[:limit]
        more = len(keys) > limit
        messages = [stored[key].model_copy(deep=True) for key in page]
        return self.get(ticket_id), Page(messages, encode_cursor(page[-1]) if more else None)

    def history(self, ticket_id: str, limit: int, cursor: str | None) -> Page[HistoryEntry]:
        start = self._history_start(ticket_id, cursor) if cursor else None
        stored = self._history.get(ticket_id, {})
        keys = [key for key in sorted(stored) if start is None or key > start]
        page = keys[:limit]
        if len(keys) <= limit:
            return Page([stored[key].model_copy() for key in page], None)
        position = {"pk": {"S": f"HIST#{ticket_id}"}, "sk": {"S": page[-1]}}
        return Page([stored[key].model_copy() for key in page], encode_cursor(position))

    @staticmethod
    def _history_start(ticket_id: str, cursor: str) -> str:
        # The same key-shaped cursor as DynamoDB's, refused unless it is of this ticket.
        position = decode_cursor(cursor, dict)
        pk, sk = position.get("pk"), position.get("sk")
        if set(position) != {"pk", "sk"} or pk != {"S": f"HIST#{ticket_id}"}:
            raise bad_cursor()
        if not isinstance(sk, dict) or set(sk) != {"S"} or not isinstance(sk["S"], str):
            raise bad_cursor()
        return str(sk["S"])

    def tickets_of_contact(self, contact_id: str) -> list[Ticket]:
        return [
            ticket.model_copy(deep=True)
            for _, ticket in _in_index(self._tickets.values(), _INDEXES["by_contact"], contact_id)
        ]

    def find_message(self, ticket_id: str, message_id: str, posted_at: datetime) -> Message | None:
        second = _second(posted_at)
        for message in self._messages.get(ticket_id, {}).values():
            if message.id == message_id and _second(message.created_at) == second:
                return message
        return None

    def record_delivery(
        self, ticket_id: str, message_id: str, posted_at: datetime, outcomes: dict[str, Delivery]
    ) -> list[str]:
        second = _second(posted_at)
        found = [
            (key, message)
            for key, message in self._messages.get(ticket_id, {}).items()
            if message.id == message_id and _second(message.created_at) == second
        ]
        if not found:
            return []
        key, message = found[0]
        delivery = dict(message.delivery)
        changed = []
        for recipient, outcome in outcomes.items():
            known = delivery.get(recipient)
            if known is None or DELIVERY_RANK[known.state] < DELIVERY_RANK[outcome.state]:
                delivery[recipient] = outcome
                changed.append(recipient)
        self._messages[ticket_id][key] = message.model_copy(update={"delivery": delivery})
        return changed

    def copy_messages(self, messages: list[Message]) -> None:
        for message in messages:
            self._put_message(message)

    def merge_copy(self, source_id: str) -> MergeCopy | None:
        return self._merge_copies.get(source_id)

    def record_merge_copy(self, job: MergeCopy) -> bool:
        stored = self._merge_copies.get(job.source_id)
        # Progress only moves on: a slower run that shares the job never takes it back.
        if stored is None or stored.done or stored.copied > job.copied:
            return False
        cursor = job.cursor if job.cursor is not None else stored.cursor
        self._merge_copies[job.source_id] = replace(
            stored, cursor=cursor, copied=job.copied, done=job.done
        )
        return True

    def replace_address(self, ticket_id: str, address: str, replacement: str) -> int:
        address = address.lower()
        changed = 0
        stored = self._messages.get(ticket_id, {})
        for key, message in stored.items():
            update: dict[str, object] = {}
            if (message.author.email or "").lower() == address:
                update["author"] = Author(type=message.author.type, email=replacement)
            if any(recipient.lower() == address for recipient in message.delivery):
                update["delivery"] = {
                    replacement if recipient.lower() == address else recipient: outcome
                    for recipient, outcome in message.delivery.items()
                }
            if update:
                stored[key] = message.model_copy(update=update)
                changed += 1
        return changed

    def _put_message(self, message: Message) -> None:
        # Delivery reports are written only by `record_delivery`, never with the message.
        key = f"MSG#{message.created_at.isoformat()}#{message.id}"
        stored = message.model_copy(deep=True, update={"delivery": {}})
        self._messages.setdefault(message.ticket_id, {})[key] = stored

    # --- lists ---------------------------------------------------------------------------------

    def list_page(self, plan: ListPlan, limit: int, cursor: str | None) -> Page[Ticket]:
        """Each partition read from where the cursor left it, merged in the index's order."""
        positions = self._positions(cursor, plan) if cursor else {}
        runs: list[tuple[Position, int, Ticket]] = []
        for number, partition in enumerate(plan.partitions):
            after = positions.get(number)
            for position, ticket in _in_index(
                self._tickets.values(), _INDEXES[partition.index], partition.key
            ):
                if not _matches(ticket, plan.filter):
                    continue
                if after is not None and (
                    position <= after if not plan.newest_first else position >= after
                ):
                    continue
                runs.append((position, number, ticket))
        runs.sort(key=lambda run: run[0], reverse=plan.newest_first)
        chosen = runs[:limit]
        tickets = [ticket.model_copy(deep=True) for _, _, ticket in chosen]
        if len(runs) <= limit:
            return Page(tickets, None)
        # Runs that gave nothing to this page keep their position.
        for position, number, _ in chosen:
            positions[number] = position
        held = {
            str(number): [plan.partitions[number].index, plan.partitions[number].key, *position]
            for number, position in positions.items()
        }
        return Page(tickets, encode_cursor(held))

    @staticmethod
    def _positions(cursor: str, plan: ListPlan) -> dict[int, Position]:
        """The positions a list cursor holds, refused unless they fit this very list."""
        held = decode_cursor(cursor, dict)
        if not held:
            raise bad_cursor()
        positions: dict[int, Position] = {}
        for name, value in held.items():
            if not name.isdigit() or int(name) >= len(plan.partitions):
                raise bad_cursor()
            partition = plan.partitions[int(name)]
            wanted = [partition.index, partition.key]
            if (
                not isinstance(value, list)
                or len(value) != 4
                or value[:2] != wanted
                or not all(isinstance(part, str) for part in value[2:])
            ):
                raise bad_cursor()
            positions[int(name)] = (value[2], value[3])
        return positions

    # --- departments and membership ------------------------------------------------------------

    def departments_of(self, email: str) -> frozenset[str]:
        return frozenset(department for member, department in self._members if member == email)

    def is_member(self, email: str, department_id: str) -> bool:
        return (email, department_id) in self._members

    def department(self, department_id: str) -> Department | None:
        stored = self._departments.get(department_id)
        return None if stored is None else stored.model_copy(deep=True)

    def department_and_membership(
        self, department_id: str, email: str | None
    ) -> tuple[Department | None, bool]:
        member = email is not None and self.is_member(email, department_id)
        return self.department(department_id), member

    def departments(self) -> list[Department]:
        return [self._departments[key].model_copy(deep=True) for key in sorted(self._departments)]

    def save_department(
        self,
        department: Department,
        events: list[OutgoingEvent],
        *,
        new: bool = False,
        added: str | None = None,
        removed: str | None = None,
    ) -> None:
        if new and department.id in self._departments:
            raise GuardFailed(OpenDepartmentGuard(department.id))
        # Members are a set in the item: read back sorted, once each.
        members = sorted(set(department.members))
        self._departments[department.id] = department.model_copy(update={"members": members})
        if added:
            self._members.add((added, department.id))
        if removed:
            self._members.discard((removed, department.id))
        self.outbox.extend(events)

    def counts(self, department_id: str | None) -> dict[Status, int]:
        return dict(self._counts_of(department_id))

    # --- assignment by turns -------------------------------------------------------------------

    def _turn_free(self, turn: Turn) -> bool:
        rotation = self._rotations.get(turn.department_id, Rotation())
        below_limit = (
            turn.open_limit is None or self._open_tickets.get(turn.assignee, 0) < turn.open_limit
        )
        return rotation.turns == turn.taken and below_limit

    def _count_open(self, commits: tuple[Commit, ...]) -> None:
        """One change per assignee for the whole transaction, as DynamoDB's single update of
        their count; never below zero (tickets assigned before counts were kept are in none)."""
        deltas: dict[str, int] = {}
        for commit in commits:
            for ticket, delta in ((commit.previous, -1), (commit.ticket, 1)):
                holder = open_assignee(ticket)
                if holder is not None:
                    deltas[holder] = deltas.get(holder, 0) + delta
        for email, delta in deltas.items():
            self._open_tickets[email] = max(self._open_tickets.get(email, 0) + delta, 0)

    def set_available(self, email: str, available: bool) -> AgentLoad:
        self._available[email] = available
        return self.loads([email])[email]

    def loads(self, emails: list[str]) -> dict[str, AgentLoad]:
        return {
            email: AgentLoad(self._available.get(email, False), self._open_tickets.get(email, 0))
            for email in emails
        }

    def rotation(
        self, department_id: str, emails: list[str]
    ) -> tuple[Rotation, dict[str, AgentLoad]]:
        return self._rotations.get(department_id, Rotation()), self.loads(emails)

    def recount_open(self, emails: list[str]) -> None:
        index = _INDEXES["by_assignee"]
        for email in emails:
            self._open_tickets[email] = sum(
                len(_in_index(self._tickets.values(), index, assignee_key(email, status)))
                for status in OPEN_STATUSES
            )

    def tallies(self, department_id: str | None, first: date, last: date) -> list[RatingTally]:
        return [
            RatingTally(day, department, agent, good, bad)
            for (department, day, agent), (good, bad) in sorted(
                self._tallies.items(), key=lambda item: (item[0][1], item[0][2] or "")
            )
            if department == department_id and first <= day <= last and (good or bad)
        ]


def _stored_ticket(ticket: Ticket) -> Ticket:
    # Tags are a set in the item: read back sorted, once each.
    return ticket.model_copy(deep=True, update={"tags": sorted(set(ticket.tags))})


def _distinct(guards: Iterable[list[Guard]]) -> list[Guard]:
    """One check per guarded item, named by its first guard (as the DynamoDB transaction does)."""
    seen: dict[tuple[str, ...], Guard] = {}
    for some in guards:
        for guard in some:
            key = (
                ("member", guard.email, guard.department_id)
                if isinstance(guard, MemberGuard)
                else ("department", guard.department_id)
            )
            seen.setdefault(key, guard)
    return list(seen.values())


def _second(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")[: len("YYYY-MM-DDTHH:MM:SS")]


# --- the list indexes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    """A sparse index of tickets: its partition key and sort time, None where a ticket is not in
    it (as DynamoDB leaves out items without the index's key attributes)."""

    key: Callable[[Ticket], str | None]
    time: Callable[[Ticket], datetime | None]


def _sla_due(ticket: Ticket) -> datetime | None:
    # Only tickets still running against a target are in the SLA-ordered index.
    if ticket.status in ("resolved", "closed"):
        return None
    return ticket.sla.next_due(ticket.first_response_at is not None)


def _queue(ticket: Ticket) -> str:
    return queue_key(ticket.department_id, ticket.status)


_INDEXES: dict[str, _Index] = {
    "by_queue_updated": _Index(_queue, lambda t: t.updated_at),
    "by_queue_created": _Index(_queue, lambda t: t.created_at),
    "by_queue_sla": _Index(_queue, _sla_due),
    "by_assignee": _Index(lambda t: assignee_key(t.assignee, t.status), lambda t: t.updated_at),
    "by_contact": _Index(lambda t: t.contact_id, lambda t: t.created_at),
}


def _in_index(tickets: Iterable[Ticket], index: _Index, key: str) -> list[tuple[Position, Ticket]]:
    """The partition `key` of `index`, in its order (oldest first)."""
    found = [
        ((time.isoformat(), ticket.id), ticket)
        for ticket in tickets
        if index.key(ticket) == key and (time := index.time(ticket)) is not None
    ]
    return sorted(found, key=lambda entry: entry[0])


def _matches(ticket: Ticket, conditions: TicketFilter) -> bool:
    """The filter DynamoDB applies while reading the partitions."""
    if conditions.priority and ticket.priority != conditions.priority:
        return False
    if conditions.tag and conditions.tag not in ticket.tags:
        return False
    if conditions.sla_state and ticket.sla.state != conditions.sla_state:
        return False
    if conditions.assignee:
        wanted = None if conditions.assignee == NO_KEY else conditions.assignee
        if ticket.assignee != wanted:
            return False
    if conditions.statuses and ticket.status not in conditions.statuses:
        return False
    return conditions.departments is None or (ticket.department_id or "") in conditions.departments


class FakeSearchIndex:
    """Documents by ticket, and posting lists as sets of positions (`<created_at>#<id>`) sorted
    when read, as a DynamoDB partition is by its sort key."""

    def __init__(self, tickets: FakeTicketRepository) -> None:
        self._tickets = tickets
        self._docs: dict[str, SearchDoc] = {}
        self._postings: dict[str, set[str]] = {}  # list key -> positions

    def doc(self, ticket_id: str) -> SearchDoc | None:
        stored = self._docs.get(ticket_id)
        return None if stored is None else copy.deepcopy(stored)

    def store(self, doc: SearchDoc, previous: SearchDoc | None) -> None:
        stored = self._docs.get(doc.ticket_id)
        fresh = (
            stored is None
            if previous is None
            else stored is not None and stored.version == previous.version
        )
        if not fresh:
            raise StaleDoc(doc.ticket_id)
        old = previous.posting_keys() if previous is not None else set()
        new = doc.posting_keys()
        for key in old - new:
            self._postings.get(key, set()).discard(doc.position)
        for key in new - old:
            self._postings.setdefault(key, set()).add(doc.position)
        # As the DynamoDB index does, the caller's document learns its new version.
        doc.version = (previous.version if previous is not None else 0) + 1
        self._docs[doc.ticket_id] = copy.deepcopy(doc)

    def candidates(self, key: str, limit: int, after: str | None) -> tuple[list[Candidate], bool]:
        positions = sorted(
            (p for p in self._postings.get(key, set()) if after is None or p < after),
            reverse=True,
        )
        return [Candidate(p) for p in positions[:limit]], len(positions) > limit

    def load(self, ticket_ids: list[str]) -> dict[str, tuple[SearchDoc | None, Ticket | None]]:
        return {i: (self.doc(i), self._tickets.get(i)) for i in ticket_ids}


class FakeFileLinks:
    """Links that say what they were signed for, so a test can read it back."""

    def download_url(
        self, key: str, content_disposition: str, content_type: str, expires_at: datetime
    ) -> str:
        query = urlencode(
            {
                "disposition": content_disposition,
                "type": content_type,
                "expires": expires_at.isoformat(),
            }
        )
        return f"https://files.example/{quote(key)}?{query}"


class FakeAgentDirectory:
    """The user pool in memory: agents in the order they were added, invitations sent noted."""

    def __init__(self, *agents: Agent) -> None:
        self._agents: dict[str, Agent] = {agent.email: agent for agent in agents}
        self.invited: list[str] = []

    def page(self, limit: int, cursor: str | None) -> Page[Agent]:
        start = decode_cursor(cursor, dict).get("offset") if cursor else 0
        if not isinstance(start, int) or start < 0:
            raise bad_cursor()
        agents = list(self._agents.values())
        more = len(agents) > start + limit
        following = encode_cursor({"offset": start + limit}) if more else None
        return Page(agents[start : start + limit], following)

    def agent(self, email: str) -> Agent | None:
        return self._agents.get(email)

    def admins(self) -> list[Agent]:
        return [agent for agent in self._agents.values() if agent.admin]

    def invite(self, email: str, name: str | None) -> Agent:
        if email in self._agents:
            raise AgentExists(email)
        agent = Agent(email=email, name=name, enabled=True, confirmed=False, admin=False)
        self._agents[email] = agent
        self.invited.append(email)
        return agent

    def set_enabled(self, email: str, enabled: bool) -> None:
        self._agents[email] = replace(self._known(email), enabled=enabled)

    def set_admin(self, email: str, admin: bool) -> None:
        self._agents[email] = replace(self._known(email), admin=admin)

    def _known(self, email: str) -> Agent:
        agent = self._agents.get(email)
        if agent is None:
            raise UnknownAgent(email)
        return agent
