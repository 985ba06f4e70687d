"""The statistics document over a million reports, against one raw GROUP BY over the same table.

A generated Voss-shaped history (default 1,000,000 reports, half in 2024 and half in 2025) in
SQLite, and in PostgreSQL when a server answers. With a warm cache, through the bot's own async
engine and sessions (`storage.db`), one warm-up round and then `--runs` rounds, each running
every query once in turn (so that a busy neighbour slows them all alike):

- the document: `statistics(session, year=2025)` and its `.as_json()`; also for one
  department (Oppvekst) and for a leader's two units. It reads `report_count`, the counts per
  month, unit, severity and category that database triggers keep with every write to
  `report` (migration 0005), so loading the history fires them as the bot's writes do;
- the baseline: the cheapest honest single query for one of the document's tables, the
  reports per month of both years (the document's month table), by the indexed month column:
  `SELECT reported_month, count(*) FROM report WHERE reported_month BETWEEN 202401 AND 202512
  GROUP BY reported_month`. It reads the covering index `ix_report_stats` in order and needs
  no sort. Other single queries are printed for information, with their plans.

Then where the document's time goes (each statement timed at the driver), and the query plans.

    python -m bench.stats [--reports 1000000] [--seed 7] [--db PATH] [--runs 7] [--no-postgres]

The SQLite file is cached (by default /tmp/avvik_bench_stats_<seed>_<reports>.db) and reused
while seed, size and schema revision match; PostgreSQL gets a database of its own
(avvik_bench_<pid>, on the server of BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test), dropped at the end.

Last line: `sqlite_document_ms=… sqlite_group_by_ms=… ratio=… postgres_document_ms=…
postgres_group_by_ms=… postgres_ratio=…` (medians; ratio = document ÷ baseline; goal: document
≤ 1 s on SQLite, ratio ≤ 1.3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics as stats_module
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bench.stats_load import (
    YEAR,
    copy_to_postgres,
    split_years,
    sqlite_history,
    sqlite_timestamp,
)
from domain.access import Scope
from domain.oslo_time import OSLO, month_of
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.models import Report, Unit
from storage.stats import statistics

POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
FIRST, LAST = (YEAR - 1) * 100 + 1, YEAR * 100 + 12
BASELINE = (
    "SELECT reported_month, count(*) FROM report "
    f"WHERE reported_month BETWEEN {FIRST} AND {LAST} GROUP BY reported_month"
)
LEADER_UNITS = ("Vangen omsorgsbustad", "Bryn omsorgsbustad")
Work = Callable[[], Awaitable[int]]
# The first moment of the previous year in Voss, as each database compares timestamps.
SINCE = datetime(YEAR - 1, 1, 1, tzinfo=OSLO).astimezone(UTC)


def other_queries(dialect: str) -> dict[str, str]:
    """For information: other single queries for one of the document's tables."""
    since = sqlite_timestamp(SINCE) if dialect == "sqlite" else SINCE.isoformat()
    return {
        # Another natural single query. SQLite reads ix_report_stats and sorts for it (a temp
        # B-tree): ix_report_severity is in severity order but has no month.
        "severity by month range": (
            "SELECT severity, count(*) FROM report "
            f"WHERE reported_month BETWEEN {FIRST} AND {LAST} GROUP BY severity"
        ),
        "category by reported_at": (
            f"SELECT category, count(*) FROM report WHERE reported_at >= '{since}' "
            "GROUP BY category"
        ),
    }


@dataclass(frozen=True)
class Timing:
    name: str
    seconds: tuple[float, ...]
    rows: int

    @property
    def median_ms(self) -> float:
        return 1000 * stats_module.median(self.seconds)

    @property
    def min_ms(self) -> float:
        return 1000 * min(self.seconds)

    def line(self, rows: str = "rows", extra: str = "") -> str:
        return (
            f"  {self.name:<40} median_ms={self.median_ms:7.1f}  min_ms={self.min_ms:7.1f}  "
            f"{rows}={self.rows}{extra}"
        )


async def round_robin(works: dict[str, Work], runs: int) -> dict[str, Timing]:
    """One warm-up round, then `runs` rounds of every work once, in turn."""
    rows = {name: await work() for name, work in works.items()}
    seconds: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(runs):
        for name, work in works.items():
            started = time.perf_counter()
            rows[name] = await work()
            seconds[name].append(time.perf_counter() - started)
    return {name: Timing(name, tuple(seconds[name]), rows[name]) for name in works}


def timed_sync(name: str, runs: int, work: Callable[[], int]) -> Timing:
    rows = work()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = work()
        seconds.append(time.perf_counter() - started)
    return Timing(name, tuple(seconds), rows)


@dataclass
class StatementClock:
    """Every statement the engine runs, with its parameters and the time at the driver
    (execute and, for the async drivers, fetching the rows into SQLAlchemy's buffer)."""

    records: list[tuple[str, Any, float]] = field(default_factory=list)
    _started: list[float] = field(default_factory=list)

    def attach(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def detach(self, engine: AsyncEngine) -> None:
        event.remove(engine.sync_engine, "before_cursor_execute", self._before)
        event.remove(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.records.append((statement, parameters, time.perf_counter() - self._started.pop()))


@dataclass(frozen=True)
class Measured:
    document: Timing
    baseline: Timing
    lines: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.document.median_ms / self.baseline.median_ms


async def _check_read_back(factory: SessionFactory) -> None:
    """The raw-loaded rows read back through the ORM like any other."""
    async with factory() as session:
        report = (await session.execute(select(Report).limit(1))).scalar_one()
    assert report.reported_at.tzinfo is not None, "timestamps must come back aware"
    assert month_of(report.reported_at) == report.reported_month, report
    # The triggers kept report_count through the bulk load: the counts a document reads are
    # the reports there are (tests/test_report_count.py checks every kind of change).
    async with factory() as session:
        reports = await session.scalar(text("SELECT count(*) FROM report"))
        counted = await session.scalar(text("SELECT sum(n) FROM report_count"))
    assert reports == counted, (reports, counted)


async def _leader_scope(factory: SessionFactory) -> Scope:
    async with factory() as session:
        rows = await session.execute(select(col(Unit.id)).where(col(Unit.name).in_(LEADER_UNITS)))
        return Scope(unit_ids=frozenset(i for i in rows.scalars() if i is not None))


def _one_line(sql: str) -> str:
    return " ".join(sql.split())


async def _plan(engine: AsyncEngine, sql: str, parameters: Any = ()) -> list[str]:
    sqlite = engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    async with engine.connect() as connection:
        rows = (await connection.exec_driver_sql(prefix + sql, parameters)).all()
    return [f"    {tuple(row)[3 if sqlite else 0]}" for row in rows]


def _raw_driver(url: str, runs: int, sql: str, parameters: Any) -> Timing:
    """The statement through the bare synchronous driver: what the database itself costs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        connection = sqlite3.connect(parsed.database)
        try:
            return timed_sync(
                "  its GROUP BY through bare sqlite3",
                runs,
                lambda: len(connection.execute(sql, parameters).fetchall()),
            )
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(False)) as pg:
        return timed_sync(
            "  its GROUP BY through bare psycopg",
            runs,
            lambda: len(pg.execute(sql, parameters).fetchall()),
        )


async def _where_the_time_goes(
    engine: AsyncEngine, url: str, runs: int, work: Work
) -> tuple[list[str], tuple[str, Any]]:
    clock = StatementClock()
    clock.attach(engine)
    totals: list[float] = []
    group_by: list[float] = []
    others: list[float] = []
    statements = 0
    try:
        await work()
        for _ in range(runs):
            clock.records.clear()
            started = time.perf_counter()
            await work()
            totals.append(time.perf_counter() - started)
            grouped = [r for r in clock.records if "FROM report_count" in r[0]]
            assert len(grouped) == 1, [r[0] for r in clock.records]
            group_by.append(grouped[0][2])
            others.append(sum(r[2] for r in clock.records) - grouped[0][2])
            statements = len(clock.records)
    finally:
        clock.detach(engine)
    sql, parameters, _ = grouped[0]

    def ms(values: list[float]) -> float:
        return 1000 * stats_module.median(values)

    python = [t - g - o for t, g, o in zip(totals, group_by, others, strict=True)]
    raw = _raw_driver(url, runs, sql, parameters)
    figures = (
        ("the read of report_count (rows fetched into the driver)", ms(group_by)),
        (f"the other {statements - 1} statements (units, departments, sick leave)", ms(others)),
        ("Python: SQLAlchemy rows, adding up, as_json()", ms(python)),
        ("total", ms(totals)),
    )
    return [
        f"  where the document's time goes (everything; medians of {runs}, each statement "
        "timed at the driver):",
        *(f"    {name:<66} {value:7.1f} ms" for name, value in figures),
        raw.line(extra=f"  document ÷ this = {ms(totals) / raw.median_ms:.2f}"),
    ], (sql, parameters)


async def _statement_of(engine: AsyncEngine, work: Work) -> tuple[str, Any]:
    clock = StatementClock()
    clock.attach(engine)
    try:
        await work()
    finally:
        clock.detach(engine)
    (sql, parameters, _) = next(r for r in clock.records if "FROM report_count" in r[0])
    return sql, parameters


async def measure(url: str, runs: int) -> Measured:
    engine = create_async_db_engine(url)
    factory = session_factory(engine)
    lines: list[str] = []
    try:
        await _check_read_back(factory)
        leader = await _leader_scope(factory)

        def document(scope: Scope) -> Work:
            async def work() -> int:
                async with factory() as session:
                    figures = await statistics(session, year=YEAR, scope=scope)
                return len(figures.as_json()["units"])

            return work

        def query(sql: str) -> Work:
            async def work() -> int:
                async with factory() as session:
                    return len((await session.execute(text(sql))).all())

            return work

        whole, department, two_units = (
            document(Scope()),
            document(Scope(department="Oppvekst")),
            document(leader),
        )
        works = {
            "document, everything": whole,
            "document, department Oppvekst": department,
            "document, a leader's two units": two_units,
            "baseline: reports per month": query(BASELINE),
        }
        others = other_queries(engine.dialect.name)
        works |= {name: query(sql) for name, sql in others.items()}
        timings = await round_robin(works, runs)
        names = list(works)
        for name in names[:3]:
            lines.append(timings[name].line("units"))
        baseline = timings[names[3]]
        lines.append(baseline.line())
        lines.append(f"    baseline SQL: {BASELINE}")
        lines.append("  for information, other single queries (ratio = document ÷ this):")
        for name in names[4:]:
            ratio = timings[names[0]].median_ms / timings[name].median_ms
            lines.append(timings[name].line(extra=f"  ratio={ratio:.2f}"))
            lines.append(f"    SQL: {others[name]}")

        breakdown, (sql, parameters) = await _where_the_time_goes(engine, url, runs, whole)
        lines += breakdown
        lines.append(f"  plan of the document's count read (everything): {_one_line(sql)}")
        lines.append(f"    parameters: {parameters}")
        lines += await _plan(engine, sql, parameters)
        sql, parameters = await _statement_of(engine, two_units)
        lines.append(
            f"  plan of the document's count read (a leader's two units): {_one_line(sql)}"
        )
        lines.append(f"    parameters: {parameters}")
        lines += await _plan(engine, sql, parameters)
        lines.append("  plan of the baseline:")
        lines += await _plan(engine, BASELINE)
        for name, sql in others.items():
            lines.append(f"  plan of {name}:")
            lines += await _plan(engine, sql)
        return Measured(timings[names[0]], baseline, tuple(lines))
    finally:
        await engine.dispose()


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A URL to a new, empty database of our own on the server (dropped afterwards), or None
    when no server answers."""
    import psycopg

    server = make_url(POSTGRES_SERVER)
    name = f"avvik_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(
            server.render_as_string(hide_password=False), autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())
        print(f"postgres: not measured, no server at {server.render_as_string()}: {reason}")
        yield None
        return
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="the SQLite file (cached)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    years = ", ".join(f"{y}: {n:,}" for y, n in split_years(args.reports).items())
    print(f"history: {args.reports:,} reports ({years}), seed {args.seed}; runs={args.runs}")
    loaded = sqlite_history(args.seed, args.reports, args.db)
    sqlite_path = make_url(loaded.url).database
    assert sqlite_path is not None
    how = "cached" if loaded.cached else f"generated and loaded in {loaded.seconds:.1f} s"
    print(f"sqlite: {sqlite_path} ({how})")
    sqlite = asyncio.run(measure(loaded.url, args.runs))
    print("\n".join(sqlite.lines))
    headline = (
        f"sqlite_document_ms={sqlite.document.median_ms:.1f} "
        f"sqlite_group_by_ms={sqlite.baseline.median_ms:.1f} ratio={sqlite.ratio:.2f}"
    )
    if args.no_postgres:
        print("postgres: not measured (--no-postgres)")
    else:
        with postgres_database() as url:
            if url is not None:
                seconds = copy_to_postgres(sqlite_path, url)
                database = make_url(url).database
                print(f"postgres: database {database} (COPY and VACUUM ANALYZE: {seconds:.1f} s)")
                postgres = asyncio.run(measure(url, args.runs))
                print("\n".join(postgres.lines))
                headline += (
                    f" postgres_document_ms={postgres.document.median_ms:.1f}"
                    f" postgres_group_by_ms={postgres.baseline.median_ms:.1f}"
                    f" postgres_ratio={postgres.ratio:.2f}"
                )
    print(headline)


if __name__ == "__main__":
    main()
