"""The agents as the place they sign in knows them: their invitation, whether they may sign in,
and who is an admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AgentStatus = Literal["active", "invited", "disabled"]


@dataclass(frozen=True)
class Agent:
    email: str
    name: str | None
    enabled: bool  # may sign in
    confirmed: bool  # has signed in and chosen a password since the invitation
    admin: bool

    @property
    def status(self) -> AgentStatus:
        if not self.enabled:
            return "disabled"
        return "active" if self.confirmed else "invited"


class AgentExists(Exception):
    """An agent with this email is in the directory already."""


class UnknownAgent(Exception):
    """No agent has this email."""
