"""Threads on DynamoDB: what channels keeps of each ticket, and the ids that lead to it."""

from __future__ import annotations

from collections.abc import Sequence

from services.channels.data.tables import (
    SERVICE,
    ChannelsOutbox,
    ChannelsTable,
    ThreadItem,
    TicketRefItem,
)
from services.channels.logic.ticket_thread import Thread
from shared.clock import Clock
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import add_to_outbox
from shared.storage import bind_table, transaction

MAX_REFERENCES = 20  # the References we send: the first id and the latest ones


def _mid(message_id: str) -> str:
    return f"MID#{message_id}"


class DynamoThreadRepository:
    def __init__(self, clock: Clock) -> None:
        bind_table(ChannelsTable, SERVICE)
        self._clock = clock

    def save(
        self, thread: Thread, new_message_ids: list[str], events: Sequence[OutgoingEvent] = ()
    ) -> None:
        """Store the thread, point its number and new Message-IDs at it, and queue its events,
        in one write."""
        ids = list(dict.fromkeys(thread.message_ids + new_message_ids))
        if len(ids) > MAX_REFERENCES:
            ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
        thread.message_ids = ids
        with transaction(ChannelsTable) as write:
            write.save(
                ThreadItem(
                    f"THREAD#{thread.ticket_id}",
                    "THREAD",
                    ticket_id=thread.ticket_id,
                    number=thread.number,
                    subject=thread.subject,
                    requester=thread.requester,
                    cc=thread.cc or None,
                    department_id=thread.department_id,
                    channel_id=thread.channel_id,
                    message_ids=ids or None,
                )
            )
            write.save(TicketRefItem(f"NUMBER#{thread.number}", "REF", ticket_id=thread.ticket_id))
            for message_id in dict.fromkeys(new_message_ids):
                write.save(TicketRefItem(_mid(message_id), "REF", ticket_id=thread.ticket_id))
            add_to_outbox(write, ChannelsOutbox, events, self._clock.now())

    def thread(self, ticket_id: str) -> Thread | None:
        try:
            item = ThreadItem.get(f"THREAD#{ticket_id}", "THREAD")
        except ThreadItem.DoesNotExist:
            return None
        return Thread(
            ticket_id=item.ticket_id,
            number=item.number,
            subject=item.subject,
            requester=item.requester,
            cc=list(item.cc or ()),
            department_id=item.department_id,
            channel_id=item.channel_id,
            message_ids=list(item.message_ids or ()),
        )

    def thread_by_number(self, number: str) -> Thread | None:
        try:
            ref = TicketRefItem.get(f"NUMBER#{number}", "REF")
        except TicketRefItem.DoesNotExist:
            return None
        return self.thread(ref.ticket_id)

    def ticket_of_message_ids(self, message_ids: list[str]) -> str | None:
        found = {
            item.pk[len("MID#") :]: item.ticket_id
            for item in TicketRefItem.batch_get([(_mid(m), "REF") for m in message_ids[:100]])
        }
        return next((found[m] for m in message_ids if m in found), None)
