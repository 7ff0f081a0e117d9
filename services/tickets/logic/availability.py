"""Availability for tickets by turns: each agent says for themself whether new tickets may come
to them now. Only they can know whether they are at their desk, so nobody else sets it; an admin
who wants someone out of the turns takes them out of the department, or turns assignment back
to manual."""

from __future__ import annotations

from services.tickets.logic.agent_directory import Agent
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.repository import AgentLoad
from shared.identity import Caller


def set_own_availability(available: bool, caller: Caller, deps: Dependencies) -> AgentLoad:
    return deps.repository.set_available(caller.email.lower(), available)


def loads_of(agents: list[Agent], deps: Dependencies) -> dict[str, AgentLoad]:
    """Each listed agent's availability and open tickets, in one read."""
    return deps.repository.loads([agent.email for agent in agents]) if agents else {}
