"""The problems found while reading a mail, named for the people who look at a quarantined one."""

from __future__ import annotations

MAX_DEFECTS = 50


class Defects:
    """Human-readable problems, each once, capped so a hostile mail cannot flood a ticket."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if text not in self.items and len(self.items) < MAX_DEFECTS:
            self.items.append(text)
