"""Hard bounces: an address whose mail came back for good is flagged on its contact, so agents
see it before writing again. Soft bounces and mail SES would not send say nothing about the
address, and flag nothing."""

from __future__ import annotations

from datetime import datetime

from services.contacts.logic.contact import Bounce, Contact
from services.contacts.logic.dependencies import Dependencies
from services.contacts.logic.recording import change_contact
from services.contacts.logic.requesters import SYSTEM
from shared.events.catalogue import EmailBounced


def flag_bounced(bounced: EmailBounced, deps: Dependencies) -> list[str]:
    """Flag each hard-bounced address on its contact; returns the contact ids flagged."""
    if bounced.kind != "bounce" or not bounced.permanent:
        return []
    at = datetime.fromisoformat(bounced.at)
    flagged = []
    for recipient in bounced.recipients:
        address = recipient.email.lower()
        owner = deps.repository.by_email(address)
        if owner is None:
            continue

        def change(
            current: Contact, address: str = address, detail: str | None = recipient.detail
        ) -> Contact | None:
            known = current.bounced.get(address)
            if address not in current.emails or (known is not None and known.at >= at):
                return None  # no longer theirs, or an older or repeated report
            bounce = Bounce(at=at, detail=detail)
            return current.model_copy(update={"bounced": {**current.bounced, address: bounce}})

        change_contact(owner.id, change, deps, actor=SYSTEM)
        flagged.append(owner.id)
    return flagged
