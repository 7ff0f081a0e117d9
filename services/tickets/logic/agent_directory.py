"""What the agents use cases need from the place agents sign in (`data.cognito` implements it on
the user pool): the agents, their invitation, whether they may sign in, and who is an admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from shared.storage import Page

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


class AgentDirectory(Protocol):
    def page(self, limit: int, cursor: str | None) -> Page[Agent]:
        """Agents in the directory's order, `limit` at most, from where `cursor` left off."""
        ...

    def agent(self, email: str) -> Agent | None: ...

    def admins(self) -> list[Agent]:
        """Every agent in the admin group, whatever their status."""
        ...

    def invite(self, email: str, name: str | None) -> Agent:
        """Create the agent and send them the invitation; `AgentExists` if they are there."""
        ...

    def set_enabled(self, email: str, enabled: bool) -> None:
        """`UnknownAgent` if no agent has this email."""
        ...

    def set_admin(self, email: str, admin: bool) -> None:
        """`UnknownAgent` if no agent has this email."""
        ...
