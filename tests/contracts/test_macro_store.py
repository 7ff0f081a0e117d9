"""What macros count on from their store, held against the in-memory fake and DynamoDB alike: a
macro reads back as stored, by id and in its owner's list (by name); names are unique per scope and
owner whatever their case, also on a rename, which frees the old name; a write over a macro that
changed since it was read is refused and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.tickets.data.macros_dynamodb import DynamoMacroStore
from services.tickets.logic.macros import Macro, MacroChanges, MacroStore, NameTaken, StaleMacro
from tests.fakes.macros import FakeMacroStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = "alice@example.com"


@pytest.fixture
def store(implementation: str) -> MacroStore:
    return FakeMacroStore() if implementation == "fake" else DynamoMacroStore()


def macro(n: int, name: str, owner: str | None = None, **fields: object) -> Macro:
    return Macro(
        id=f"m{n}",
        scope="personal" if owner else "shared",
        owner=owner,
        name=name,
        created_by=owner or "admin@example.com",
        created_at=T0,
        updated_at=T0,
        **fields,  # type: ignore[arg-type]
    )


def test_a_macro_reads_back_as_stored_with_only_the_changes_it_makes(store: MacroStore) -> None:
    unassigns = MacroChanges(assignee=None, tags_add=["refund"], status="resolved")
    stored = macro(
        1, "Refund", body="Hi {requester.name}", visibility="internal", changes=unassigns
    )
    store.create(stored)
    [listed] = store.of_owner(None)
    assert store.get("m1") == listed == stored
    assert listed.changes.model_fields_set == {"assignee", "tags_add", "status"}
    assert store.get("m2") is None


def test_each_list_holds_its_owners_macros_by_name(store: MacroStore) -> None:
    store.create(macro(1, "zebra"))
    store.create(macro(2, "Apple"))
    store.create(macro(3, "mine", ALICE, body="x"))
    store.create(macro(4, "Bob's", "bob@example.com", body="y"))
    assert [m.id for m in store.of_owner(None)] == ["m2", "m1"]
    assert [m.id for m in store.of_owner(ALICE)] == ["m3"]
    assert store.of_owner("carol@example.com") == []


def test_names_are_unique_per_scope_and_owner_whatever_their_case(store: MacroStore) -> None:
    store.create(macro(1, "Refund"))
    with pytest.raises(NameTaken):
        store.create(macro(2, "REFUND"))
    assert store.get("m2") is None
    store.create(macro(3, "refund", ALICE))  # another list: free
    assert [m.id for m in store.of_owner(None)] == ["m1"]


def test_a_rename_claims_the_new_name_and_frees_the_old(store: MacroStore) -> None:
    first, second = macro(1, "Refund"), macro(2, "Thanks")
    store.create(first)
    store.create(second)
    with pytest.raises(NameTaken):
        store.update(second.model_copy(update={"name": "refund"}), second)
    assert store.get("m2") == second
    renamed = first.model_copy(update={"name": "Refund in full", "body": "Done."})
    store.update(renamed, first)
    stored = store.get("m1")
    assert stored is not None
    assert (stored.name, stored.body, stored.revision) == ("Refund in full", "Done.", 2)
    assert [m.name for m in store.of_owner(None)] == ["Refund in full", "Thanks"]
    store.create(macro(3, "Refund"))  # the old name is free again
    # A change of case only keeps the macro's own name
    store.update(stored.model_copy(update={"name": "REFUND IN FULL"}), stored)
    assert [m.name for m in store.of_owner(None)] == ["Refund", "REFUND IN FULL", "Thanks"]


def test_a_write_over_a_macro_that_changed_since_it_was_read_stores_nothing(
    store: MacroStore,
) -> None:
    read = macro(1, "Refund", body="v1")
    store.create(read)
    store.update(read.model_copy(update={"body": "v2"}), read)
    with pytest.raises(StaleMacro):
        store.update(read.model_copy(update={"body": "v3", "name": "Other"}), read)
    with pytest.raises(StaleMacro):
        store.delete(read)
    [kept] = store.of_owner(None)
    assert (kept.name, kept.body) == ("Refund", "v2")
    store.delete(kept)
    assert (store.get("m1"), store.of_owner(None)) == (None, [])
    store.create(macro(2, "Refund"))  # a deleted macro's name is free
