"""Notifications on DynamoDB (pynamodb): the tickets as they stand, preferences, each agent's
window per ticket, the claims of events and the notifications sent. See tables.py for the keys."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from services.channels.data.due_list import DueList
from services.channels.data.tables import (
    SERVICE,
    ChannelsTable,
    ClaimItem,
    DueItem,
    NotificationRefItem,
    PreferencesItem,
    WatchItem,
    WindowItem,
)
from services.channels.logic.notifications import (
    Assignment,
    DueDigest,
    Notice,
    NotificationMail,
    SentNotification,
    StaleWindow,
    WatchedTicket,
    Window,
)
from shared.storage import bind_table, failed_conditions, transaction

CLAIM_DAYS = 15  # longer than an event can come back (a dead-letter queue keeps it 14 days)
REFERENCE_DAYS = 90  # how long an answer by mail to a notification is taken as one
WINDOW_DAYS = 1  # a window item outlives its window, then goes
DUE = DueList("NOTIFY_DUE", DueItem)  # windows with notices waiting, by when their window ends
DEFAULTS_KEY = ("NOTIFY_PREFS", "DEFAULTS")


def _watch_key(ticket_id: str) -> tuple[str, str]:
    return f"WATCH#{ticket_id}", "WATCH"


def _own_key(agent: str) -> tuple[str, str]:
    return f"NOTIFY_PREFS#{agent}", "OWN"


def _window_key(agent: str, ticket_id: str) -> tuple[str, str]:
    return f"NOTIFY_WINDOW#{agent}", ticket_id


def _due_name(agent: str, ticket_id: str) -> str:
    return f"{agent}#{ticket_id}"


class DynamoNotificationStore:
    def __init__(self) -> None:
        bind_table(ChannelsTable, SERVICE)

    # --- tickets ---------------------------------------------------------------------------------

    def watch(self, ticket: WatchedTicket) -> WatchedTicket:
        actions = [
            WatchItem.number.set(ticket.number),
            WatchItem.subject.set(ticket.subject),
            WatchItem.channel_id.set(ticket.channel_id) if ticket.channel_id else None,
            # Version 0: any change of the ticket that arrived first is newer.
            WatchItem.department_id.set(WatchItem.department_id | ticket.department_id)
            if ticket.department_id
            else None,
            WatchItem.department_version.set(WatchItem.department_version | 0),
            WatchItem.client_words.set(WatchItem.client_words | ticket.client_words)
            if ticket.client_words
            else None,
        ]
        item = WatchItem(*_watch_key(ticket.ticket_id))
        item.update(actions=[a for a in actions if a])  # reads back the item as it stands
        watched = _watched(ticket.ticket_id, item)
        assert watched is not None  # its number and subject were just written
        return watched

    def follow_assignee(self, ticket_id: str, assignment: Assignment) -> WatchedTicket | None:
        assignee, version = assignment.assignee, assignment.version
        item = self._newer(
            ticket_id,
            [
                WatchItem.assignee.set(assignee) if assignee else WatchItem.assignee.remove(),
                WatchItem.assignee_version.set(version),
                WatchItem.assigned_by.set(assignment.by),
                WatchItem.assigned_at.set(assignment.at),
                WatchItem.assigned_in.set(assignment.cause),
            ],
            # At the same version only the same event again: another one at that version (the
            # ticket's announcement and its turn, from one commit) tells the same assignment.
            WatchItem.assignee_version.does_not_exist()
            | (WatchItem.assignee_version < version)
            | (
                (WatchItem.assignee_version == version)
                & (WatchItem.assigned_in == assignment.cause)
            ),
        )
        return None if item is None else _watched(ticket_id, item)

    def follow_department(self, ticket_id: str, department_id: str | None, version: int) -> None:
        action = (
            WatchItem.department_id.set(department_id)
            if department_id
            else WatchItem.department_id.remove()
        )
        self._newer(
            ticket_id,
            [action, WatchItem.department_version.set(version)],
            WatchItem.department_version.does_not_exist()
            | (WatchItem.department_version <= version),
        )

    def follow_client_words(self, ticket_id: str, words: str, at: datetime) -> None:
        self._newer(
            ticket_id,
            [WatchItem.client_words.set(words), WatchItem.client_words_at.set(at)],
            WatchItem.client_words_at.does_not_exist() | (WatchItem.client_words_at <= at),
        )

    def _newer(
        self, ticket_id: str, actions: list[Action], condition: Condition
    ) -> WatchItem | None:
        """The item as the change left it; None when a later change is kept already."""
        item = WatchItem(*_watch_key(ticket_id))
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return None
        return item

    def forget_client_words(self, ticket_id: str) -> None:
        # The time stays: words older than the erasure that arrive late are not kept either.
        WatchItem(*_watch_key(ticket_id)).update(actions=[WatchItem.client_words.remove()])

    def watched(self, ticket_id: str) -> WatchedTicket | None:
        try:
            return _watched(ticket_id, WatchItem.get(*_watch_key(ticket_id)))
        except WatchItem.DoesNotExist:
            return None

    # --- preferences -----------------------------------------------------------------------------

    def defaults(self) -> dict[str, bool]:
        try:
            return dict(json.loads(PreferencesItem.get(*DEFAULTS_KEY).kinds))
        except PreferencesItem.DoesNotExist:
            return {}

    def set_defaults(self, defaults: dict[str, bool]) -> None:
        PreferencesItem(*DEFAULTS_KEY, kinds=json.dumps(defaults, sort_keys=True)).save()

    def own_preferences(self, agents: list[str]) -> dict[str, dict[str, bool]]:
        keys = list(dict.fromkeys(_own_key(agent) for agent in agents))
        return {
            item.pk.partition("#")[2]: dict(json.loads(item.kinds))
            for item in PreferencesItem.batch_get(keys)
        }

    def set_own_preferences(self, agent: str, own: dict[str, bool]) -> None:
        PreferencesItem(*_own_key(agent), kinds=json.dumps(own, sort_keys=True)).save()

    # --- windows ---------------------------------------------------------------------------------

    def window(self, agent: str, ticket_id: str) -> Window | None:
        try:
            return _window(WindowItem.get(*_window_key(agent, ticket_id)))
        except WindowItem.DoesNotExist:
            return None

    def open_window(
        self,
        cause: str,
        agent: str,
        ticket_id: str,
        previous: Window | None,
        sent: NotificationMail,
    ) -> Window | None:
        opened = Window(agent, ticket_id, sent.at, (previous.version if previous else 0) + 1)
        try:
            with transaction(ChannelsTable) as write:
                claim = _claim(write, cause, agent, sent.at)
                _replace_window(write, opened, previous)
                if previous is not None and previous.pending:
                    DUE.remove(write, previous.due_at, _due_name(agent, ticket_id))
                _remember(write, sent, agent, ticket_id)
        except TransactWriteError as error:
            failed = failed_conditions(write, error)
            if claim in failed:
                return None
            if failed:
                raise StaleWindow() from error
            raise
        return opened

    def hold(self, cause: str, agent: str, notice: Notice, previous: Window) -> bool:
        waiting = replace(
            previous, version=previous.version + 1, pending=(*previous.pending, notice)
        )
        try:
            with transaction(ChannelsTable) as write:
                claim = _claim(write, cause, agent, notice.at)
                _replace_window(write, waiting, previous)
                _list_due(write, agent, previous.ticket_id, previous.due_at)
        except TransactWriteError as error:
            failed = failed_conditions(write, error)
            if claim in failed:
                return False
            if failed:
                raise StaleWindow() from error
            raise
        return True

    def release(self, cause: str, opened: Window, previous: Window | None) -> None:
        with transaction(ChannelsTable) as write:
            write.delete(ClaimItem(f"NOTIFIED#{cause}", opened.agent))
            key = _window_key(opened.agent, opened.ticket_id)
            if previous is None:
                write.delete(WindowItem(*key), condition=WindowItem.version == opened.version)
            else:
                _replace_window(write, previous, opened)
                if previous.pending:
                    _list_due(write, opened.agent, opened.ticket_id, previous.due_at)

    def due(self, now: datetime, limit: int) -> list[DueDigest]:
        return [DueDigest(item.agent, item.ticket_id, at) for at, item in DUE.due(now, limit)]

    def take_due(self, due: DueDigest, sent: NotificationMail) -> Window | None:
        previous = self.window(due.agent, due.ticket_id)
        try:
            with transaction(ChannelsTable) as write:
                DUE.take(write, due.due_at, _due_name(due.agent, due.ticket_id))
                if previous is not None:
                    opened = Window(due.agent, due.ticket_id, sent.at, previous.version + 1)
                    _replace_window(write, opened, previous)
                    _remember(write, sent, due.agent, due.ticket_id)
        except TransactWriteError as error:
            if failed_conditions(write, error):
                return None  # another sweep took it, or a new notice sent it along
            raise
        return previous

    def put_back(self, waiting: Window, current: Window | None) -> None:
        name = _due_name(waiting.agent, waiting.ticket_id)
        try:
            with transaction(ChannelsTable) as write:
                _replace_window(write, waiting, current)
                # What waited since the take was listed at the end of the new window.
                if current is not None and current.pending and current.due_at != waiting.due_at:
                    DUE.remove(write, current.due_at, name)
                _list_due(write, waiting.agent, waiting.ticket_id, waiting.due_at)
        except TransactWriteError as error:
            if failed_conditions(write, error):
                raise StaleWindow() from error
            raise

    def sent_notification(self, message_ids: list[str]) -> SentNotification | None:
        keys = [(f"NOTIFICATION#{m}", "REF") for m in dict.fromkeys(message_ids[:100])]
        if not keys:
            return None
        found = {item.pk: item for item in NotificationRefItem.batch_get(keys)}
        for key, _ in keys:
            if (item := found.get(key)) is not None:
                return SentNotification(item.agent, item.ticket_id)
        return None


def _claim(write: TransactWrite, cause: str, agent: str, at: datetime) -> tuple[str, str]:
    key = (f"NOTIFIED#{cause}", agent)
    write.save(
        ClaimItem(*key, expires_at=at + timedelta(days=CLAIM_DAYS)),
        condition=ClaimItem.pk.does_not_exist(),
    )
    return key


def _list_due(write: TransactWrite, agent: str, ticket_id: str, due_at: datetime) -> None:
    DUE.add(write, due_at, _due_name(agent, ticket_id), agent=agent, ticket_id=ticket_id)


def _replace_window(write: TransactWrite, window: Window, previous: Window | None) -> None:
    """Store `window` on the condition that `previous` is what is stored."""
    condition = (
        WindowItem.pk.does_not_exist()
        if previous is None
        else WindowItem.version == previous.version
    )
    write.save(
        WindowItem(
            *_window_key(window.agent, window.ticket_id),
            sent_at=window.sent_at,
            version=window.version,
            pending=[notice.as_json() for notice in window.pending] or None,
            due_at=window.due_at if window.pending else None,
            failed_sends=window.failed_sends or None,
            expires_at=window.sent_at + timedelta(days=WINDOW_DAYS),
        ),
        condition=condition,
    )


def _remember(write: TransactWrite, sent: NotificationMail, agent: str, ticket_id: str) -> None:
    write.save(
        NotificationRefItem(
            f"NOTIFICATION#{sent.message_id}",
            "REF",
            agent=agent,
            ticket_id=ticket_id,
            expires_at=sent.at + timedelta(days=REFERENCE_DAYS),
        )
    )


def _window(item: WindowItem) -> Window:
    agent = item.pk.partition("#")[2]
    return Window(
        agent=agent,
        ticket_id=item.sk,
        sent_at=item.sent_at,
        version=int(item.version),
        pending=tuple(Notice.from_json(value) for value in item.pending or ()),
        failed_sends=int(item.failed_sends or 0),
    )


def _watched(ticket_id: str, item: WatchItem) -> WatchedTicket | None:
    if item.number is None or item.subject is None:
        return None  # changes arrived before the ticket itself
    assignment = None
    if item.assigned_in is not None:  # none until an event changes the assignee
        assignment = Assignment(
            assignee=item.assignee,
            version=int(item.assignee_version),
            by=item.assigned_by,
            at=item.assigned_at,
            cause=item.assigned_in,
        )
    return WatchedTicket(
        ticket_id=ticket_id,
        number=item.number,
        subject=item.subject,
        department_id=item.department_id,
        channel_id=item.channel_id,
        assignee=item.assignee,
        client_words=item.client_words,
        assignment=assignment,
    )
