"""What every contacts use case is given: storage, the clock and the deployment's triage
department (who may see tickets without one)."""

from __future__ import annotations

from dataclasses import dataclass

from services.contacts.logic.repository import ContactRepository
from shared.clock import Clock


@dataclass(frozen=True)
class Dependencies:
    repository: ContactRepository
    clock: Clock
    triage_department: str | None = None
