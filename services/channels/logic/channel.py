"""Channels: the inbound addresses of departments, and how a recipient finds its channel.

Addresses compare case-insensitively, and plus-addressing (`support+vip@example.com`) reaches the
channel of `support@example.com`, so a team can hand out tagged addresses without configuring them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel


class Channel(BaseModel):
    id: str
    address: str
    department_id: str
    acknowledge: bool = False
    acknowledge_template: str | None = None
    signature: str | None = None
    quarantine_spam: bool = True  # mail SES calls spam waits for an admin instead of a ticket
    created_at: datetime


class ChannelRepository(Protocol):
    def add(self, channel: Channel) -> bool:
        """Store a new channel; False if its address belongs to another channel."""
        ...

    def replace(self, old: Channel, new: Channel) -> bool:
        """Store a changed channel (re-keying its address); False if the new address is taken."""
        ...

    def remove(self, channel: Channel) -> None: ...

    def get(self, channel_id: str) -> Channel | None: ...

    def all(self) -> list[Channel]: ...

    def of_department(self, department_id: str) -> Channel | None:
        """The department's first channel (its address answers its tickets)."""
        ...

    def by_addresses(self, addresses: list[str]) -> list[Channel]:
        """The channels of these (canonical) addresses, in one read."""
        ...


def canonical_address(address: str) -> str:
    """`Support+VIP@Example.com` → `support@example.com`: what a channel is keyed by."""
    local, at, domain = address.strip().strip("<>").lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}"


def channels_for(recipients: list[str], repository: ChannelRepository) -> list[Channel]:
    """Every channel the mail was addressed to, once each, in the order of the recipients."""
    wanted = list(dict.fromkeys(canonical_address(r) for r in recipients if "@" in r))
    if not wanted:
        return []
    found = {channel.address: channel for channel in repository.by_addresses(wanted)}
    return [found[address] for address in wanted if address in found]
