"""Telling agents by mail what needs them, from the channel address of the ticket's department.

Five kinds, each one an agent can turn off (an admin sets the defaults):
- `new_ticket`: a ticket opened in their department, nobody has it (to its members);
- `client_replied`: the client answered (to the assignee, or the members while nobody has it);
- `assigned`: someone else gave them the ticket;
- `sla_at_risk`, `sla_breached`: a target is near or past (to the assignee, or the members).

A mail never goes to whoever caused it, and carries only what a client wrote: internal notes are
announced without their text, so none can reach a mail, from any department.

Exactly once: an event is claimed per agent, as acknowledgements are, so a redelivered event sends
nothing. At most one mail per agent and ticket per GROUP_WINDOW: what happens within it waits, and
the scheduled sweep sends it as one mail when the window ends. A sweep's send that SES may take
later puts the group back, due again RETRY_AFTER on, up to GROUP_SEND_ATTEMPTS sends in all.

An agent answering a notification by mail writes on the ticket (see `agent_answer`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, get_args

from shared.clock import isoformat
from shared.departments import Directory, responsible_department
from shared.events.catalogue import PREVIEW_CHARACTERS

Kind = Literal["new_ticket", "client_replied", "assigned", "sla_at_risk", "sla_breached"]
KINDS: tuple[Kind, ...] = get_args(Kind)
GROUP_WINDOW = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)  # a group whose send failed goes again this much later
GROUP_SEND_ATTEMPTS = 5  # then it is dropped: SES has not taken it for minutes on end
NOTIFICATIONS = uuid.UUID("3e0f4f8a-6d1b-4c52-9a7e-8b2d5c1f0e64")  # namespace of their Message-IDs
PUBLIC_MARK = "#public"  # first line of an agent's answer that goes to the client

WHAT_HAPPENED: dict[Kind, str] = {
    "new_ticket": "New ticket",
    "client_replied": "The client answered",
    "assigned": "Assigned to you",
    "sla_at_risk": "SLA target at risk",
    "sla_breached": "SLA target breached",
}
WHY_YOU: dict[Kind, str] = {
    "new_ticket": "it opened in your department and nobody has it yet",
    "client_replied": "you have the ticket, or your department has it and nobody else does",
    "assigned": "someone gave you the ticket",
    "sla_at_risk": "you have the ticket, or your department has it and nobody else does",
    "sla_breached": "you have the ticket, or your department has it and nobody else does",
}


@dataclass(frozen=True)
class WatchedTicket:
    """What channels keeps of a ticket to tell agents about it."""

    ticket_id: str
    number: str
    subject: str
    department_id: str | None
    channel_id: str | None = None
    assignee: str | None = None
    client_words: str | None = None  # the client's latest words, cut to PREVIEW_CHARACTERS
    assignment: Assignment | None = None  # the change that gave it `assignee`, when one did


@dataclass(frozen=True)
class Notice:
    """Something that happened to a ticket that agents may need to hear of."""

    kind: Kind
    at: datetime
    caused_by: str | None = None  # an agent's address: they are not told of what they did
    assignee: str | None = None  # `assigned`: who got the ticket

    def as_json(self) -> str:
        return json.dumps({"kind": self.kind, "at": isoformat(self.at)})

    @staticmethod
    def from_json(value: str) -> Notice:
        fields = json.loads(value)
        return Notice(kind=fields["kind"], at=datetime.fromisoformat(fields["at"]))


@dataclass(frozen=True)
class Assignment:
    """A change of a ticket's assignee, as the event `cause` (its id) told it. The bus keeps no
    order, so it may come before the ticket itself: it is kept, and told once the ticket is."""

    assignee: str | None  # None: nobody has the ticket
    version: int  # the ticket's, which orders the changes
    by: str  # an agent's address, or `system`
    at: datetime
    cause: str  # its notice is claimed under it: sent once, by this event or the ticket's

    @property
    def notice(self) -> Notice | None:
        if self.assignee is None:
            return None
        return Notice("assigned", self.at, caused_by=self.by, assignee=self.assignee)


@dataclass(frozen=True)
class Preferences:
    """Which kinds an agent gets: their own choices over the admins' defaults (all on)."""

    defaults: dict[str, bool]
    own: dict[str, bool]

    @property
    def enabled(self) -> dict[str, bool]:
        return {kind: self.own.get(kind, self.defaults.get(kind, True)) for kind in KINDS}

    @property
    def with_defaults_only(self) -> Preferences:
        return Preferences(self.defaults, {})


@dataclass(frozen=True)
class Window:
    """The mail an agent had (or was tried) about a ticket lately, and what waits for the next
    one."""

    agent: str
    ticket_id: str
    sent_at: datetime
    version: int
    pending: tuple[Notice, ...] = ()
    failed_sends: int = 0  # of what waits: it is due again RETRY_AFTER on, not at the end

    def open_at(self, now: datetime) -> bool:
        """A mail may go now: the last one is GROUP_WINDOW old."""
        return self.sent_at + GROUP_WINDOW <= now

    @property
    def due_at(self) -> datetime:
        return self.sent_at + (RETRY_AFTER if self.failed_sends else GROUP_WINDOW)

    def put_back(self, current: Window | None) -> Window:
        """`current` (the window the take of this one opened, with whatever waited since) with
        this one's notices, whose send failed, first in it again, due RETRY_AFTER on."""
        base = current or replace(self, version=0, pending=())
        return replace(
            base,
            version=base.version + 1,
            pending=(*self.pending, *base.pending),
            failed_sends=self.failed_sends + 1,
        )


class StaleWindow(Exception):
    """Another notice changed the agent's window on the ticket since it was read."""


@dataclass(frozen=True)
class NotificationMail:
    """A notification about to be sent: when, and its Message-ID (which its answers name)."""

    at: datetime
    message_id: str


@dataclass(frozen=True)
class DueDigest:
    """Notices held for an agent about a ticket, to send once their window ends."""

    agent: str
    ticket_id: str
    due_at: datetime


@dataclass(frozen=True)
class SentNotification:
    """A notification we mailed: who got it, about what. An answer to it is checked against it."""

    agent: str
    ticket_id: str


def recipients(
    notice: Notice, ticket: WatchedTicket, directory: Directory, triage: str | None
) -> list[str]:
    """Who hears of `notice`, before their preferences: never whoever caused it."""
    if notice.kind == "assigned":
        wanted = [notice.assignee] if notice.assignee else []
    elif ticket.assignee is not None and notice.kind != "new_ticket":
        wanted = [ticket.assignee]
    elif ticket.assignee is None:
        department = directory.departments.get(
            responsible_department(ticket.department_id, triage) or ""
        )
        wanted = list(department.members) if department and not department.archived else []
    else:
        wanted = []  # a new ticket that already has someone: they know
    caused_by = (notice.caused_by or "").lower()
    return [agent.lower() for agent in dict.fromkeys(wanted) if agent.lower() != caused_by]


def notification_id(cause: str, agent: str, domain: str) -> str:
    """The Message-ID of the mail for `cause` (an event id, or a digest's due time) to `agent`:
    the same on every attempt."""
    return f"{uuid.uuid5(NOTIFICATIONS, f'{cause}|{agent}')}@{domain}"


def agent_answer(text: str) -> tuple[str, Literal["internal", "public"]]:
    """The text an agent's answer posts, and how: a note, or a reply to the client when its
    first line is #public (that line is not posted)."""
    lines = text.lstrip("\n").split("\n")
    if lines and lines[0].strip().lower() == PUBLIC_MARK:
        return "\n".join(lines[1:]).strip("\n"), "public"
    return text, "internal"


def client_words(text: str | None) -> str | None:
    text = (text or "").strip()
    return text[:PREVIEW_CHARACTERS] or None
