"""Microsoft's own conformance suite for botbuilder `Storage`, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from botbuilder.testing import StorageBaseTests

from storage.bot_state import SqlStorage, StateConflict
from storage.db import SessionFactory

CASES = [
    "return_empty_object_when_reading_unknown_key",
    "handle_null_keys_when_reading",
    "handle_null_keys_when_writing",
    "does_not_raise_when_writing_no_items",
    "create_object",
    "handle_crazy_keys",
    "update_object",
    "delete_object",
    "delete_unknown_object",
    "perform_batch_operations",
    "proceeds_through_waterfall",
]


@pytest.mark.parametrize("case", CASES)
async def test_storage_base(case: str, sessions: SessionFactory) -> None:
    assert await getattr(StorageBaseTests, case)(SqlStorage(sessions)) is True


async def test_stale_e_tag_is_refused_and_nothing_in_the_batch_is_written(
    sessions: SessionFactory,
) -> None:
    storage = SqlStorage(sessions)
    await storage.write({"a": {"n": 1, "e_tag": "*"}, "b": {"n": 1, "e_tag": "*"}})
    first = await storage.read(["a", "b"])
    second = await storage.read(["a", "b"])

    first["a"]["n"] = 2  # type: ignore[index]
    await storage.write({"a": first["a"]})

    second["a"]["n"] = 3  # type: ignore[index]
    second["b"]["n"] = 3  # type: ignore[index]
    with pytest.raises(StateConflict):
        await storage.write({"b": second["b"], "a": second["a"]})

    after = await storage.read(["a", "b"])
    assert after["a"]["n"] == 2  # type: ignore[index]
    assert after["b"]["n"] == 1  # type: ignore[index]


async def test_e_tag_changes_on_every_write(sessions: SessionFactory) -> None:
    storage = SqlStorage(sessions)
    await storage.write({"k": {"n": 1}})
    before = (await storage.read(["k"]))["k"]["e_tag"]  # type: ignore[index]
    await storage.write({"k": {"n": 2}})
    after = (await storage.read(["k"]))["k"]["e_tag"]  # type: ignore[index]
    assert before
    assert after
    assert before != after
