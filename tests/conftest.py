"""Shared fixtures: databases on both backends, and a network that reaches only this machine."""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import (
    SessionFactory,
    create_async_db_engine,
    create_sync_db_engine,
    session_factory,
)
from storage.migrate import upgrade
from tests.categories import reset_categories
from tests.fake_connector import FakeConnector
from tests.pg_schema import private_schema

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_TABLES = (
    "tip_vote, tip_delivery, tip, outbox, outbox_sender, report_count, nudge, sick_leave, "
    "measure, report_card, report_event, "
    "report, case_counter, unit_leader, person_role, person, unit, department, bot_state, "
    "conversation_ref"
)


# ---- the network --------------------------------------------------------------------------


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # a unix socket path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """`bot.cli.main.main` sets up logging for the process; in a test that would leave the root
    logger writing to a captured stream that pytest closes after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.fixture(autouse=True)
def _only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach another machine (the bot must not call out in tests)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(address: Any) -> None:
        if not _is_local(address):
            raise OSError(f"tests may only use loopback, not {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        guard(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


# ---- a Bot Connector on this machine -------------------------------------------------------


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """Where the bot's replies go: a local fake of the Bot Connector that records them."""
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


# ---- SQLite -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "avvik.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "avvik.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


# ---- PostgreSQL ---------------------------------------------------------------------------


def _postgres_answers() -> str | None:
    """None when the server answers, else why not."""
    try:
        engine = create_sync_db_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as error:
        return f"no PostgreSQL at {make_url(POSTGRES_URL).render_as_string()}: {error}"
    return None


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[str]:
    """A private schema for this test run, so parallel runs and benches never collide."""
    reason = _postgres_answers()
    if reason:
        pytest.skip(reason)
    with private_schema(POSTGRES_URL) as url:
        upgrade(url)
        yield url


@pytest.fixture
def postgres_url(_postgres_schema: str) -> str:
    engine = create_sync_db_engine(_postgres_schema)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
        reset_categories(connection)
    engine.dispose()
    return _postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite (the default) and PostgreSQL (production)."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_async_db_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
