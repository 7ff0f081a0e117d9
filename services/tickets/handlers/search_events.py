"""Keeping ticket search up to date from the service's own events (`handlers.events` registers
these on its consumer): the index is a projection, so replaying the events rebuilds it."""

from __future__ import annotations

from services.tickets.handlers.wiring import dependencies, search_index
from services.tickets.logic.search import (
    forget_contact,
    index_message,
    reindex_ticket,
    reindex_tickets,
)
from shared.events.catalogue import (
    ContactErased,
    MessagePosted,
    TicketCreated,
    TicketMerged,
    TicketUpdated,
)
from shared.events.envelope import Envelope

# Changes that alter a ticket's words; the others (status, assignee...) do not touch the index,
# and who may see a ticket is read from the ticket itself at query time.
INDEXED_FIELDS = frozenset({"subject", "tags", "requester"})


def on_ticket_created(data: TicketCreated, envelope: Envelope) -> None:
    reindex_ticket(data.ticket_id, dependencies(), search_index())


def on_message_posted(data: MessagePosted, envelope: Envelope) -> None:
    index_message(data.ticket_id, data.message_id, data.body, dependencies(), search_index())


def on_ticket_updated(data: TicketUpdated, envelope: Envelope) -> None:
    if any(change.field in INDEXED_FIELDS for change in data.changes):
        reindex_ticket(data.ticket_id, dependencies(), search_index())


def after_merge(data: TicketMerged) -> None:
    """Once the conversation is copied: the target holds the merged ticket's words too."""
    reindex_tickets([data.target_ticket_id, data.source_ticket_id], dependencies(), search_index())


def after_erasure(data: ContactErased) -> None:
    forget_contact(data.contact_id, dependencies(), search_index())
