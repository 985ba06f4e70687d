"""botbuilder's `Storage` on the bot's own database, so no conversation lives only in memory.

Semantics follow Microsoft's providers (see `botbuilder.testing.StorageBaseTests`): items are
serialised like BlobStorage does (jsonpickle), an `e_tag` of `"*"` or none overwrites, any other
e-tag is a conditional update that raises `StateConflict` when someone wrote in between, and an
empty e-tag is an error. A batch is written in one transaction: all of it or none.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from botbuilder.core import Storage
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.db import SessionFactory
from storage.models import BotState
from storage.sql import insert_for
from storage.types import utcnow

_E_TAG = "e_tag"


class StateConflict(Exception):
    """The item changed since it was read (optimistic concurrency)."""


class MissingETag(ValueError):
    """An empty e-tag: the caller lost the one it read."""


def _e_tag_of(item: object) -> str | None:
    e_tag = item.get(_E_TAG) if isinstance(item, dict) else getattr(item, _E_TAG, None)
    if e_tag == "":
        raise MissingETag("storage write: e_tag is empty")
    return None if e_tag in (None, "*") else str(e_tag)


def _to_document(item: object) -> str:
    flat = Pickler().flatten(item)
    if isinstance(flat, dict):
        flat.pop(_E_TAG, None)
    return json.dumps(flat, ensure_ascii=False, separators=(",", ":"))


def _from_document(document: str, e_tag: str) -> object:
    flat = json.loads(document)
    if isinstance(flat, dict):
        flat[_E_TAG] = e_tag
    return Unpickler().restore(flat)


class SqlStorage(Storage):  # type: ignore[misc]  # the SDK is untyped
    def __init__(self, sessions: SessionFactory) -> None:
        super().__init__()
        self._sessions = sessions

    async def read(self, keys: Iterable[str] | None) -> dict[str, object]:
        if not keys:
            raise ValueError("Keys are required when reading")
        wanted = list(keys)
        async with self._sessions() as session:
            rows = await session.execute(
                select(col(BotState.key), col(BotState.document), col(BotState.e_tag)).where(
                    col(BotState.key).in_(wanted)
                )
            )
            return {key: _from_document(document, e_tag) for key, document, e_tag in rows}

    async def write(self, changes: Mapping[str, object] | None) -> None:
        if changes is None:
            raise ValueError("Changes are required when writing")
        if not changes:
            return
        async with self._sessions() as session, session.begin():
            for key, item in changes.items():
                expected = _e_tag_of(item)
                document = _to_document(item)
                new_e_tag = uuid.uuid4().hex
                if expected is None:
                    await self._overwrite(session, key, document, new_e_tag)
                else:
                    await self._replace_if_unchanged(session, key, document, expected, new_e_tag)

    async def delete(self, keys: Iterable[str] | None) -> None:
        if keys is None:
            raise ValueError("Keys are required when deleting")
        doomed = list(keys)
        if not doomed:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(delete(BotState).where(col(BotState.key).in_(doomed)))

    @staticmethod
    async def _overwrite(session: Any, key: str, document: str, e_tag: str) -> None:
        now = utcnow()
        statement = insert_for(session, BotState).values(
            key=key, document=document, e_tag=e_tag, updated_at=now
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["key"],
                set_={"document": document, "e_tag": e_tag, "updated_at": now},
            )
        )

    @staticmethod
    async def _replace_if_unchanged(
        session: Any, key: str, document: str, expected: str, e_tag: str
    ) -> None:
        now = utcnow()
        result = await session.execute(
            update(BotState)
            .where(col(BotState.key) == key, col(BotState.e_tag) == expected)
            .values(document=document, e_tag=e_tag, updated_at=now)
        )
        if result.rowcount == 1:
            return
        # Nothing matched: either someone else wrote (conflict), or the item is gone, in which
        # case it is written afresh, as Microsoft's MemoryStorage does.
        try:
            async with session.begin_nested():
                session.add(BotState(key=key, document=document, e_tag=e_tag, updated_at=now))
                await session.flush()
        except IntegrityError as error:
            raise StateConflict(f"state {key!r} changed since it was read") from error
