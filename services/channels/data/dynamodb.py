"""Received mail on DynamoDB (pynamodb): each mail recorded once per department, the quarantine,
the hourly counts of tickets opened and acknowledgements, and the index of mail by sender.

The channels table (tables.py) is shared by the modules of this package: channels.py keeps the
channels and their addresses, threads.py the tickets' threads, outbound.py the mail we send, and
this module the mail we receive."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from services.channels.data.tables import (
    SERVICE,
    ChannelsOutbox,
    ChannelsTable,
    HourlyCountItem,
    InboundItem,
    MessageIdItem,
    QuarantineItem,
    SenderMailItem,
)
from services.channels.logic.dependencies import HourlyLimits
from services.channels.logic.quarantine import QuarantinedMail, is_held, quarantine_id
from services.channels.logic.receive_mail import TooManyNewTickets
from shared.clock import Clock
from shared.events.catalogue import EmailReceived
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import add_to_outbox
from shared.keys import NO_KEY
from shared.storage import ItemKey, bind_table, failed_conditions, transaction

QUARANTINE_PK = "QUARANTINE"
HELD_PK = "HELD"  # machine mail answering nothing: kept apart from the quarantine
COUNT_WINDOW = timedelta(hours=2)  # an hour's count is kept a little past its hour


class DynamoInboundRepository:
    def __init__(self, clock: Clock) -> None:
        bind_table(ChannelsTable, SERVICE)
        self._clock = clock

    def record(
        self,
        received: EmailReceived,
        events: Sequence[OutgoingEvent],
        acknowledge: bool = False,
        new_tickets_per_hour: int | None = None,
    ) -> bool:
        now = self._clock.now()
        counted: ItemKey | None = None
        try:
            with transaction(ChannelsTable) as write:
                _save_received(write, received, acknowledge=acknowledge)
                add_to_outbox(write, ChannelsOutbox, events, now)
                if new_tickets_per_hour is not None:
                    opened = f"OPENED#{received.sender.email}"
                    counted = _count_this_hour(write, opened, new_tickets_per_hour, now)
        except TransactWriteError as error:
            failed = failed_conditions(write, error)
            if failed - {counted}:
                return False  # delivered before: by SES again, or as the same Message-ID
            if failed:  # only the sender's count of new tickets
                raise TooManyNewTickets() from error
            raise
        return True

    def mail_from(self, address: str) -> list[str]:
        return [item.sk for item in SenderMailItem.query(_sender_key(address))]

    def forget_mail_from(self, address: str, ses_message_ids: list[str]) -> None:
        for ses_message_id in ses_message_ids:
            SenderMailItem(_sender_key(address), ses_message_id).delete()

    def take_acknowledgement(self, sender: str, channel_id: str, limits: HourlyLimits) -> bool:
        now = self._clock.now()
        try:
            with transaction(ChannelsTable) as write:
                _count_this_hour(write, f"ACKS#{sender}", limits.per_sender, now)
                _count_this_hour(write, f"CHANNEL_ACKS#{channel_id}", limits.per_channel, now)
        except TransactWriteError as error:
            if failed_conditions(write, error):
                return False
            raise
        return True

    def claim_acknowledgement(self, message_id: str, department_id: str | None) -> str | None:
        """The channel to acknowledge from if the ticket this mail opened is to be acknowledged
        and nobody did yet; marks it done, so a redelivered event sends nothing twice."""
        item = MessageIdItem(f"MSGID#{message_id}", department_id or NO_KEY)
        try:
            item.update(
                actions=[MessageIdItem.acknowledged.set(True)],
                condition=(MessageIdItem.acknowledge == True)  # noqa: E712
                & MessageIdItem.acknowledged.does_not_exist(),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return item.channel_id

    # --- quarantine -----------------------------------------------------------------------------

    def quarantine(self, received: EmailReceived, reason: str, held: bool = False) -> bool:
        """Record the mail and list it for an admin with the event it would have sent, in one
        write (a mail recorded but not listed would be lost); False if recorded before."""
        try:
            with transaction(ChannelsTable) as write:
                _save_received(write, received, held=reason if held else f"quarantined: {reason}")
                write.save(
                    QuarantineItem(
                        HELD_PK if held else QUARANTINE_PK,
                        quarantine_id(received, held),
                        ses_message_id=received.ses_message_id,
                        department_id=received.department_id,
                        reason=reason,
                        sender=received.sender.email,
                        subject=received.subject,
                        raw_key=received.raw_key,
                        received_at=datetime.fromisoformat(received.received_at),
                        event=received.model_dump_json(),
                    )
                )
        except TransactWriteError as error:
            if failed_conditions(write, error):
                return False  # delivered before: its only conditions are the received mail's
            raise
        return True

    def quarantined(
        self, held: bool, limit: int, cursor: str | None
    ) -> tuple[list[QuarantinedMail], str | None]:
        results = QuarantineItem.query(
            HELD_PK if held else QUARANTINE_PK,
            QuarantineItem.sk < cursor if cursor else None,
            scan_index_forward=False,  # newest first
            limit=limit,
        )
        items = [_quarantined(item) for item in results]
        more = results.last_evaluated_key is not None and len(items) == limit
        return items, (items[-1].id if more else None)

    def get_quarantined(self, quarantine_id_: str) -> QuarantinedMail | None:
        try:
            return _quarantined(QuarantineItem.get(_partition(quarantine_id_), quarantine_id_))
        except QuarantineItem.DoesNotExist:
            return None

    def release(self, mail: QuarantinedMail, received: EmailReceived, by: str) -> bool:
        now = self._clock.now()
        try:
            with transaction(ChannelsTable) as write:
                write.update(
                    QuarantineItem(_partition(mail.id), mail.id),
                    actions=[
                        QuarantineItem.released_at.set(now),
                        QuarantineItem.released_by.set(by),
                    ],
                    condition=QuarantineItem.released_at.does_not_exist(),
                )
                add_to_outbox(write, ChannelsOutbox, [OutgoingEvent.of(received, now)], now)
        except TransactWriteError as error:
            if failed_conditions(write, error):
                return False  # released before
            raise
        return True


def _save_received(
    write: TransactWrite,
    received: EmailReceived,
    held: str | None = None,
    acknowledge: bool = False,
) -> None:
    """Record the mail for its department, once per SES message and once per Message-ID (these
    two puts carry the transaction's first conditions), and index it by its sender. `held`: why
    it was kept back instead of announced."""
    department = received.department_id or NO_KEY
    write.save(
        InboundItem(
            f"INBOUND#{received.ses_message_id}",
            department,
            ses_message_id=received.ses_message_id,
            raw_key=received.raw_key,
            received_at=datetime.fromisoformat(received.received_at),
            held=held,
        ),
        condition=InboundItem.pk.does_not_exist(),
    )
    if received.message_id:
        write.save(
            MessageIdItem(
                f"MSGID#{received.message_id}",
                department,
                acknowledge=acknowledge or None,
                channel_id=received.channel_id,
            ),
            condition=MessageIdItem.pk.does_not_exist(),
        )
    write.save(_by_sender(received))


def _count_this_hour(write: TransactWrite, key: str, limit: int, now: datetime) -> ItemKey:
    """Add one to `key`'s count of this hour, on the condition that it is below `limit`; the key
    of the count."""
    hour = now.strftime("%Y-%m-%dT%H")
    write.update(
        HourlyCountItem(key, hour),
        actions=[HourlyCountItem.count.add(1), HourlyCountItem.expires_at.set(now + COUNT_WINDOW)],
        condition=HourlyCountItem.count.does_not_exist() | (HourlyCountItem.count < limit),
    )
    return key, hour


def _sender_key(address: str) -> str:
    return f"SENDER#{address.lower()}"


def _by_sender(received: EmailReceived) -> SenderMailItem:
    return SenderMailItem(
        _sender_key(received.sender.email),
        received.ses_message_id,
        received_at=datetime.fromisoformat(received.received_at),
    )


def _partition(quarantine_id_: str) -> str:
    return HELD_PK if is_held(quarantine_id_) else QUARANTINE_PK


def _quarantined(item: QuarantineItem) -> QuarantinedMail:
    return QuarantinedMail(
        id=item.sk,
        reason=item.reason,
        received=EmailReceived.model_validate_json(item.event),
        released_at=item.released_at,
        released_by=item.released_by,
    )
