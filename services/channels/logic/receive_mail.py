"""Receiving one mail that SES accepted: read and parse it, find the ticket it continues or the
channels it was sent to, record it once per department, and announce it so the tickets service
opens or continues a ticket.

Rule for a mail sent to two department addresses: one ticket per department. Each department's
copy is recorded under the mail's Message-ID and the department, so the same mail delivered again
(by SES, or through a second address of the same department) is applied once per department and
never lost for one of them. Mail to no known channel is announced without a department: admins
(and the triage department, if one is set) see it.

A mail joins the ticket it names only when its sender may write there (see thread_matching.py); any
other mail opens a ticket marked as a possible follow-up. A sender opens at most
`tickets_per_sender_per_hour` tickets: mail beyond that is held for an admin, never dropped, so a
script (or a loop with a system we do not recognise as a machine) cannot bury a department.

The ticket shows the new text of a reply first (`text` is the part above the quoted history); the
whole mail stays in the bucket under `raw_key`, and its sanitised HTML travels with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from services.channels.logic.authentication import authenticated, may_answer, signed
from services.channels.logic.channel import Channel, canonical_address
from services.channels.logic.dependencies import ChannelRepository, Dependencies
from services.channels.logic.loops import automated_reason, mailing_list
from services.channels.logic.mail_parser import (
    UNPARSEABLE,
    ParsedAttachment,
    ParsedMail,
    parse_mail,
)
from services.channels.logic.notifications import SentNotification, agent_answer
from services.channels.logic.quarantine import quarantine_reason
from services.channels.logic.thread_matching import MailFacts, ThreadDecision, find_thread
from shared.clock import isoformat
from shared.departments import responsible_department
from shared.events.catalogue import AgentReply, Attachment, EmailReceived, MailVerdicts, Person
from shared.events.envelope import OutgoingEvent

INBOUND_PREFIX = "inbound/"  # where the SES receipt rule's S3 action stores raw MIME
# An event must fit EventBridge (256 KB) and its outbox item DynamoDB (400 KB): the text and HTML
# of a large mail travel cut to these sizes, flagged, and the whole mail stays in the bucket.
MAX_TEXT_BYTES = 64 * 1024
MAX_HTML_BYTES = 128 * 1024
# Attachments stored and listed per mail; the rest stay only in the raw mail, and are counted.
MAX_ATTACHMENTS = 100


class TooManyNewTickets(Exception):
    """The sender has opened as many tickets this hour as one sender may."""


@dataclass
class IncomingMail:
    """What the routing and threading need of a mail, from its parse or, failing that, from the
    headers SES put in the event."""

    sender: Person
    subject: str
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    to: list[str]
    cc: list[str]
    headers: dict[str, str]  # lowercased names: what loop protection decides on
    unreadable: bool = False  # the parser gave up: only its bytes as text are known
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    attachments_omitted: int = 0  # beyond MAX_ATTACHMENTS: not stored


@dataclass(frozen=True)
class ReceivedMail:
    """One mail SES accepted, as its receipt tells it; SES stored the raw MIME under `raw_key`."""

    ses_message_id: str
    received_at: datetime
    envelope_sender: str  # the SMTP MAIL FROM
    recipients: list[str]  # the envelope's: they include Bcc and forwarding
    verdicts: MailVerdicts
    summary: IncomingMail  # what SES read of the headers: stands in if the raw mail is missing

    @property
    def raw_key(self) -> str:
        return INBOUND_PREFIX + self.ses_message_id


def incoming_from_parse(
    parsed: ParsedMail,
    envelope_sender: str,
    keep_attachments: Callable[[list[ParsedAttachment]], list[Attachment]],
) -> IncomingMail:
    """The mail as parsed; `keep_attachments` stores the attachments kept with it."""
    sender = (
        Person(email=parsed.sender.email, name=parsed.sender.name or None)
        if parsed.sender is not None and "@" in parsed.sender.email
        else Person(email=envelope_sender.lower())
    )
    return IncomingMail(
        sender=sender,
        subject=parsed.subject,
        message_id=parsed.message_id,
        in_reply_to=[parsed.in_reply_to] if parsed.in_reply_to else [],
        references=parsed.references,
        to=[a.email for a in parsed.to],
        cc=[a.email for a in parsed.cc],
        headers=parsed.headers_of_interest,
        unreadable=any(defect.startswith(UNPARSEABLE) for defect in parsed.defects),
        text=parsed.reply_text,
        html=parsed.html,
        attachments=keep_attachments(parsed.attachments[:MAX_ATTACHMENTS]),
        attachments_omitted=max(len(parsed.attachments) - MAX_ATTACHMENTS, 0),
    )


def _cut(text: str, limit: int) -> tuple[str, bool]:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text, False
    return encoded[:limit].decode(errors="ignore"), True


Action = Literal["announce", "hold", "quarantine"]


@dataclass(frozen=True)
class Outcome:
    """What happens to the mail for one department: announced (a ticket opens or continues),
    held (machine mail answering nothing) or quarantined, and why."""

    received: EmailReceived
    action: Action
    reason: str
    channel: Channel | None = None
    acknowledge: bool = False  # the new ticket wants an acknowledgement (within the hourly limits)

    @property
    def opens_ticket(self) -> bool:
        return self.action == "announce" and self.received.ticket_id is None


@dataclass(frozen=True)
class Decision:
    thread: ThreadDecision
    automated: str | None
    outcomes: list[Outcome]


def read_mail(received: ReceivedMail, deps: Dependencies) -> IncomingMail:
    """The mail parsed from the bucket, or what SES read of its headers if it is not there."""
    raw = deps.mail_bucket.raw(received.raw_key)
    if raw is None:
        return received.summary

    def keep(files: list[ParsedAttachment]) -> list[Attachment]:
        return deps.mail_bucket.keep_attachments(received.ses_message_id, files)

    return incoming_from_parse(parse_mail(raw), received.envelope_sender, keep)


def channels_for(recipients: list[str], channels: ChannelRepository) -> list[Channel]:
    """Every channel the mail was addressed to, once each, in the order of the recipients."""
    wanted = list(dict.fromkeys(canonical_address(r) for r in recipients if "@" in r))
    if not wanted:
        return []
    found = {channel.address: channel for channel in channels.by_addresses(wanted)}
    return [found[address] for address in wanted if address in found]


def decide(received: ReceivedMail, incoming: IncomingMail, deps: Dependencies) -> Decision:
    """Where the mail goes and why. Reads only: real mail and `POST /channels/simulate` share it."""
    policy = deps.policy
    recipients = [address.lower() for address in received.recipients]
    # SES's recipients are the envelope's (they include Bcc and forwarding); headers add the rest.
    addressed = recipients + incoming.to + incoming.cc
    verdicts = received.verdicts
    ours = bool(deps.channels.by_addresses([canonical_address(incoming.sender.email)]))
    automated = automated_reason(incoming.headers, incoming.sender.email, ours)
    # Automatic answers go to no list (everyone on it would get them) and to no sender who
    # failed to authenticate (the From may be forged: the answer would go to someone else).
    answerable = mailing_list(incoming.headers) is None and may_answer(verdicts)
    text, text_cut = _cut(incoming.text, MAX_TEXT_BYTES)
    html = incoming.html
    html_cut = html is not None and len(html.encode()) > MAX_HTML_BYTES
    base = EmailReceived(
        ses_message_id=received.ses_message_id,
        message_id=incoming.message_id,
        raw_key=received.raw_key,
        sender=incoming.sender,
        recipients=recipients,
        cc=incoming.cc,
        subject=incoming.subject,
        text=text,
        html=None if html_cut else html,  # cut HTML would be broken HTML: the text stands in
        attachments=incoming.attachments,
        attachments_omitted=incoming.attachments_omitted,
        truncated=text_cut or html_cut or incoming.attachments_omitted > 0,
        received_at=isoformat(received.received_at),
        verdicts=verdicts,
        automated=automated,
    )
    found = find_thread(
        MailFacts(
            sender=incoming.sender.email,
            subject=incoming.subject,
            recipients=addressed,
            in_reply_to=incoming.in_reply_to,
            references=incoming.references,
            authenticated=authenticated(verdicts),
            received_at=received.received_at,
        ),
        deps.threads,
        policy.reply_tokens,
    )
    virus = quarantine_reason(verdicts, None, True, policy.unknown_address)
    answered = deps.notifications.sent_notification(
        [*incoming.in_reply_to, *reversed(incoming.references)]
    )
    if answered is not None:
        outcome = _agent_answer(base, answered, automated, deps)
        return Decision(
            found, automated, [Outcome(base, "quarantine", virus) if virus else outcome]
        )
    if found.thread is not None:
        # A reply belongs to its ticket, whichever of our addresses it went to.
        threaded = base.model_copy(
            update={
                "ticket_id": found.thread.ticket_id,
                "department_id": found.thread.department_id,
            }
        )
        outcome = (
            Outcome(threaded, "quarantine", virus)
            if virus
            else Outcome(threaded, "announce", found.reason)
        )
        return Decision(found, automated, [outcome])
    base = base.model_copy(update={"possible_follow_up_of": found.suspected_ticket})
    if incoming.unreadable:
        return Decision(
            found, automated, [Outcome(base, "quarantine", "the mail could not be parsed")]
        )
    if automated is not None:
        # Machine mail that answers no ticket of ours opens none: kept, never answered.
        outcome = Outcome(base, "quarantine", virus) if virus else Outcome(base, "hold", automated)
        return Decision(found, automated, [outcome])
    matched = channels_for(addressed, deps.channels)
    routed: list[tuple[EmailReceived, Channel | None]] = [
        (base.model_copy(update={"department_id": c.department_id, "channel_id": c.id}), c)
        for c in {c.department_id: c for c in reversed(matched)}.values()  # first wins
    ]
    outcomes = []
    for copy, channel in routed or [(base, None)]:
        reason = quarantine_reason(verdicts, channel, False, policy.unknown_address)
        if reason is not None:
            outcomes.append(Outcome(copy, "quarantine", reason, channel))
            continue
        where = f"sent to {channel.address}" if channel else "sent to no address of ours"
        acknowledge = (
            channel is not None
            and channel.acknowledge
            and copy.message_id is not None
            and answerable
        )
        outcomes.append(Outcome(copy, "announce", f"new ticket: {where}", channel, acknowledge))
    return Decision(found, automated, outcomes)


def _agent_answer(
    base: EmailReceived, answered: SentNotification, automated: str | None, deps: Dependencies
) -> Outcome:
    """An answer to a notification we mailed an agent: posted on its ticket as theirs when it is
    theirs beyond doubt (their address, signed for its domain, written by a person) and they may
    still see the ticket; otherwise held for an admin, on the ticket's thread."""
    ticket = deps.notifications.watched(answered.ticket_id)
    department = ticket.department_id if ticket else None
    threaded = base.model_copy(
        update={"ticket_id": answered.ticket_id, "department_id": department}
    )
    agent = answered.agent
    if base.sender.email.lower() != agent:
        return Outcome(
            threaded, "hold", f"answers a notification sent to {agent} from another address"
        )
    if not signed(base.verdicts):
        return Outcome(threaded, "hold", "answers a notification, but DKIM and DMARC did not pass")
    if automated is not None:
        return Outcome(threaded, "hold", f"answers a notification automatically ({automated})")
    responsible = responsible_department(department, deps.policy.triage_department)
    members = deps.departments.load().departments.get(responsible or "")
    if agent not in (members.members if members else ()) and (
        ticket is None or ticket.assignee != agent
    ):
        return Outcome(threaded, "hold", f"{agent} may no longer see the ticket")
    text, visibility = agent_answer(base.text)
    answer = threaded.model_copy(
        update={"text": text, "agent_reply": AgentReply(email=agent, visibility=visibility)}
    )
    return Outcome(answer, "announce", f"an answer by {agent} to a notification ({visibility})")


def apply(decision: Decision, deps: Dependencies) -> int:
    """Carry the decision out; returns how many departments the mail was new for."""
    inbound, per_hour = deps.inbound, deps.policy.tickets_per_sender_per_hour
    new = 0
    for outcome in decision.outcomes:
        received = outcome.received
        if outcome.action == "quarantine":
            new += inbound.quarantine(received, outcome.reason)
        elif outcome.action == "hold":
            new += inbound.quarantine(received, outcome.reason, held=True)
        else:
            try:
                new += inbound.record(
                    received,
                    [OutgoingEvent.of(received, deps.clock.now())],
                    acknowledge=outcome.acknowledge,
                    new_tickets_per_hour=per_hour if outcome.opens_ticket else None,
                )
            except TooManyNewTickets:
                reason = f"the sender opened {per_hour} new tickets an hour already"
                new += inbound.quarantine(received, reason, held=True)
    return new


def receive_mail(received: ReceivedMail, deps: Dependencies) -> int:
    """Handle one mail SES accepted; returns how many departments it was new for."""
    return apply(decide(received, read_mail(received, deps), deps), deps)
