"""Loading the statistics benchmark's history fast: a generated Voss-shaped history
(bench/generated_history.py) written into a migrated schema through the raw drivers.

SQLite: `executemany` in one transaction with the journal and syncs off (for the load only),
cached in a file keyed by seed, size and schema revision so that a rerun only measures.
PostgreSQL: `COPY` from the cached SQLite file into a database of its own.

Every NOT NULL column is filled, and timestamps are stored exactly as `storage.types.
UtcDateTime` stores them through SQLAlchemy (SQLite: `YYYY-MM-DD HH:MM:SS.ffffff` in UTC
without an offset), so the ORM reads the rows back like any other.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory

from bench import generated_history
from bench.generated_history import GeneratedReport, GeneratedUnit, generate, organisation
from domain.oslo_time import month_of
from storage.migrate import alembic_config, upgrade
from storage.reports import format_case_number

YEAR = 2025  # the year of the document; the history holds it and the year before
REPORT_COLUMNS = (
    "case_number",
    "submission_key",
    "reporter_id",
    "unit_id",
    "unit_text",
    "location",
    "occurred_at",
    "occurred_time_known",
    "reported_at",
    "reported_month",
    "source",
    "description",
    "harm",
    "category",
    "severity",
    "immediate_action",
    "suggested_measure",
    "status",
    "anonymous",
    "language",
    "version",
    "updated_at",
)
# Sick leave in percent per quarter of the document's year (SSB-like figures): the sector's
# and every unit's, so the document carries all of it.
SECTOR_SICK_LEAVE = (8.9, 7.6, 6.8, 8.4)


@dataclass(frozen=True)
class Loaded:
    url: str
    seconds: float  # 0.0 when the cached file was used
    cached: bool
    reports: int


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def sqlite_timestamp(moment: datetime) -> str:
    """What SQLAlchemy's SQLite DATETIME writes for an aware UTC value (UtcDateTime)."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


def split_years(reports: int) -> dict[int, int]:
    previous = reports // 2
    return {YEAR - 1: previous, YEAR: reports - previous}


def _rows(
    history: Iterator[GeneratedReport], unit_ids: dict[str, int], counters: dict[int, int]
) -> Iterator[tuple[Any, ...]]:
    for report in history:
        month = month_of(report.reported_at)
        year = month // 100  # the Oslo year, as the bot numbers its cases
        sequence = counters.get(year, 0) + 1
        counters[year] = sequence
        closed = report.closed_at
        yield (
            format_case_number(year, sequence),
            f"import-{year}-{sequence}",
            None,
            unit_ids[report.unit.code],
            None,
            report.location,
            sqlite_timestamp(report.occurred_at),
            1,
            sqlite_timestamp(report.reported_at),
            month,
            "import",
            report.description,
            report.harm.value,
            report.category,
            report.severity.value,
            report.immediate_action,
            report.measure or None,
            report.status.value,
            0,
            "nn",
            1,
            sqlite_timestamp(closed if closed is not None else report.reported_at),
        )


def _insert_organisation(
    connection: sqlite3.Connection, units: tuple[GeneratedUnit, ...]
) -> dict[str, int]:
    departments: dict[str, int] = {}
    unit_ids: dict[str, int] = {}
    for unit in units:
        if unit.department not in departments:
            cursor = connection.execute(
                "INSERT INTO department (name) VALUES (?)", (unit.department,)
            )
            assert cursor.lastrowid is not None
            departments[unit.department] = cursor.lastrowid
        cursor = connection.execute(
            "INSERT INTO unit (code, department_id, name, headcount) VALUES (?, ?, ?, ?)",
            (unit.code, departments[unit.department], unit.name, unit.headcount),
        )
        assert cursor.lastrowid is not None
        unit_ids[unit.code] = cursor.lastrowid
    sick_leave: list[tuple[int | None, int, int, float]] = [
        (None, YEAR, q, p) for q, p in enumerate(SECTOR_SICK_LEAVE, 1)
    ]
    for index, unit_id in enumerate(unit_ids.values()):
        sick_leave += [
            (unit_id, YEAR, q, round(p + (index % 7) - 3, 1))
            for q, p in enumerate(SECTOR_SICK_LEAVE, 1)
        ]
    connection.executemany(
        "INSERT INTO sick_leave (unit_id, year, quarter, percent) VALUES (?, ?, ?, ?)",
        sick_leave,
    )
    return unit_ids


def _build_sqlite(path: Path, seed: int, reports: int) -> None:
    path.unlink(missing_ok=True)
    upgrade(f"sqlite:///{path}")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # For the load only: the bot's own engine sets WAL and NORMAL again on connect.
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -262144")  # 256 MiB while indexes are built
        connection.execute("BEGIN")
        unit_ids = _insert_organisation(connection, organisation())
        counters: dict[int, int] = {}
        history = generate(seed=seed, per_year=split_years(reports))
        placeholders = ", ".join("?" for _ in REPORT_COLUMNS)
        connection.executemany(
            f"INSERT INTO report ({', '.join(REPORT_COLUMNS)}) VALUES ({placeholders})",
            _rows(history, unit_ids, counters),
        )
        connection.executemany(
            "INSERT INTO case_counter (year, last) VALUES (?, ?)", sorted(counters.items())
        )
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode = WAL")  # what the bot's engine expects
    finally:
        connection.close()


def _source_digest() -> str:
    """Of the generator and this loader: a changed history is a different cache."""
    digest = hashlib.sha256()
    for module in (generated_history.__file__, __file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


def sqlite_history(seed: int, reports: int, db: Path | None) -> Loaded:
    """The SQLite file for `seed` and `reports`, built unless a matching one is cached."""
    path = db if db is not None else Path("/tmp") / f"avvik_bench_stats_{seed}_{reports}.db"
    meta_path = path.with_name(path.name + ".meta.json")
    key = {
        "seed": seed,
        "reports": reports,
        "revision": head_revision(),
        "source": _source_digest(),
    }
    if path.exists() and meta_path.exists() and json.loads(meta_path.read_text()) == key:
        return Loaded(f"sqlite:///{path}", 0.0, True, reports)
    if path.exists() and not meta_path.exists():
        # Never overwrite a database this bench did not build (a --db typo, the bot's own).
        raise SystemExit(f"{path} exists and is not a cached bench history: choose another --db")
    started = time.perf_counter()
    partial = path.with_name(path.name + f".partial-{os.getpid()}")
    try:
        _build_sqlite(partial, seed, reports)
        meta_path.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        partial.replace(path)
        meta_path.write_text(json.dumps(key))
        # Written with syncs off: flush now, or the kernel writes the file back while the
        # first measurements run (they came out ~30 % slow).
        os.sync()
    finally:
        partial.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            partial.with_name(partial.name + suffix).unlink(missing_ok=True)
    return Loaded(f"sqlite:///{path}", time.perf_counter() - started, False, reports)


def copy_to_postgres(sqlite_path: str, url: str) -> float:
    """Migrate the (empty) PostgreSQL database at `url` and COPY the SQLite history into it;
    the seconds it took."""
    import psycopg

    started = time.perf_counter()
    upgrade(url)
    source = sqlite3.connect(sqlite_path)
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as target:
            # SQLite's timestamps are UTC without an offset: read them as UTC.
            target.execute("SET TIME ZONE 'UTC'")
            for table, columns in (
                ("department", ("id", "name")),
                ("unit", ("id", "code", "department_id", "name", "headcount")),
                ("sick_leave", ("unit_id", "year", "quarter", "percent")),
                ("case_counter", ("year", "last")),
                ("report", REPORT_COLUMNS),
            ):
                names = ", ".join(columns)
                rows = source.execute(f"SELECT {names} FROM {table} ORDER BY rowid")
                statement = f"COPY {table} ({names}) FROM STDIN"
                with target.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
            for table in ("department", "unit"):
                target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            target.commit()
            # ANALYZE for the planner; VACUUM for the visibility map, without which an
            # index-only scan still visits the heap (autovacuum would get there in time).
            target.autocommit = True
            target.execute("VACUUM ANALYZE")
            # Write the load out now, not while the queries are being timed (or while the
            # next run's SQLite figures are).
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
                target.execute("CHECKPOINT")
    finally:
        source.close()
    return time.perf_counter() - started
