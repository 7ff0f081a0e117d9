"""What channels knows of a ticket to thread mail into it and to answer by mail."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Thread:
    ticket_id: str
    number: str
    subject: str
    requester: str
    cc: list[str] = field(default_factory=list)
    department_id: str | None = None
    channel_id: str | None = None
    message_ids: list[str] = field(default_factory=list)  # oldest first, for References

    @property
    def participants(self) -> set[str]:
        """Who may write into the ticket: the requester and the CCs, the only addresses our mail
        on it goes to (replies to both, the acknowledgement to the requester)."""
        return {address.lower() for address in (self.requester, *self.cc)}
