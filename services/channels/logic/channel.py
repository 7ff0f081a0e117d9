"""Channels: the inbound addresses of departments, and the address a recipient reaches.

Addresses compare case-insensitively, and plus-addressing (`support+vip@example.com`) reaches the
channel of `support@example.com`, so a team can hand out tagged addresses without configuring them.
"""

from __future__ import annotations

from datetime import datetime

from shared.model import Model


class Channel(Model):
    id: str
    address: str
    department_id: str
    acknowledge: bool = False
    acknowledge_template: str | None = None
    signature: str | None = None
    quarantine_spam: bool = True  # mail SES calls spam waits for an admin instead of a ticket
    created_at: datetime


def canonical_address(address: str) -> str:
    """`Support+VIP@Example.com` → `support@example.com`: what a channel is keyed by."""
    local, at, domain = address.strip().strip("<>").lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}"
