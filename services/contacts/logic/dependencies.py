"""What every contacts use case is given: storage and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from services.contacts.logic.repository import ContactRepository
from shared.clock import Clock


@dataclass(frozen=True)
class Dependencies:
    repository: ContactRepository
    clock: Clock
