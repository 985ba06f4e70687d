"""Every figure of the statistics document, against an independent count of an imported history.

A Voss-shaped history (bench.generated_history) with rows at local midnight on the edges of
years, quarters and months goes in through `python -m bot history import`; the organisation
file then gives the units their codes and headcounts. The expected figures are counted here
from the CSV text alone: the year and month of a report are read off the string «2025-01-01
00:30» itself, the labels mapped with the generator's own tables.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
from collections import Counter
from collections.abc import Hashable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.generated_history import (
    CATEGORY_LABELS,
    COLUMNS,
    SEVERITY_LABELS,
    generate,
    history_csv,
    organisation,
    organisation_csv,
)
from bot.cli import history as history_cli
from bot.config import load_settings
from domain.access import Scope
from domain.readers.organisation import OrgPlan, parse_org_csv
from domain.vocabulary import Severity
from storage.db import SessionFactory
from storage.org_import import import_org_plan
from storage.stats import statistics
from tests.categories import DEFAULT

YEAR = 2025
NOW = datetime(2026, 6, 1, tzinfo=UTC)  # after every closing the generator makes

# Local midnight on the edges: each is in another month (or year) in UTC than in Voss.
EDGES = (
    "2023-12-31 23:59",  # 2023 either way: in no figure
    "2024-01-01 00:05",  # January 2024 (UTC: 2023)
    "2024-12-31 23:55",  # December 2024
    "2025-01-01 00:00",  # January 2025 (UTC: December 2024)
    "2025-01-01 00:59",
    "2025-03-31 23:30",  # March, Q1
    "2025-04-01 00:30",  # April, Q2 (UTC: March, in summer time)
    "2025-06-30 23:59",
    "2025-07-01 01:00",  # July, Q3 (UTC: June)
    "2025-12-31 23:59",  # December 2025
    "2026-01-01 00:30",  # 2026: in no figure of 2025 (UTC: 2025)
)


def edge_rows() -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    units = organisation()
    for n, moment in enumerate(EDGES):
        unit = units[(3 * n) % len(units)]
        writer.writerow(
            {
                "reported_at": moment,
                "occurred_at": moment,
                "department": unit.department,
                "unit": unit.name,
                "category": list(CATEGORY_LABELS.values())[n % len(CATEGORY_LABELS)],
                "severity": list(SEVERITY_LABELS.values())[n % 3],
                "description": f"Hending ved midnatt nr. {n}",
                "location": "",
                "harm": "nestenulukke",
                "immediate_action": "",
                "measure": "",
                "status": "Ny",
                "closed_at": "",
            }
        )
    return out.getvalue()


@pytest.fixture(scope="module")
def history_text() -> str:
    generated = history_csv(generate(seed=7, per_year={2024: 1386, 2025: 1317}))
    return generated + edge_rows()


# ---- the independent count ------------------------------------------------------------------

SEVERITY_CODES = {label: code.value for code, label in SEVERITY_LABELS.items()}
CATEGORY_CODES = {label: code for code, label in CATEGORY_LABELS.items()}
HEADCOUNT = {(u.department, u.name): u.headcount for u in organisation()}
CODE = {(u.department, u.name): u.code for u in organisation()}


class Count:
    """What the CSV says, counted by hand: (year, key) → reports."""

    def __init__(self, text: str, department: str | None = None) -> None:
        self.counts: Counter[tuple[int, Hashable]] = Counter()
        for row in csv.DictReader(io.StringIO(text)):
            if department is not None and row["department"] != department:
                continue
            stamp = row["reported_at"]  # «2025-09-03 14:05», Voss time
            year, month = int(stamp[0:4]), int(stamp[5:7])
            quarter = (month - 1) // 3 + 1
            unit = (row["department"], row["unit"])
            for key in (
                "total",
                ("month", month),
                ("quarter", quarter),
                ("severity", SEVERITY_CODES[row["severity"]]),
                ("category", CATEGORY_CODES[row["category"]]),
                ("department", row["department"]),
                ("unit", unit),
                ("unit quarter", unit, quarter),
            ):
                self.counts[(year, key)] += 1

    def pair(self, key: Hashable) -> dict[str, Any]:
        count, previous = self.counts[(YEAR, key)], self.counts[(YEAR - 1, key)]
        return {
            "count": count,
            "previous": previous,
            "change": count - previous,
            "change_percent": round(100 * (count - previous) / previous, 1) if previous else None,
        }


def expected_document(count: Count, department: str | None) -> dict[str, Any]:
    departments = [department] if department else sorted({u.department for u in organisation()})
    department_figures = [{"department": d, **count.pair(("department", d))} for d in departments]
    department_figures.sort(key=lambda d: (-d["count"], -d["previous"], d["department"]))
    return {
        "document": "avviksboten.statistics",
        "version": 2,
        "year": YEAR,
        "previous_year": YEAR - 1,
        "counted_by": "reported_at, month in Europe/Oslo",
        "scope": {"department": department, "units": None},
        "total": count.pair("total"),
        # 2025 is over by NOW: all twelve months, compared with all twelve of 2024.
        "complete_months": 12,
        "comparable": count.pair("total"),
        "months": [{"month": m, **count.pair(("month", m))} for m in range(1, 13)],
        "quarters": [
            {"quarter": q, **count.pair(("quarter", q)), "sector_sick_leave_percent": None}
            for q in range(1, 5)
        ],
        "severity": [{"severity": s.value, **count.pair(("severity", s.value))} for s in Severity],
        "category": [
            {
                "category": c.code,
                "label": c.label("nn"),
                "active": True,
                **count.pair(("category", c.code)),
            }
            for c in DEFAULT
        ],
        "departments": department_figures,
    }


def expected_units(count: Count, department: str | None) -> list[dict[str, Any]]:
    """Every unit of the organisation, with or without reports (sorted here, not by SQL)."""
    figures = []
    for unit in sorted(HEADCOUNT):
        if department is not None and unit[0] != department:
            continue
        pair = count.pair(("unit", unit))
        figures.append(
            {
                "unit": unit[1],
                "code": CODE[unit],
                "department": unit[0],
                "headcount": HEADCOUNT[unit],
                **pair,
                "per_10_employees": round(10 * pair["count"] / HEADCOUNT[unit], 2),
                "quarters": [
                    {
                        "quarter": q,
                        "count": count.counts[(YEAR, ("unit quarter", unit, q))],
                        "previous": count.counts[(YEAR - 1, ("unit quarter", unit, q))],
                        "sick_leave_percent": None,
                    }
                    for q in range(1, 5)
                ],
            }
        )
    return figures


# ---- importing it and asking for the document -----------------------------------------------


async def import_everything(database_url: str, history: Path) -> None:
    parser = argparse.ArgumentParser()
    history_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["history", "import", str(history)])
    settings = load_settings({"DATABASE_URL": database_url}, serving=False)
    # In a thread: the command calls asyncio.run (see tests/test_org_import.py).
    assert await asyncio.to_thread(history_cli.run, settings, args, now=NOW) == 0


async def document(sessions: SessionFactory, scope: Scope) -> dict[str, Any]:
    async with sessions() as session:
        return (await statistics(session, year=YEAR, scope=scope, now=NOW)).as_json()


def by_unit(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(units, key=lambda u: (u["department"], u["unit"]))


async def test_every_figure_matches_an_independent_count(
    database_url: str,
    sessions: SessionFactory,
    history_text: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "historikk.csv"
    path.write_text(history_text, encoding="utf-8", newline="")
    await import_everything(database_url, path)
    assert "reports imported: 2714 " in capsys.readouterr().out
    plan = parse_org_csv(organisation_csv())
    assert isinstance(plan, OrgPlan)
    await import_org_plan(sessions, plan)  # codes and headcounts for the units made

    everything = Count(history_text)
    assert (everything.counts[(2025, "total")], everything.counts[(2024, "total")]) == (
        1317 + 7,
        1386 + 2,
    )
    # The edges bite: counted by the UTC month, January 2025 would be another figure.
    oslo = ZoneInfo("Europe/Oslo")
    in_utc = sum(
        1
        for row in csv.DictReader(io.StringIO(history_text))
        if datetime.fromisoformat(row["reported_at"]).replace(tzinfo=oslo).astimezone(UTC).month
        == 1
        and datetime.fromisoformat(row["reported_at"]).replace(tzinfo=oslo).astimezone(UTC).year
        == YEAR
    )
    assert in_utc != everything.counts[(YEAR, ("month", 1))]

    for department in (None, "Oppvekst"):
        count = everything if department is None else Count(history_text, department)
        got = await document(sessions, Scope(department=department))
        units = got.pop("units")
        handling = got.pop("handling")
        assert got == expected_document(count, department)
        # Imported history has no events: every report's handling is unknown, none zero.
        total = count.pair("total")["count"]
        assert (handling["reports"], handling["unknown"]) == (total, total)
        assert (handling["acknowledged"], handling["open_at_end"]) == (0, 0)
        assert handling["acknowledge_days_median"] is None
        assert by_unit(units) == expected_units(count, department)
