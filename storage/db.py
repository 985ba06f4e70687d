"""Engine setup for SQLite (default, embedded) and PostgreSQL (production).

`DATABASE_URL` is written the ordinary way (`sqlite:///avvik.db`, `postgresql://…`); the async
and sync drivers are chosen here so that nobody has to know which one the bot uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

SessionFactory = async_sessionmaker[AsyncSession]

_SQLITE_BUSY_TIMEOUT_MS = 15_000
# A server that accepts connections and never answers (a host gone behind a firewall) must not
# hold a turn past the 15 s after which Teams sends the activity again. A URL may set its own.
_POSTGRES_CONNECT_TIMEOUT_S = 5


class UnsupportedDatabase(ValueError):
    """The URL names a database the bot does not support."""


def _url_for(database_url: str, *, use_async: bool) -> URL:
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite" if use_async else "sqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    raise UnsupportedDatabase(f"unsupported database {backend!r}: use sqlite or postgresql")


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def _is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer writes; the busy timeout makes concurrent
    # writers queue instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _engine_options(url: URL) -> dict[str, Any]:
    if _is_memory_sqlite(url):
        # One shared connection, or every session would see its own empty database.
        return {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000}}
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
    if "connect_timeout" not in url.query:
        options["connect_args"] = {"connect_timeout": _POSTGRES_CONNECT_TIMEOUT_S}
    return options


def create_async_db_engine(database_url: str) -> AsyncEngine:
    url = _url_for(database_url, use_async=True)
    engine = create_async_engine(url, **_engine_options(url))
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    return engine


def create_sync_db_engine(database_url: str) -> Engine:
    """A synchronous engine, for migrations and command-line tools."""
    url = _url_for(database_url, use_async=False)
    engine = create_engine(url, **_engine_options(url))
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def one_transaction(
    sessions: SessionFactory, *, dry_run: bool = False
) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed when the block ends, or rolled back: on any error,
    and for a dry run (which then shows what would change and keeps nothing)."""
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if dry_run:
            await session.rollback()
        else:
            await session.commit()


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on the database for one command-line task; its engine is closed after."""
    engine = create_async_db_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
