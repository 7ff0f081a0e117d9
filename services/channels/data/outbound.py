"""The mail sent for tickets (agents' replies, acknowledgements), on DynamoDB."""

from __future__ import annotations

from services.channels.data.tables import (
    SERVICE,
    ChannelsOutbox,
    ChannelsTable,
    OutboundItem,
    SesMessageItem,
)
from services.channels.logic.delivery import Outbound
from shared.clock import Clock
from shared.events.envelope import OutgoingEvent
from shared.events.outbox import add_to_outbox
from shared.storage import bind_table, transaction

SK = "OUTBOUND"


def _key(outbound_key: str) -> str:
    return f"OUTBOUND#{outbound_key}"


class DynamoOutboundRepository:
    def __init__(self, clock: Clock) -> None:
        bind_table(ChannelsTable, SERVICE)
        self._clock = clock

    def begin_attempt(self, outbound: Outbound) -> Outbound:
        item = OutboundItem(_key(outbound.key), SK)
        # One update creates or counts: the first attempt's Message-ID and recipients stay.
        item.update(
            actions=[
                OutboundItem.attempts.add(1),
                OutboundItem.ticket_id.set(OutboundItem.ticket_id | outbound.ticket_id),
                OutboundItem.ticket_message_id.set(
                    OutboundItem.ticket_message_id | outbound.ticket_message_id
                ),
                OutboundItem.ticket_message_at.set(
                    OutboundItem.ticket_message_at | outbound.ticket_message_at
                ),
                OutboundItem.message_id.set(OutboundItem.message_id | outbound.message_id),
                OutboundItem.recipients.set(OutboundItem.recipients | outbound.recipients),
                OutboundItem.state.set(OutboundItem.state | outbound.state),
            ]
        )
        return _outbound(item)

    def finish(
        self, outbound: Outbound, events: list[OutgoingEvent], ses_message_id: str | None = None
    ) -> None:
        now = self._clock.now()
        with transaction(ChannelsTable) as write:
            actions = [OutboundItem.state.set(outbound.state)]
            if ses_message_id is not None:
                actions.append(OutboundItem.ses_message_id.set(ses_message_id))
                write.save(SesMessageItem(f"SES#{ses_message_id}", "REF", outbound=outbound.key))
            write.update(OutboundItem(_key(outbound.key), SK), actions=actions)
            add_to_outbox(write, ChannelsOutbox, events, now)

    def record_sent(self, outbound: Outbound, ses_message_id: str) -> None:
        with transaction(ChannelsTable) as write:
            write.save(SesMessageItem(f"SES#{ses_message_id}", "REF", outbound=outbound.key))
            write.save(
                OutboundItem(
                    _key(outbound.key),
                    SK,
                    ticket_id=outbound.ticket_id,
                    ticket_message_id=outbound.ticket_message_id,
                    ticket_message_at=outbound.ticket_message_at,
                    message_id=outbound.message_id,
                    recipients=outbound.recipients,
                    attempts=1,
                    state="sent",
                    ses_message_id=ses_message_id,
                )
            )

    def of_ses_message(self, ses_message_id: str) -> Outbound | None:
        try:
            ref = SesMessageItem.get(f"SES#{ses_message_id}", "REF")
            return _outbound(OutboundItem.get(_key(ref.outbound), SK))
        except (SesMessageItem.DoesNotExist, OutboundItem.DoesNotExist):
            return None

    def announce(self, events: list[OutgoingEvent]) -> None:
        with transaction(ChannelsTable) as write:
            add_to_outbox(write, ChannelsOutbox, events, self._clock.now())


def _outbound(item: OutboundItem) -> Outbound:
    return Outbound(
        ticket_id=item.ticket_id,
        ticket_message_id=item.ticket_message_id,
        ticket_message_at=item.ticket_message_at,
        message_id=item.message_id,
        recipients=list(item.recipients),
        attempts=int(item.attempts),
        state=item.state,  # type: ignore[arg-type]
        ses_message_id=item.ses_message_id,
    )
