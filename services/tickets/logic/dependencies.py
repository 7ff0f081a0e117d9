"""What every tickets use case is given: storage (`data.dynamodb` implements it), the clock, the
deployment's choices, the directory agents sign in with (`data.cognito` implements it on the
user pool) and links to the files of messages (`data.files` signs them for the mail bucket)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.tickets.logic.agent_directory import Agent
from services.tickets.logic.merge_copy import MergeCopy
from services.tickets.logic.pending_steps import AutomationTimings
from services.tickets.logic.repository import (
    AgentLoad,
    AutomationFiling,
    Commit,
    FiledStep,
    ListPlan,
    Rotation,
)
from services.tickets.logic.ticket import (
    Delivery,
    Department,
    HistoryEntry,
    Message,
    Status,
    Ticket,
)
from shared.clock import Clock
from shared.events.envelope import OutgoingEvent
from shared.storage import Page


class TicketRepository(Protocol):
    def next_number(self) -> int:
        """The next ticket number, from an atomic counter."""
        ...

    def commit(self, *commits: Commit) -> None:
        """Store the changes (of different tickets) in one transaction; raises StaleVersion or
        GuardFailed and then stores nothing."""
        ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def get_by_number(self, number: str) -> Ticket | None: ...

    def automations_due(self, bucket: int, now: datetime) -> list[Ticket]:
        """The tickets of the bucket whose pending automatic step is due by `now`, as the index
        has them (it may lag the table). Each commit files a ticket there under its pending step
        (`pending_steps.pending_step` with the timings the repository was given), or not at all."""
        ...

    def filed_steps(self, queue: str, limit: int, cursor: str | None) -> Page[FiledStep]:
        """The tickets of a queue (`list_tickets.queue_key`), least recently changed first, each
        with the due time the automations' index holds for it: `limit` at most, read through the
        queue index (never a Scan)."""
        ...

    def refile(self, ticket: Ticket) -> bool:
        """File the ticket under its pending step as the repository's timings make it, or under
        none, on the condition that it is unchanged since `ticket` was read (its revision and
        version stay); False, and nothing written, if it changed: that change filed it."""
        ...

    def automation_filing(self) -> AutomationFiling:
        """The desk's record of the timings its tickets are filed under (blank, revision 0, until
        one is stored)."""
        ...

    def record_automation_filing(self, filing: AutomationFiling) -> bool:
        """Store the record on the condition that the stored one is the one it follows (revision
        one lower; none at all for revision 1); False, and nothing stored, if another run stored
        one meanwhile."""
        ...

    def get_many(self, ticket_ids: list[str]) -> list[Ticket]:
        """The tickets of these ids that exist, in no particular order (read in batches)."""
        ...

    def get_with_messages(
        self, ticket_id: str, limit: int, cursor: str | None
    ) -> tuple[Ticket | None, Page[Message]]:
        """The ticket and a page of its conversation, oldest first, in one read."""
        ...

    def find_message(self, ticket_id: str, message_id: str, posted_at: datetime) -> Message | None:
        """The ticket's message with this id, posted in the second of `posted_at`."""
        ...

    def history(self, ticket_id: str, limit: int, cursor: str | None) -> Page[HistoryEntry]: ...

    def list_page(self, plan: ListPlan, limit: int, cursor: str | None) -> Page[Ticket]: ...

    def tickets_of_contact(self, contact_id: str) -> list[Ticket]: ...

    def departments_of(self, email: str) -> frozenset[str]: ...

    def is_member(self, email: str, department_id: str) -> bool: ...

    def department(self, department_id: str) -> Department | None: ...

    def department_and_membership(
        self, department_id: str, email: str | None
    ) -> tuple[Department | None, bool]:
        """The department, and whether `email` belongs to it, in one read."""
        ...

    def departments(self) -> list[Department]: ...

    def save_department(
        self,
        department: Department,
        events: list[OutgoingEvent],
        *,
        new: bool = False,
        added: str | None = None,
        removed: str | None = None,
    ) -> None:
        """Create or update a department (and one membership), with its events."""
        ...

    def counts(self, department_id: str | None) -> dict[Status, int]: ...

    def set_available(self, email: str, available: bool) -> AgentLoad:
        """Note whether the agent takes tickets by turns now; their load as it is then."""
        ...

    def loads(self, emails: list[str]) -> dict[str, AgentLoad]:
        """Each agent's availability and open tickets (the default for one never counted)."""
        ...

    def recount_open(self, emails: list[str]) -> None:
        """Set each agent's count of open tickets to the tickets assigned to them that are open
        now, read through an index (never a scan). Commits keep the count from then on, and
        never take it below zero."""
        ...

    def rotation(
        self, department_id: str, emails: list[str]
    ) -> tuple[Rotation, dict[str, AgentLoad]]:
        """Where the department's turns stand and the loads of these agents, in one read."""
        ...

    def record_delivery(
        self, ticket_id: str, message_id: str, posted_at: datetime, outcomes: dict[str, Delivery]
    ) -> list[str]:
        """Note what became of a reply's mail, per recipient, never over a worse outcome."""
        ...

    def copy_messages(self, messages: list[Message]) -> None:
        """Store copies of messages (in batches; used by merges)."""
        ...

    def replace_address(self, ticket_id: str, address: str, replacement: str) -> int:
        """Put `replacement` where the ticket's messages name `address` (as their author, without
        a name, or as a recipient of their mail); returns how many messages changed."""
        ...

    def commit_merge(self, job: MergeCopy, *commits: Commit) -> None:
        """As `commit`, recording in the same transaction the job that copies the merged
        ticket's conversation (keyed by `job.source_id`)."""
        ...

    def merge_copy(self, source_id: str) -> MergeCopy | None:
        """The recorded copy job of the merge of `source_id`, if there is one."""
        ...

    def record_merge_copy(self, job: MergeCopy) -> bool:
        """Store the job's progress, unless the stored job is done or has copied more (another
        run got further); False then, and nothing is stored."""
        ...


class AgentDirectory(Protocol):
    def page(self, limit: int, cursor: str | None) -> Page[Agent]:
        """Agents in the directory's order, `limit` at most, from where `cursor` left off."""
        ...

    def agent(self, email: str) -> Agent | None: ...

    def admins(self) -> list[Agent]:
        """Every agent in the admin group, whatever their status."""
        ...

    def invite(self, email: str, name: str | None) -> Agent:
        """Create the agent and send them the invitation; `AgentExists` if they are there."""
        ...

    def set_enabled(self, email: str, enabled: bool) -> None:
        """`UnknownAgent` if no agent has this email."""
        ...

    def set_admin(self, email: str, admin: bool) -> None:
        """`UnknownAgent` if no agent has this email."""
        ...


class FileLinks(Protocol):
    def download_url(
        self, key: str, content_disposition: str, content_type: str, expires_at: datetime
    ) -> str:
        """A link that fetches the stored file `key` until `expires_at`, answered with these
        Content-Disposition and Content-Type whatever the file was stored with."""
        ...


@dataclass(frozen=True)
class DeskConfig:
    number_prefix: str = "TKT"
    number_width: int = 4
    triage_department: str | None = None
    automations: AutomationTimings = field(default_factory=AutomationTimings)


@dataclass(frozen=True)
class Dependencies:
    repository: TicketRepository
    clock: Clock
    config: DeskConfig
    agents: AgentDirectory
    files: FileLinks
