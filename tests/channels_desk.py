"""Mail as SES hands it to the channels service's use cases, and ticket events as the tickets
service sends them back, on the in-memory storage, at times the test chooses."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, TypeVar

from services.channels.logic.channel import Channel
from services.channels.logic.dependencies import (
    Dependencies,
    HourlyLimits,
    MailPolicy,
    ReplyTokens,
)
from services.channels.logic.follow_tickets import follow_message, remember_ticket
from services.channels.logic.manage_channels import ChannelFields, create_channel
from services.channels.logic.quarantine import QuarantinedMail
from services.channels.logic.receive_mail import IncomingMail, ReceivedMail, receive_mail
from services.channels.logic.review_quarantine import list_quarantine, release_mail
from shared.clock import FixedClock, isoformat
from shared.events.catalogue import (
    EmailReceived,
    MailVerdicts,
    MessagePosted,
    Person,
    TicketCreated,
)
from shared.events.envelope import EventData, OutgoingEvent
from shared.identity import Caller
from tests.fakes.channels import (
    FakeChannelRepository,
    FakeMailBucket,
    FakeMailRecords,
    FakeMailSender,
    FakeNotificationStore,
    FakeOutboundRepository,
    FakeRatingRequestStore,
    FakeThreadRepository,
)
from tests.fakes.departments import FakeDepartmentStore

T0 = datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)  # just after an hour begins: counts are hourly
ADMIN = Caller("admin@example.com", "admin")
AGENT = Caller("alice@example.com", "agent")
CLIENT = "carol@client.example.org"
BILLING = "billing@example.com"
SECRET = "a-secret-of-sixteen+"
AUTHENTICATED = MailVerdicts(spam="PASS", virus="PASS", spf="PASS", dkim="PASS", dmarc="PASS")
POLICY = MailPolicy(
    reply_tokens=ReplyTokens(SECRET, days=180),
    acknowledgements=HourlyLimits(per_sender=5, per_channel=50),
)

E = TypeVar("E", bound=EventData)


class Desk:
    """The channels service on fakes, and what the tickets service would do with its events."""

    def __init__(self, policy: MailPolicy = POLICY) -> None:
        self.clock = FixedClock(T0)
        self.outbox: list[OutgoingEvent] = []  # the one outbox of the service's table
        self.records = FakeMailRecords(self.clock, self.outbox)
        self.outbound = FakeOutboundRepository(self.outbox)
        self.sender = FakeMailSender()
        self.bucket = FakeMailBucket()
        self.deps = Dependencies(
            channels=FakeChannelRepository(),
            threads=FakeThreadRepository(self.outbox),
            inbound=self.records,
            quarantine=self.records,
            acknowledgements=self.records,
            received_mail=self.records,
            outbound_mail=self.outbound,
            sender=self.sender,
            mail_bucket=self.bucket,
            clock=self.clock,
            policy=policy,
            notifications=FakeNotificationStore(),
            departments=FakeDepartmentStore(),
            rating_requests=FakeRatingRequestStore(),
        )
        self.tickets: dict[str, TicketCreated] = {}
        self._handled: set[str] = set()  # the events the tickets service has taken
        self._ids = itertools.count(1)

    def change_policy(self, **changes: Any) -> None:
        self.deps = replace(self.deps, policy=replace(self.deps.policy, **changes))

    # --- admins ---------------------------------------------------------------------------------

    def channel(
        self, address: str = BILLING, department: str = "billing", **fields: Any
    ) -> Channel:
        return create_channel(address, department, ChannelFields(**fields), ADMIN, self.deps)

    def quarantine(self, held: bool = False, caller: Caller = ADMIN) -> list[QuarantinedMail]:
        return list_quarantine(held, 100, None, caller, self.deps)[0]

    def release(
        self, mail: QuarantinedMail, department: str | None = None, caller: Caller = ADMIN
    ) -> QuarantinedMail:
        return release_mail(mail.id, department, caller, self.deps)

    # --- mail in --------------------------------------------------------------------------------

    def mail(
        self,
        sender: str = CLIENT,
        to: Sequence[str] = (BILLING,),
        subject: str = "Invoice",
        message_id: str | None = "",
        in_reply_to: Sequence[str] = (),
        references: Sequence[str] = (),
        cc: Sequence[str] = (),
        headers: dict[str, str] | None = None,
        verdicts: MailVerdicts = AUTHENTICATED,
        ses_message_id: str | None = None,
    ) -> ReceivedMail:
        """A mail as SES's receipt tells it (its raw MIME not in the bucket): by default a new
        one from an authenticated client to Billing, with a Message-ID of its own (`message_id`
        left "") or none (None)."""
        number = next(self._ids)
        return ReceivedMail(
            ses_message_id=ses_message_id or f"ses-in-{number:04d}",
            received_at=self.clock.now(),
            envelope_sender=sender.lower(),
            recipients=list(to),
            verdicts=verdicts,
            summary=IncomingMail(
                sender=Person(email=sender.lower()),
                subject=subject,
                message_id=f"m{number}@client.example.org" if message_id == "" else message_id,
                in_reply_to=list(in_reply_to),
                references=list(references),
                to=[address.lower() for address in to],
                cc=list(cc),
                headers={name.lower(): value for name, value in (headers or {}).items()},
                text="Hello.",
            ),
        )

    def receive(self, mail: ReceivedMail | None = None, **fields: Any) -> int:
        """Receive the mail (or a new one with these fields); how many departments it was new
        for."""
        return receive_mail(mail or self.mail(**fields), self.deps)

    def announced(self, kind: type[E]) -> list[E]:
        """The data of every event of this kind in the outbox, oldest first."""
        return [
            kind.model_validate(event.envelope.data)
            for event in self.outbox
            if event.detail_type == kind.event_name
        ]

    # --- the tickets service --------------------------------------------------------------------

    def deliver(self) -> list[TicketCreated]:
        """What the tickets service does with the mail announced since: a new ticket for each
        mail that continues none, a client's message for each that does. The tickets opened."""
        opened = []
        for event in list(self.outbox):
            if event.detail_type != EmailReceived.event_name or event.envelope.id in self._handled:
                continue
            self._handled.add(event.envelope.id)
            received = EmailReceived.model_validate(event.envelope.data)
            if received.ticket_id is None:
                opened.append(self.open_ticket(received))
            else:
                follow_message(self._client_message(received), self.deps)
        return opened

    def open_ticket(self, received: EmailReceived) -> TicketCreated:
        number = len(self.tickets) + 1
        created = TicketCreated(
            ticket_id=f"t{number}",
            number=f"TKT-{number:04d}",
            subject=received.subject,
            status="open",
            priority="medium",
            department_id=received.department_id,
            requester=received.sender,
            channel_id=received.channel_id,
            cc=received.cc,
            mail_message_id=received.message_id,
            created_at=received.received_at,
        )
        self.tickets[created.ticket_id] = created
        remember_ticket(created, self.deps)
        return created

    def _client_message(self, received: EmailReceived) -> MessagePosted:
        assert received.ticket_id is not None
        ticket = self.tickets[received.ticket_id]
        return self.message(
            ticket,
            author={"type": "client", "email": received.sender.email, "name": None},
            body=received.text,
            mail_message_id=received.message_id,
        )

    def message(self, ticket: TicketCreated, **fields: Any) -> MessagePosted:
        """A message on the ticket, by default an agent's public reply."""
        values: dict[str, Any] = {
            "ticket_id": ticket.ticket_id,
            "number": ticket.number,
            "subject": ticket.subject,
            "message_id": f"msg-{next(self._ids)}",
            "visibility": "public",
            "author": {"type": "agent", "email": AGENT.email, "name": "Alice"},
            "department_id": ticket.department_id,
            "requester": ticket.requester,
            "cc": ticket.cc,
            "body": "Refunded.",
            "created_at": isoformat(self.clock.now()),
        }
        return MessagePosted(**{**values, **fields})

    def reply(self, ticket: TicketCreated, **fields: Any) -> MessagePosted:
        """An agent answers the ticket publicly; the message, as its event announced it."""
        posted = self.message(ticket, **fields)
        follow_message(posted, self.deps)
        return posted

    @property
    def sent(self) -> list[EmailMessage]:
        """Every mail that went out, oldest first, parsed."""
        return self.sender.messages


def mail_id(mail: EmailMessage) -> str:
    """A mail's Message-ID as replies name it, without its angle brackets."""
    return str(mail["Message-ID"]).strip("<>")


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())
