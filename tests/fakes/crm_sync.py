"""The crm_sync service's storage and work queue in memory, keeping the promises of the DynamoDB
repository and the SQS queue (`tests/contracts/test_crm_sync_repositories.py` holds them to
those): links written only at the version they were read at, all of a batch or none, with their
events (in `outbox`); one lease holder until the lease runs out; a webhook event seen once; the
helpdesk's contacts kept only forward in their versions. And the connector: the real HubSpot one,
answered in-process by the fake HubSpot of `tests.fakes.hubspot`, without a socket."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from services.crm_sync.data.hubspot import SEARCH_RESULT_CAP, HubSpotConnector
from services.crm_sync.logic.repository import (
    Ambiguity,
    Checkpoint,
    KnownContact,
    Link,
    LinkWrite,
    Run,
    StaleLink,
    TicketOfRecord,
)
from shared.clock import Clock
from shared.events.envelope import OutgoingEvent
from tests.fakes.hubspot import CLIENT_SECRET, TOKEN, FakeHubSpot

PORTAL = "62515"


class FakeCrmSyncRepository:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock  # a lease runs out by it, as DynamoDB's condition reads the time
        self._links: dict[tuple[str, str], Link] = {}
        self._checkpoints: dict[str, Checkpoint] = {}
        self._runs: dict[str, Run] = {}
        self._leases: dict[str, tuple[str, datetime]] = {}  # provider -> holder, until
        self._ambiguities: dict[tuple[str, str], Ambiguity] = {}
        self._seen: set[tuple[str, str]] = set()
        self._contacts: dict[str, KnownContact] = {}
        self._tickets: dict[str, TicketOfRecord] = {}
        self._notes: dict[tuple[str, str], str] = {}  # (ticket id, what) -> note id
        self.outbox: list[OutgoingEvent] = []

    # --- links ------------------------------------------------------------------------------------

    def links(self, provider: str, crm_ids: Sequence[str]) -> dict[str, Link]:
        return {i: self._links[provider, i] for i in crm_ids if (provider, i) in self._links}

    def save_links(self, provider: str, writes: Sequence[LinkWrite]) -> None:
        for write in writes:
            stored = self._links.get((provider, write.link.crm_id))
            expected = None if write.previous is None else write.previous.version
            if (None if stored is None else stored.version) != expected:
                raise StaleLink(", ".join(w.link.crm_id for w in writes))
        for write in writes:
            self._links[provider, write.link.crm_id] = write.link
            self.outbox.extend(write.events)
            if write.previous is None:  # linked at last: no longer ambiguous
                self._ambiguities.pop((provider, write.link.crm_id), None)

    # --- checkpoint and runs ----------------------------------------------------------------------

    def checkpoint(self, provider: str) -> Checkpoint:
        return self._checkpoints.get(provider, Checkpoint())

    def save_checkpoint(self, provider: str, checkpoint: Checkpoint) -> None:
        self._checkpoints[provider] = checkpoint

    def save_run(self, provider: str, run: Run) -> None:
        self._runs[provider] = copy.deepcopy(run)  # a run is changed after it is saved

    def last_run(self, provider: str) -> Run | None:
        return copy.deepcopy(self._runs.get(provider))

    def take_lease(self, provider: str, holder: str, until: datetime) -> bool:
        held = self._leases.get(provider)
        if held is not None and held[1] >= self._clock.now():
            return False
        self._leases[provider] = (holder, until)
        return True

    def release_lease(self, provider: str, holder: str) -> None:
        held = self._leases.get(provider)
        if held is not None and held[0] == holder:
            del self._leases[provider]

    # --- ambiguity --------------------------------------------------------------------------------

    def report_ambiguity(self, provider: str, ambiguity: Ambiguity) -> None:
        self._ambiguities[provider, ambiguity.crm_id] = ambiguity

    def ambiguities(self, provider: str, limit: int) -> list[Ambiguity]:
        # By CRM id: the order of the sort key they are stored under.
        reported = [a for (p, _), a in self._ambiguities.items() if p == provider]
        return sorted(reported, key=lambda ambiguity: ambiguity.crm_id)[:limit]

    # --- webhook deliveries -----------------------------------------------------------------------

    def unseen(self, provider: str, event_ids: Sequence[str]) -> list[str]:
        return [i for i in dict.fromkeys(event_ids) if (provider, i) not in self._seen]

    def mark_seen(self, provider: str, event_ids: Sequence[str], until: datetime) -> None:
        # Kept past `until`: DynamoDB's TTL deletes in its own time, and nothing reads the expiry.
        self._seen.update((provider, i) for i in event_ids)

    # --- the helpdesk's contacts ------------------------------------------------------------------

    def email_owners(self, emails: Sequence[str]) -> dict[str, set[str]]:
        owners: dict[str, set[str]] = {}
        for contact in self._contacts.values():
            for address in contact.emails:
                if address in emails:
                    owners.setdefault(address, set()).add(contact.contact_id)
        return owners

    def contact_by_email(self, email: str) -> KnownContact | None:
        owners = self.email_owners([email]).get(email) or set()
        return self._contacts[next(iter(owners))] if len(owners) == 1 else None

    def remember_contact(self, contact: KnownContact) -> bool:
        previous = self._contacts.get(contact.contact_id)
        if previous is not None and previous.version >= contact.version:
            return False
        self._contacts[contact.contact_id] = contact
        return True

    def forget_contact(self, contact_id: str, version: int) -> None:
        previous = self._contacts.get(contact_id)
        if previous is None or previous.version < version:
            self._contacts[contact_id] = KnownContact(contact_id, (), version)

    # --- tickets and notes pushed back ------------------------------------------------------------

    def remember_ticket(self, ticket: TicketOfRecord) -> None:
        self._tickets[ticket.ticket_id] = ticket

    def ticket(self, ticket_id: str) -> TicketOfRecord | None:
        return self._tickets.get(ticket_id)

    def note_added(self, ticket_id: str, what: str) -> bool:
        return (ticket_id, what) in self._notes

    def record_note(self, ticket_id: str, what: str, note_id: str) -> None:
        self._notes[ticket_id, what] = note_id


@dataclass
class FakeWorkQueue:
    """The messages sent, oldest first, each with its delay in seconds."""

    sent: list[tuple[str, int]] = field(default_factory=list)

    def send(self, bodies: Sequence[str], delay_seconds: int = 0) -> None:
        self.sent += [(body, delay_seconds) for body in bodies]

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.sent]


# --- the connector --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    data: bytes


class InProcessHubSpot:
    """What the connector asks of its urllib3 pool, answered by the fake HubSpot's own routing
    in this thread: the request and answer bodies go through JSON as on the wire."""

    def __init__(self, fake: FakeHubSpot) -> None:
        self._fake = fake

    def request(
        self,
        method: str,
        url: str,
        *,
        fields: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,  # urllib3's name for the body to send as JSON
        headers: Mapping[str, str],
    ) -> _Answer:
        target = urlsplit(url).path + (f"?{urlencode(fields)}" if fields else "")
        body = None if json is None else _json_round_trip(json)
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        answer = self._fake.answer(method, target, body, token)
        return _Answer(answer.status, answer.headers, _dumps(answer.body))


def _json_round_trip(value: Any) -> Any:
    return json.loads(_dumps(value))


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def hubspot_connector(
    fake: FakeHubSpot, window_limit: int = SEARCH_RESULT_CAP, base_url: str = "http://hubspot"
) -> HubSpotConnector:
    """The HubSpot connector on the fake, in-process (its base URL is never dialled)."""
    return HubSpotConnector(
        base_url,
        TOKEN,
        CLIENT_SECRET,
        PORTAL,
        window_limit,
        pool=InProcessHubSpot(fake),  # type: ignore[arg-type]
    )
