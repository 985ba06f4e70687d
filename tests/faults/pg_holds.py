"""Hold points inside the bot's PostgreSQL transactions, for killing it at a known statement.

Test-only triggers, installed in a test's private schema, take a shared advisory lock at a
chosen statement (the case number, the report row, its `created` event, COMMIT, the state
save). Nobody holds the exclusive lock, so they cost nothing; a test that takes it makes the
bot's transaction wait right there, sees it wait in `pg_locks`, and kills the bot. Nothing in
the bot's own code knows about this.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from sqlalchemy import TextClause, text
from sqlalchemy.engine import make_url

from storage.db import create_async_db_engine, create_sync_db_engine
from storage.migrate import upgrade
from tests.pg_schema import private_schema

_FUNCTION = """
CREATE OR REPLACE FUNCTION avvik_test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(TG_ARGV[0]::int, TG_ARGV[1]::int);
    IF TG_WHEN = 'BEFORE' THEN
        RETURN NEW;
    END IF;
    RETURN NULL;
END
$$
"""


@dataclass(frozen=True)
class HoldPoint:
    name: str
    number: int
    trigger: str  # CREATE [CONSTRAINT] TRIGGER {name} … EXECUTE FUNCTION {call}
    stored: bool  # whether the report is stored when the bot dies here

    def __str__(self) -> str:
        return self.name


_ROW = "CREATE TRIGGER {name} {when} FOR EACH ROW EXECUTE FUNCTION {call}"

# In the order a «Send inn» reaches them.
CASE_NUMBER = HoldPoint(
    "case_number", 1, _ROW.replace("{when}", "BEFORE INSERT OR UPDATE ON case_counter"), False
)
REPORT_ROW = HoldPoint("report_row", 2, _ROW.replace("{when}", "BEFORE INSERT ON report"), False)
CREATED_EVENT = HoldPoint(
    "created_event", 3, _ROW.replace("{when}", "BEFORE INSERT ON report_event"), False
)
# A deferred constraint trigger runs inside COMMIT: the server has the COMMIT when it waits.
COMMIT = HoldPoint(
    "commit",
    4,
    "CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON report_event "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {call}",
    True,
)
# After the report's commit and the receipt, before the dialog state says it was sent.
STATE_SAVE = HoldPoint(
    "state_save", 5, _ROW.replace("{when}", "BEFORE INSERT OR UPDATE ON bot_state"), True
)
SUBMIT_POINTS = (CASE_NUMBER, REPORT_ROW, CREATED_EVENT, COMMIT, STATE_SAVE)


def schema_of(database_url: str) -> str:
    options = str(make_url(database_url).query.get("options", ""))
    return options.removeprefix("-csearch_path=") or "public"


def with_application_name(database_url: str, name: str) -> str:
    """The URL with an application_name, to find a process's backends in pg_stat_activity."""
    return (
        make_url(database_url)
        .update_query_dict({"application_name": name})
        .render_as_string(hide_password=False)
    )


def bot_database_url(database_url: str) -> tuple[str, str]:
    """A URL for one bot process, and the application name its backends carry."""
    name = f"avvik-bot-{uuid.uuid4().hex[:12]}"
    return with_application_name(database_url, name), name


@contextmanager
def schema_with_holds(server_url: str) -> Iterator[str]:
    """A private, migrated schema with the hold points: they must reach no other test."""
    with private_schema(server_url, prefix="avvik_holds") as url:
        upgrade(url)
        Holds(url).install()
        yield url


class Holds:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        # Advisory locks are per database, not per schema: a key of this schema's own.
        self.key = zlib.crc32(schema_of(database_url).encode()) & 0x7FFFFFFF

    def install(self) -> None:
        engine = create_sync_db_engine(self.database_url)
        try:
            with engine.begin() as connection:
                connection.execute(text(_FUNCTION))
                for point in SUBMIT_POINTS:
                    connection.execute(
                        text(
                            point.trigger.format(
                                name=f"avvik_test_hold_{point.name}",
                                call=f"avvik_test_hold('{self.key}', '{point.number}')",
                            )
                        )
                    )
        finally:
            engine.dispose()

    @asynccontextmanager
    async def holding(self, point: HoldPoint) -> AsyncIterator[None]:
        """While inside, a bot transaction that reaches the point waits there."""
        engine = create_async_db_engine(self.database_url)
        try:
            async with engine.connect() as connection:
                await connection.execute(
                    text("SELECT pg_advisory_lock(:key, :point)"),
                    {"key": self.key, "point": point.number},
                )
                try:
                    yield
                finally:
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:key, :point)"),
                        {"key": self.key, "point": point.number},
                    )
        finally:
            await engine.dispose()

    async def wait_until_waiting(self, point: HoldPoint, within_seconds: float = 15.0) -> None:
        """Until a bot transaction waits at the point."""
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = :key AND objid = :point AND objsubid = 2"
        )
        await _poll(
            self.database_url,
            query,
            {"key": self.key, "point": point.number},
            lambda count: count > 0,
            within_seconds,
            f"nothing waited at {point}",
        )


async def wait_until_backends_end(
    database_url: str, application_name: str, within_seconds: float = 15.0
) -> None:
    """Until no backend of a (killed) bot process is left: its transactions are over."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
    await _poll(
        database_url,
        query,
        {"name": application_name},
        lambda count: count == 0,
        within_seconds,
        f"backends of {application_name} still there",
    )


async def _poll(
    database_url: str,
    query: TextClause,
    parameters: dict[str, object],
    done: Callable[[int], bool],
    within_seconds: float,
    failure: str,
) -> None:
    engine = create_async_db_engine(database_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    try:
        while True:
            async with engine.connect() as connection:
                count = int((await connection.execute(query, parameters)).scalar_one())
            if done(count):
                return
            if loop.time() > deadline:
                raise TimeoutError(failure)
            await asyncio.sleep(0.02)
    finally:
        await engine.dispose()
