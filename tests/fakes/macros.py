"""The macro store in memory, keeping the promises of `services.tickets.data.macros_dynamodb`
(`tests/contracts/test_macro_store.py` holds both to them): names unique per scope and owner
whatever their case, writes conditional on the revision read, copies handed out."""

from __future__ import annotations

from services.tickets.logic.macros import Macro, NameTaken, StaleMacro


class FakeMacroStore:
    def __init__(self) -> None:
        self._macros: dict[str, Macro] = {}

    def get(self, macro_id: str) -> Macro | None:
        stored = self._macros.get(macro_id)
        return None if stored is None else stored.model_copy(deep=True)

    def of_owner(self, owner: str | None) -> list[Macro]:
        mine = [m for m in self._macros.values() if m.owner == owner]
        return [m.model_copy(deep=True) for m in sorted(mine, key=lambda m: m.name.casefold())]

    def create(self, macro: Macro) -> None:
        self._claim(macro)
        self._macros[macro.id] = macro.model_copy(deep=True, update={"revision": 1})

    def update(self, macro: Macro, previous: Macro) -> None:
        self._unchanged(previous)
        self._claim(macro)
        stored = macro.model_copy(deep=True, update={"revision": previous.revision + 1})
        self._macros[macro.id] = stored

    def delete(self, macro: Macro) -> None:
        self._unchanged(macro)
        del self._macros[macro.id]

    def _unchanged(self, read: Macro) -> None:
        stored = self._macros.get(read.id)
        if stored is None or stored.revision != read.revision:
            raise StaleMacro(read.id)

    def _claim(self, macro: Macro) -> None:
        for other in self._macros.values():
            same_list = (other.scope, other.owner) == (macro.scope, macro.owner)
            if (
                same_list
                and other.id != macro.id
                and other.name.casefold() == macro.name.casefold()
            ):
                raise NameTaken(macro.name)
