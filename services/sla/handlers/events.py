"""The SLA service's event consumers: ticket events keep the timers."""

from __future__ import annotations

from datetime import datetime

from services.sla.data.dynamodb import DynamoTimerRepository
from services.sla.logic.timer import start_timer
from shared.events.catalogue import TicketCreated
from shared.events.consumer import EventConsumer
from shared.events.envelope import Envelope
from shared.settings import get_settings

consumer = EventConsumer(lambda: get_settings().idempotency_table("sla"))


@consumer.on(TicketCreated)
def on_ticket_created(data: TicketCreated, envelope: Envelope) -> None:
    started_at = datetime.fromisoformat(data.created_at)
    start_timer(data.ticket_id, data.priority, started_at, DynamoTimerRepository())
