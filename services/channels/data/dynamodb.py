"""The channels repository on DynamoDB (pynamodb): the only module that touches the table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from services.channels.data.tables import (
    SERVICE,
    ChannelsOutbox,
    ChannelsTable,
    InboundItem,
    MessageIdItem,
)
from shared.clock import Clock
from shared.events.catalogue import EmailReceived
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import outbox_items
from shared.storage import bind_table, transaction

NO_DEPARTMENT = "-none-"


class DynamoInboundRepository:
    def __init__(self, clock: Clock) -> None:
        bind_table(ChannelsTable, SERVICE)
        self._clock = clock

    def record(self, received: EmailReceived, events: Sequence[OutgoingEvent]) -> bool:
        department = received.department_id or NO_DEPARTMENT
        item = InboundItem(
            f"INBOUND#{received.ses_message_id}",
            department,
            ses_message_id=received.ses_message_id,
            raw_key=received.raw_key,
            sender=received.sender.email,
            subject=received.subject,
            received_at=datetime.fromisoformat(received.received_at),
        )
        try:
            with transaction(ChannelsTable) as write:
                write.save(item, condition=InboundItem.pk.does_not_exist())
                if received.message_id:
                    write.save(
                        MessageIdItem(f"MSGID#{received.message_id}", department),
                        condition=MessageIdItem.pk.does_not_exist(),
                    )
                for outbox_item in outbox_items(ChannelsOutbox, events, self._clock.now()):
                    write.save(outbox_item)
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons[:2]):
                return False  # delivered before: by SES again, or as the same Message-ID

            raise
        return True
