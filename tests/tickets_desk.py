"""The tickets service's use cases as agents, admins, mail and the other services call them, on
the in-memory storage and a clock that moves one second before each write (so lists sorted by
time have an order to show)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.tickets.logic.agent_directory import Agent
from services.tickets.logic.change_ticket import ExpectedVersion, TicketPatch, change_ticket
from services.tickets.logic.departments import add_member, create_department
from services.tickets.logic.dependencies import Dependencies, DeskConfig
from services.tickets.logic.find_ticket import conversation, find_ticket, history
from services.tickets.logic.list_tickets import TicketQuery, list_tickets
from services.tickets.logic.open_ticket import OpenTicket, open_ticket
from services.tickets.logic.pending_steps import AutomationTimings
from services.tickets.logic.post_message import NewMessage, post_agent_message
from services.tickets.logic.system_updates import receive_email
from services.tickets.logic.ticket import (
    Author,
    Department,
    HistoryEntry,
    Message,
    Status,
    Ticket,
    Visibility,
)
from shared.clock import FixedClock
from shared.errors import DomainError, Invalid
from shared.events.catalogue import EmailReceived, MailVerdicts, Person
from shared.events.envelope import Envelope
from shared.identity import Caller
from tests.fakes.tickets import FakeAgentDirectory, FakeFileLinks, FakeTicketRepository

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Caller("admin@example.com", "admin")
ALICE = Caller("alice@example.com", "agent")  # Billing, when the test makes the departments
BOB = Caller("bob@example.com", "agent")  # Technical
CAROL = Caller("carol@example.com", "agent")  # no department at all
CLIENT = Person(email="client@example.org", name="Client")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
UNKNOWN_NUMBER = "TKT-9999"


class Desk:
    def __init__(
        self,
        triage: str | None = None,
        prefix: str = "TKT",
        width: int = 4,
        agents: Iterable[Agent] = (),
        automations: AutomationTimings | None = None,
    ) -> None:
        self.clock = FixedClock(T0)
        automations = automations or AutomationTimings()
        self.repository = FakeTicketRepository(automations)
        self.agents = FakeAgentDirectory(*agents)
        config = DeskConfig(prefix, width, triage, automations)
        self.deps = Dependencies(self.repository, self.clock, config, self.agents, FakeFileLinks())
        self._seen = 0  # events before this one in the outbox are forgotten
        self.opened: list[str] = []  # the ids of the tickets opened, oldest first

    def later(self, seconds: float = 1) -> datetime:
        return self.clock.advance(timedelta(seconds=seconds))

    # --- departments -------------------------------------------------------------------------

    def department(self, name: str, *members: Caller) -> Department:
        department = create_department(name, None, ADMIN, self.deps)
        for member in members:
            department = add_member(department.id, member.email, ADMIN, self.deps)
        return department

    def billing_and_technical(self) -> None:
        """Billing with Alice, Technical with Bob."""
        self.department("Billing", ALICE)
        self.department("Technical", BOB)

    # --- tickets -----------------------------------------------------------------------------

    def open(
        self, department_id: str | None = "billing", as_: Caller = ADMIN, **fields: Any
    ) -> Ticket:
        self.later()
        command = OpenTicket(
            **{
                "subject": "Invoice twice",
                "body": "I was charged twice in March.",
                "requester": CLIENT,
                "author": Author(type="agent", email=as_.email),
                "department_id": department_id,
                **fields,
            }
        )
        return self._opened(open_ticket(command, as_, self.deps))

    def _opened(self, ticket: Ticket) -> Ticket:
        if ticket.id not in self.opened:
            self.opened.append(ticket.id)
        return ticket

    def change(
        self,
        key: str | Ticket,
        as_: Caller = ADMIN,
        expected: ExpectedVersion | None = None,
        **patch: Any,
    ) -> Ticket:
        self.later()
        return change_ticket(_key(key), TicketPatch(**patch), expected, as_, self.deps)

    def post(
        self,
        key: str | Ticket,
        body: str = "On it.",
        as_: Caller = ADMIN,
        visibility: Visibility = "public",
        status: Status | None = None,
    ) -> tuple[Ticket, Message]:
        self.later()
        author = Author(type="agent", email=as_.email)
        new = NewMessage(body=body, author=author, visibility=visibility, status=status)
        return post_agent_message(_key(key), new, as_, self.deps)

    def mail(
        self,
        ticket_id: str | None = None,
        department_id: str | None = None,
        text: str = "Any news?",
        subject: str = "Re: Invoice twice",
        sender: Person = CLIENT,
        message_id: str | None = None,
    ) -> Ticket:
        """A client's mail, as the channels service announces it."""
        self.later()
        mail = EmailReceived(
            ses_message_id=str(uuid.uuid4()),
            message_id=message_id or f"<{uuid.uuid4()}@example.org>",
            raw_key=f"inbound/{uuid.uuid4()}",
            sender=sender,
            recipients=["billing@support.example.com"],
            subject=subject,
            text=text,
            ticket_id=ticket_id,
            department_id=department_id,
            received_at=self.clock.now().isoformat(),
            verdicts=MailVerdicts(spam="PASS", virus="PASS"),
        )
        return self._opened(receive_email(mail, self.envelope(), self.deps))

    def envelope(self) -> Envelope:
        return Envelope(id=str(uuid.uuid4()), occurred_at=self.clock.now().isoformat(), data={})

    # --- reads -------------------------------------------------------------------------------

    def get(self, key: str | Ticket, as_: Caller = ADMIN) -> Ticket:
        return find_ticket(_key(key), as_, self.deps)

    def messages(self, key: str | Ticket, as_: Caller = ADMIN) -> list[Message]:
        _, page = conversation(_key(key), as_, self.deps, 200, None)
        assert page.cursor is None
        return page.items

    def history(self, key: str | Ticket, as_: Caller = ADMIN) -> list[HistoryEntry]:
        page = history(_key(key), as_, self.deps, 200, None)
        assert page.cursor is None
        return page.items

    def changes(self, key: str | Ticket, field: str) -> list[tuple[Any, Any, str]]:
        """(old, new, actor) of each history entry of one field, oldest first."""
        return [(e.old, e.new, e.actor) for e in self.history(key) if e.field == field]

    def expected(
        self, keep: Callable[[Ticket], bool] = lambda ticket: True, sort: str = "updated"
    ) -> list[str]:
        """The ids of the tickets opened that `keep` keeps, as a list sorted by `sort` shows
        them (newest first)."""
        tickets = [ticket for ticket in map(self.repository.get, self.opened) if ticket]
        chosen = [ticket for ticket in tickets if keep(ticket)]
        order = "updated_at" if sort == "updated" else "created_at"
        chosen.sort(key=lambda ticket: getattr(ticket, order), reverse=True)
        return [ticket.id for ticket in chosen]

    def listed(self, as_: Caller = ADMIN, limit: int = 100, **query: Any) -> list[str]:
        page = list_tickets(TicketQuery(**query), as_, self.deps, limit, None)
        return [ticket.id for ticket in page.items]

    def every_page(self, limit: int, as_: Caller = ADMIN, **query: Any) -> list[str]:
        """Follow the cursor to the end: only the last page may be short, no ticket twice."""
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(200):
            page = list_tickets(TicketQuery(**query), as_, self.deps, limit, cursor)
            items = [ticket.id for ticket in page.items]
            assert len(items) == limit if page.cursor else len(items) <= limit
            assert not set(items) & set(seen), "a ticket shown again on a later page"
            seen += items
            cursor = page.cursor
            if cursor is None:
                return seen
        raise AssertionError("the cursor never ran out")

    # --- events ------------------------------------------------------------------------------

    def events(self, kind: str | None = None, ticket_id: str | None = None) -> list[dict[str, Any]]:
        """The data of each event written since the last `forget_events`, oldest first."""
        return [
            event.envelope.data
            for event in self.repository.outbox[self._seen :]
            if kind in (None, event.detail_type)
            and ticket_id in (None, event.envelope.data.get("ticket_id"))
        ]

    def event_names(self, ticket_id: str | None = None) -> list[str]:
        return [
            event.detail_type
            for event in self.repository.outbox[self._seen :]
            if ticket_id in (None, event.envelope.data.get("ticket_id"))
        ]

    def forget_events(self) -> None:
        self._seen = len(self.repository.outbox)


def _key(key: str | Ticket) -> str:
    return key if isinstance(key, str) else key.id


def refusal(action: Callable[[], object]) -> DomainError:
    """The error the use case refuses with (the test fails if it does not refuse)."""
    try:
        action()
    except DomainError as error:
        return error
    raise AssertionError("the use case did not refuse")


def fields(error: DomainError) -> list[str]:
    return [e.field for e in error.errors]


def invalid(error: DomainError, field: str) -> bool:
    """Whether the refusal says the input is invalid, naming `field` alone."""
    return isinstance(error, Invalid) and fields(error) == [field]
