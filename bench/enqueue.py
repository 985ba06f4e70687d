"""How long queueing a tip's rows takes: one INSERT per recipient (as before) against
`storage.outbox.enqueue_many` (a thousand rows to a statement), on SQLite and, when it
answers, PostgreSQL — what the adviser waits for after pressing «Send» to everyone.

    python -m bench.enqueue [--rows 10000]

Last line: `rows= sqlite_one_by_one_s= sqlite_bulk_s= postgres_one_by_one_s= postgres_bulk_s=`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError

from storage import outbox
from storage.db import create_async_db_engine, session_factory
from storage.migrate import upgrade
from tests.pg_schema import private_schema

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _measure(url: str, rows: int) -> tuple[float, float]:
    engine = create_async_db_engine(url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        started = time.perf_counter()
        for person in range(rows):
            await outbox.enqueue(
                session,
                person_id=person,
                kind="tip",
                payload={"delivery_id": 1},
                dedupe_key=f"tip:1:{person}",
                now=now,
            )
        one_by_one = time.perf_counter() - started
    async with sessions() as session, session.begin():
        started = time.perf_counter()
        new = [outbox.NewRow(p, "tip", {"delivery_id": 2}, f"tip:2:{p}") for p in range(rows)]
        await outbox.enqueue_many(session, new, now=now)
        bulk = time.perf_counter() - started
    await engine.dispose()
    return one_by_one, bulk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    rows = parser.parse_args().rows
    figures = [f"rows={rows}"]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/enqueue.db"
        upgrade(url)
        one, bulk = asyncio.run(_measure(url, rows))
        print(f"SQLite: {one:.2f} s one by one, {bulk:.2f} s in bulk")
        figures += [f"sqlite_one_by_one_s={one:.2f}", f"sqlite_bulk_s={bulk:.2f}"]
    try:
        with private_schema(POSTGRES, prefix="avvik_bench") as url:
            upgrade(url)
            one, bulk = asyncio.run(_measure(url, rows))
        print(f"PostgreSQL: {one:.2f} s one by one, {bulk:.2f} s in bulk")
        figures += [f"postgres_one_by_one_s={one:.2f}", f"postgres_bulk_s={bulk:.2f}"]
    except OperationalError:
        print("PostgreSQL does not answer: measured on SQLite only")
    print(" ".join(figures))


if __name__ == "__main__":
    main()
