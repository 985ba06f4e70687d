"""`python -m bot stats`: the statistics document on the command line, as a table to read, as
JSON for other programs (docs/statistics.md), and as charts, CSV and XLSX files."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bot.cards.statistics import scope_title
from bot.cli.common import unknown_department
from bot.config import Settings
from bot.statistics.charts import write_charts
from bot.statistics.export import stats_csv, stats_xlsx
from domain.access import EVERYTHING, Scope
from domain.i18n import LANGUAGES, Catalogues, Texts
from domain.oslo_time import to_oslo
from domain.working_time import WorkingCalendar
from storage.db import database
from storage.migrate import upgrade
from storage.stats import (
    FIRST_YEAR,
    Pair,
    Statistics,
    UnknownDepartment,
    statistics,
)
from storage.types import utcnow


def add_parser(commands: Any) -> None:
    stats = commands.add_parser(
        "stats", help="avvik per year, month, severity, category, department and unit"
    )
    stats.add_argument("--year", type=int, help="the year (default: this year so far)")
    stats.add_argument("--department", help="only this department (its name)")
    stats.add_argument(
        "--json", action="store_true", help="the machine-readable document (docs/statistics.md)"
    )
    stats.add_argument("--charts", type=Path, metavar="DIR", help="also write the charts (PNG)")
    stats.add_argument("--csv", type=Path, metavar="FILE", help="also write a CSV file")
    stats.add_argument("--xlsx", type=Path, metavar="FILE", help="also write an Excel file")
    stats.add_argument(
        "--language", choices=LANGUAGES, help="for the table, charts and files (default: nn)"
    )


async def _document(
    database_url: str, year: int, scope: Scope, calendar: WorkingCalendar
) -> Statistics:
    async with database(database_url) as sessions, sessions() as session:
        return await statistics(session, year=year, scope=scope, now=utcnow(), calendar=calendar)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 with the figures; 2 for a year or department that cannot be shown."""
    current = to_oslo(utcnow()).year
    year = args.year if args.year is not None else current
    if not FIRST_YEAR <= year <= current:
        sys.stderr.write(f"--year must be from {FIRST_YEAR} to {current}, not {year}\n")
        return 2
    scope = Scope(department=args.department) if args.department else EVERYTHING
    upgrade(settings.database_url)
    try:
        document = asyncio.run(
            _document(settings.database_url, year, scope, settings.reminder_rules.calendar)
        )
    except UnknownDepartment as unknown:
        return unknown_department(unknown.name, unknown.known)
    texts = Catalogues()[args.language or settings.default_language]
    if args.charts is not None:
        args.charts.mkdir(parents=True, exist_ok=True)
        for path in write_charts(document, texts, args.charts):
            sys.stderr.write(f"wrote {path}\n")
    for path, make in ((args.csv, stats_csv), (args.xlsx, stats_xlsx)):
        if path is not None:
            path.write_bytes(make(document, texts))
            sys.stderr.write(f"wrote {path}\n")
    if args.json:
        sys.stdout.write(json.dumps(document.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(table(document, texts))
    return 0


def _row(label: str, pair: Pair) -> str:
    percent = "" if pair.change_percent is None else f"{pair.change_percent:+.1f} %"
    return f"  {label[:38]:<38} {pair.count:>7} {pair.previous:>7} {pair.change:>+7} {percent:>9}\n"


def table(document: Statistics, texts: Texts) -> str:
    """The document as plain text tables, in the reader's language."""
    year = document.year
    header = f"  {'':<38} {year:>7} {year - 1:>7} {'±':>7} {'%':>9}\n"
    title = texts("stats.title", year=year, scope=scope_title(texts, document.scope))
    out = [title + "\n\n", header]
    out.append(_row(texts("stats.total"), document.total))
    if document.complete_months < 12:
        out.append(texts("stats.so_far_note", months=document.complete_months) + "\n")
        out.append(_row(texts("stats.comparable_label"), document.comparable))
    sections: list[tuple[str, list[tuple[str, Pair]]]] = [
        (
            texts("stats.by_month"),
            [
                (name, pair)
                for name, pair in zip(
                    texts.words("stats.month_names"), document.months, strict=True
                )
            ],
        ),
        (
            texts("stats.by_severity"),
            [(texts(f"severity.{code.value}"), pair) for code, pair in document.severities],
        ),
        (
            texts("stats.by_category"),
            [(code.label(texts.language), pair) for code, pair in document.categories],
        ),
        (
            texts("stats.by_department"),
            [(name or texts("stats.unknown_unit"), pair) for name, pair in document.departments],
        ),
        (
            texts("stats.by_unit"),
            [(unit.name or texts("stats.unknown_unit"), unit.counts) for unit in document.units],
        ),
    ]
    for title, rows in sections:
        out.append(f"\n{title}\n")
        out.extend(_row(label, pair) for label, pair in rows)
    out.append("\n" + texts("stats.counted_by") + "\n")
    return "".join(out)
