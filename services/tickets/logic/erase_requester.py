"""A contact's personal data was erased: their tickets stay for the record, without them.

The requester of each of the contact's tickets becomes an anonymous address (on a reserved
domain, so nothing can ever be mailed there), and the history says so without repeating the
address it replaced. On those tickets the address also leaves the authors of the client's
messages (their names too) and the delivery reports of the replies they were sent.
"""

from __future__ import annotations

from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.system_updates import update_by_system
from services.tickets.logic.ticket import ERASED_EMAIL, Change, Ticket
from shared.events.catalogue import Person

ERASED_REQUESTER = Person(email=ERASED_EMAIL, name=None)


def _anonymise(ticket: Ticket) -> list[Change]:
    if ticket.requester == ERASED_REQUESTER:
        return []  # done before: the event came again
    ticket.requester = ERASED_REQUESTER
    return [Change(field="requester", old=None, new=ERASED_REQUESTER.model_dump())]


def anonymise_requester(contact_id: str, deps: Dependencies) -> int:
    """Anonymise the requester of every ticket of the contact; how many tickets changed."""
    changed = 0
    for ticket in deps.repository.tickets_of_contact(contact_id):
        if ticket.requester == ERASED_REQUESTER:
            continue
        # The messages before the ticket: until the ticket is anonymised, a redelivered event
        # still knows which address to look for.
        deps.repository.replace_address(ticket.id, ticket.requester.email, ERASED_REQUESTER.email)
        # Announced: the channels service keeps the requester's address to answer by mail.
        if update_by_system(ticket.id, _anonymise, deps, announce="erasure"):
            changed += 1
    return changed
