"""Notifying agents: following tickets from their events, choosing who hears of what, claiming
each event once per agent, grouping what comes within a window, and agents' preferences."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from services.channels.logic.channel import Channel
from services.channels.logic.delivery import SendFailed
from services.channels.logic.dependencies import Dependencies
from services.channels.logic.notification_mail import write_notification
from services.channels.logic.notifications import (
    GROUP_SEND_ATTEMPTS,
    KINDS,
    Assignment,
    DueDigest,
    Kind,
    Notice,
    NotificationMail,
    Preferences,
    StaleWindow,
    WatchedTicket,
    Window,
    client_words,
    notification_id,
    recipients,
)
from shared.errors import Conflict, Forbidden
from shared.events.catalogue import (
    OPENING_VERSION,
    SYSTEM,
    MessagePosted,
    TicketCreated,
    TicketUpdated,
)
from shared.identity import Caller
from shared.storage import retry_on_stale

logger = logging.getLogger(__name__)
R = TypeVar("R")
DIGESTS_PER_SWEEP = 200  # a sweep that finds more leaves them to the next minute's


# --- following tickets ----------------------------------------------------------------------------


def ticket_opened(created: TicketCreated, cause: str, deps: Dependencies) -> int:
    """Keep the new ticket; tell its department while nobody has it, and whoever has it: given
    as it opened (by turns), or by an assignment that arrived first. Returns how many mails went
    out."""
    ticket = deps.notifications.watch(
        WatchedTicket(
            ticket_id=created.ticket_id,
            number=created.number,
            subject=created.subject,
            department_id=created.department_id,
            channel_id=created.channel_id,
            client_words=client_words(created.preview) if created.opened_by is None else None,
        )
    )
    at = datetime.fromisoformat(created.created_at)
    sent = 0
    if created.assignee is None:
        sent += _notify(Notice("new_ticket", at, caused_by=created.opened_by), ticket, cause, deps)
    else:
        # Kept at the version of the commit that opened it: that commit's TicketUpdated, before
        # or after this, is the same assignment and tells nothing more.
        opened_with = Assignment(created.assignee.lower(), OPENING_VERSION, SYSTEM, at, cause)
        ticket = deps.notifications.follow_assignee(created.ticket_id, opened_with) or ticket
    assignment = ticket.assignment
    if assignment is not None and assignment.notice is not None:
        # Claimed by the event that told it: sent once, even if that event sent it already.
        sent += _notify(assignment.notice, ticket, assignment.cause, deps)
    return sent


def ticket_changed(updated: TicketUpdated, cause: str, deps: Dependencies) -> int:
    """Follow the assignee and the department; tell whoever was given the ticket by someone
    else."""
    sent = 0
    for change in updated.changes:
        if change.field == "requester":
            # Their personal data was erased (or the requester replaced): their words go too.
            deps.notifications.forget_client_words(updated.ticket_id)
        elif change.field == "department_id":
            deps.notifications.follow_department(updated.ticket_id, change.new, updated.version)
        elif change.field == "assignee":
            assignment = Assignment(
                assignee=str(change.new).lower() if change.new else None,
                version=updated.version,
                by=updated.actor,
                at=datetime.fromisoformat(updated.updated_at),
                cause=cause,
            )
            # None when a later assignment is kept (no notice for one that is over), or when
            # the ticket is not known yet (its own event then tells it).
            ticket = deps.notifications.follow_assignee(updated.ticket_id, assignment)
            if ticket is not None and assignment.notice is not None:
                sent += _notify(assignment.notice, ticket, cause, deps)
    return sent


def client_answered(posted: MessagePosted, cause: str, deps: Dependencies) -> int:
    """Keep the client's words; tell the assignee, or the department."""
    if posted.author.get("type") != "client" or posted.visibility != "public":
        return 0
    at = datetime.fromisoformat(posted.created_at)
    words = client_words(posted.body)
    if words is not None:
        deps.notifications.follow_client_words(posted.ticket_id, words, at)
    client = posted.author.get("email")  # an agent writing as a client is not told of it
    return notify(Notice("client_replied", at, caused_by=client), posted.ticket_id, cause, deps)


def sla_changed(kind: Kind, ticket_id: str, at: str, cause: str, deps: Dependencies) -> int:
    return notify(Notice(kind, datetime.fromisoformat(at)), ticket_id, cause, deps)


# --- sending -----------------------------------------------------------------------------------


def notify(notice: Notice, ticket_id: str, cause: str, deps: Dependencies) -> int:
    """Mail `notice` to everyone who should hear of it and wants to, once per agent for `cause`
    (the event's id). Returns how many mails went out now (the rest wait in their windows)."""
    ticket = deps.notifications.watched(ticket_id)
    if ticket is None:
        logger.info(
            "no notification for a ticket opened before they began", extra={"ticket": ticket_id}
        )
        return 0
    return _notify(notice, ticket, cause, deps)


def _notify(notice: Notice, ticket: WatchedTicket, cause: str, deps: Dependencies) -> int:
    agents = recipients(notice, ticket, deps.departments.load(), deps.policy.triage_department)
    if not agents:
        return 0
    defaults = deps.notifications.defaults()
    own = deps.notifications.own_preferences(agents)
    wanted = [a for a in agents if Preferences(defaults, own.get(a, {})).enabled[notice.kind]]
    channel = _sender_channel(ticket, deps) if wanted else None
    if channel is None:
        if wanted:
            logger.warning("no address to notify agents from", extra={"ticket": ticket.number})
        return 0
    return sum(_notify_agent(agent, notice, ticket, channel, cause, deps) for agent in wanted)


def _notify_agent(
    agent: str,
    notice: Notice,
    ticket: WatchedTicket,
    channel: Channel,
    cause: str,
    deps: Dependencies,
) -> int:
    store, now = deps.notifications, deps.clock.now()
    sent = NotificationMail(now, notification_id(cause, agent, _domain(channel)))

    def claim() -> tuple[Window, Window | None] | None:
        """(the window opened, the one before) when a mail goes now; None when it waits."""
        previous = store.window(agent, ticket.ticket_id)
        if previous is None or previous.open_at(now):
            opened = store.open_window(cause, agent, ticket.ticket_id, previous, sent)
            return None if opened is None else (opened, previous)
        store.hold(cause, agent, notice, previous)
        return None

    claimed = _while_window_changes(claim)
    if claimed is None:
        return 0
    opened, previous = claimed
    # Whatever still waited from the last window (the sweep had not come) goes in this mail.
    notices = [*(previous.pending if previous else ()), notice]
    try:
        _send(agent, ticket, notices, channel, sent, deps)
    except SendFailed as error:
        if error.permanent:
            logger.warning(
                "notification not sent", extra={"ticket": ticket.number, "why": error.reason}
            )
            return 0
        store.release(cause, opened, previous)  # the event comes back, and is claimed again
        raise
    return 1


def send_due_digests(deps: Dependencies) -> int:
    """Mail what waited in windows that have ended, one mail per agent and ticket. Two sweeps
    at once send each at most once: taking it is a conditional write."""
    store, now, sent_count = deps.notifications, deps.clock.now(), 0
    for due in store.due(now, DIGESTS_PER_SWEEP):
        sent_count += _send_digest(due, now, deps)
    return sent_count


def _send_digest(due: DueDigest, now: datetime, deps: Dependencies) -> int:
    store = deps.notifications
    ticket = store.watched(due.ticket_id)
    channel = _sender_channel(ticket, deps) if ticket is not None else None
    domain = _domain(channel) if channel is not None else "invalid"
    sent = NotificationMail(
        now, notification_id(f"digest|{due.due_at.isoformat()}", due.agent, domain)
    )
    taken = store.take_due(due, sent)
    if taken is None or not taken.pending or ticket is None or channel is None:
        return 0
    try:
        _send(due.agent, ticket, list(taken.pending), channel, sent, deps)
    except SendFailed as error:
        # Not raised: the other groups of this sweep still go.
        _digest_not_sent(taken, ticket, error, deps)
        return 0
    return 1


def _digest_not_sent(
    taken: Window, ticket: WatchedTicket, error: SendFailed, deps: Dependencies
) -> None:
    """A refusal is final. A send SES may take later puts the group back, for a later sweep to
    take (once, as any group) and send, until GROUP_SEND_ATTEMPTS sends have failed."""
    about = {"ticket": ticket.number, "why": error.reason}
    if error.permanent:
        logger.warning("grouped notification not sent", extra=about)
        return
    attempts = taken.failed_sends + 1
    if attempts >= GROUP_SEND_ATTEMPTS:
        logger.error(
            "grouped notification dropped",
            extra={**about, "agent": taken.agent, "attempts": attempts},
        )
        return
    store = deps.notifications

    def put_back() -> None:
        current = store.window(taken.agent, taken.ticket_id)
        store.put_back(taken.put_back(current), current)

    _while_window_changes(put_back)
    logger.warning("grouped notification put back", extra={**about, "attempts": attempts})


def _send(
    agent: str,
    ticket: WatchedTicket,
    notices: list[Notice],
    channel: Channel,
    sent: NotificationMail,
    deps: Dependencies,
) -> None:
    raw = write_notification(
        agent, ticket, notices, channel.address, sent.message_id, deps.policy.console_url, sent.at
    )
    deps.sender.send(channel.address, [agent], raw)


def _while_window_changes(attempt: Callable[[], R]) -> R:
    """Run `attempt` again on the window as it stands when another notice changed it."""
    return retry_on_stale(
        attempt, StaleWindow, Conflict("notifications to this agent kept changing; try again")
    )


def _sender_channel(ticket: WatchedTicket, deps: Dependencies) -> Channel | None:
    """The address a notification comes from: the ticket's channel, else its department's."""
    channel = deps.channels.get(ticket.channel_id) if ticket.channel_id else None
    if channel is None and ticket.department_id is not None:
        channel = deps.channels.of_department(ticket.department_id)
    return channel


def _domain(channel: Channel) -> str:
    return channel.address.partition("@")[2]


# --- preferences -------------------------------------------------------------------------------


def preferences_of(caller: Caller, deps: Dependencies) -> Preferences:
    store = deps.notifications
    return Preferences(
        store.defaults(),
        store.own_preferences([caller.email.lower()]).get(caller.email.lower(), {}),
    )


def change_preferences(caller: Caller, own: dict[str, bool], deps: Dependencies) -> Preferences:
    """Replace the caller's own choices: a kind not in `own` follows the default."""
    own = {kind: enabled for kind, enabled in own.items() if kind in KINDS}
    deps.notifications.set_own_preferences(caller.email.lower(), own)
    return Preferences(deps.notifications.defaults(), own)


def change_defaults(caller: Caller, defaults: dict[str, bool], deps: Dependencies) -> Preferences:
    """Replace what every agent gets unless they chose otherwise (admins); the caller's own
    preferences with the new defaults."""
    if not caller.is_admin:
        raise Forbidden("Only admins set the defaults of notifications.")
    defaults = {kind: enabled for kind, enabled in defaults.items() if kind in KINDS}
    deps.notifications.set_defaults(defaults)
    return preferences_of(caller, deps)
