"""The macro store on DynamoDB, in the tickets table: each macro under its id (found by id in one
read) and a copy in its owner's list under its case-folded name (one Query lists them by name; the
key keeps names unique). Both are written in one transaction, conditional on what was read."""

from __future__ import annotations

import json

from pynamodb.exceptions import TransactWriteError

from services.tickets.data.tables import SERVICE, MacroItem, TicketsTable
from services.tickets.logic.macros import Macro, MacroChanges, NameTaken, StaleMacro
from shared.keys import NO_KEY
from shared.storage import bind_table, failed_conditions, transaction

MACRO_SK = "MACRO"


def macro_key(macro_id: str) -> str:
    return f"MACRO#{macro_id}"


def macro_list_key(owner: str | None) -> str:
    """Where the macros of one scope and owner are listed: an agent's, or the shared ones."""
    return f"MACROS#{owner or NO_KEY}"


def name_key(name: str) -> str:
    return f"NAME#{name.casefold()}"


class DynamoMacroStore:
    def __init__(self) -> None:
        bind_table(TicketsTable, SERVICE)

    def get(self, macro_id: str) -> Macro | None:
        try:
            return _macro(MacroItem.get(macro_key(macro_id), MACRO_SK))
        except MacroItem.DoesNotExist:
            return None

    def of_owner(self, owner: str | None) -> list[Macro]:
        query = MacroItem.query(macro_list_key(owner), MacroItem.sk.startswith("NAME#"))
        return [_macro(item) for item in query]

    def create(self, macro: Macro) -> None:
        stored = macro.model_copy(update={"revision": 1})
        write = transaction(TicketsTable)
        try:
            with write:
                write.save(_item(stored), condition=MacroItem.pk.does_not_exist())
                write.save(_listed(stored), condition=MacroItem.pk.does_not_exist())
        except TransactWriteError as error:
            if _listed_key(stored) in failed_conditions(write, error):
                raise NameTaken(macro.name) from None
            raise

    def update(self, macro: Macro, previous: Macro) -> None:
        stored = macro.model_copy(update={"revision": previous.revision + 1})
        renamed = name_key(macro.name) != name_key(previous.name)
        write = transaction(TicketsTable)
        try:
            with write:
                write.save(_item(stored), condition=MacroItem.revision == previous.revision)
                if renamed:
                    write.delete(_listed(previous))
                # The new name must be free; the old one is this macro's own.
                write.save(
                    _listed(stored), condition=MacroItem.pk.does_not_exist() if renamed else None
                )
        except TransactWriteError as error:
            failed = failed_conditions(write, error)
            if (macro_key(macro.id), MACRO_SK) in failed:
                raise StaleMacro(macro.id) from None
            if _listed_key(stored) in failed:
                raise NameTaken(macro.name) from None
            raise

    def delete(self, macro: Macro) -> None:
        write = transaction(TicketsTable)
        try:
            with write:
                write.delete(_item(macro), condition=MacroItem.revision == macro.revision)
                write.delete(_listed(macro))
        except TransactWriteError as error:
            if (macro_key(macro.id), MACRO_SK) in failed_conditions(write, error):
                raise StaleMacro(macro.id) from None
            raise


def _item(macro: Macro) -> MacroItem:
    return _stored(macro, macro_key(macro.id), MACRO_SK)


def _listed(macro: Macro) -> MacroItem:
    return _stored(macro, *_listed_key(macro))


def _listed_key(macro: Macro) -> tuple[str, str]:
    return macro_list_key(macro.owner), name_key(macro.name)


def _stored(macro: Macro, pk: str, sk: str) -> MacroItem:
    return MacroItem(
        pk,
        sk,
        id=macro.id,
        scope=macro.scope,
        owner=macro.owner,
        name=macro.name,
        body=macro.body,
        visibility=macro.visibility,
        changes=json.dumps(macro.changes.model_dump(mode="json", exclude_unset=True)),
        created_by=macro.created_by,
        created_at=macro.created_at,
        updated_at=macro.updated_at,
        revision=macro.revision,
    )


def _macro(item: MacroItem) -> Macro:
    return Macro(
        id=item.id,
        scope=item.scope,
        owner=item.owner,
        name=item.name,
        body=item.body,
        visibility=item.visibility,
        changes=MacroChanges.model_validate(json.loads(item.changes)),
        created_by=item.created_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
        revision=int(item.revision),
    )
