"""What every tickets use case is given: storage, the clock, the deployment's choices and the
directory agents sign in with."""

from __future__ import annotations

from dataclasses import dataclass

from services.tickets.logic.agent_directory import AgentDirectory
from services.tickets.logic.repository import TicketRepository
from shared.clock import Clock


@dataclass(frozen=True)
class DeskConfig:
    number_prefix: str = "TKT"
    number_width: int = 4
    triage_department: str | None = None


@dataclass(frozen=True)
class Dependencies:
    repository: TicketRepository
    clock: Clock
    config: DeskConfig
    agents: AgentDirectory
