"""`python -m bot under-reporting [--json]`: the units that may be under-reporting, with the
numbers behind each (the rule: `domain.under_reporting`, docs/under-reporting.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from bot.config import Settings
from domain.oslo_time import to_oslo
from domain.under_reporting import (
    FAR_BELOW_SHARE,
    MIN_COMPARABLE,
    QUIET_DAYS,
    SIGNIFICANCE,
    YEAR_DAYS,
    Flagged,
    find_under_reporting,
)
from storage.db import database
from storage.migrate import upgrade
from storage.types import utcnow
from storage.under_reporting import unit_figures

COMMAND = "under-reporting"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        COMMAND, help="list the units that may be under-reporting, with their numbers"
    )
    parser.add_argument("--json", action="store_true", help="as JSON, for a spreadsheet or script")


async def _find(database_url: str, now: datetime) -> list[Flagged]:
    async with database(database_url) as sessions, sessions() as session:
        return find_under_reporting(await unit_figures(session, now=now))


def as_json(flagged: list[Flagged], now: datetime) -> dict[str, Any]:
    return {
        "as_of": now.isoformat(),
        "rule": {
            "window_days": YEAR_DAYS,
            "quiet_days": QUIET_DAYS,
            "far_below_share_of_median": FAR_BELOW_SHARE,
            "significance": SIGNIFICANCE,
            "min_comparable_units": MIN_COMPARABLE,
        },
        "units": [
            {
                "unit_id": item.unit.unit_id,
                "code": item.unit.code,
                "name": item.unit.name,
                "department": item.unit.department,
                "headcount": item.unit.headcount,
                "reports_12_months": item.unit.reports_12_months,
                "reports_90_days": item.unit.reports_90_days,
                "reasons": [reason.value for reason in item.reasons],
                "comparison": None
                if item.comparison is None
                else {
                    "rate_per_10": round(item.comparison.rate_per_10, 3),
                    "median_rate_per_10": round(item.comparison.median_rate_per_10, 3),
                    "expected": round(item.comparison.expected, 3),
                    "p_value": item.comparison.p_value,
                    "compared_with": item.comparison.compared_with,
                },
            }
            for item in flagged
        ],
    }


def _p(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def text_lines(flagged: list[Flagged], now: datetime) -> list[str]:
    when = to_oslo(now).strftime("%d.%m.%Y %H:%M")
    if not flagged:
        return [
            f"No unit stands out ({when}): none reports far below comparable units, and every "
            f"unit has reported in the last {QUIET_DAYS} days."
        ]
    lines = [f"{len(flagged)} unit(s) may be under-reporting ({when}; docs/under-reporting.md):"]
    reason_words = {
        "far_below": "far below comparable units",
        "none_in_90_days": f"none in {QUIET_DAYS} days",
    }
    for item in flagged:
        unit = item.unit
        code = f"{unit.code}, " if unit.code else ""
        reasons = "; ".join(reason_words[r.value] for r in item.reasons)
        lines.append(f"  {unit.name} ({code}{unit.department}): {reasons}")
        staff = f"{unit.headcount} employees" if unit.headcount is not None else "headcount unknown"
        year = f"{unit.reports_12_months} reports in 12 months"
        if item.comparison is not None:
            year += f" ({item.comparison.rate_per_10:.1f} per 10)"
        lines.append(f"    {staff} · {year} · {unit.reports_90_days} in {QUIET_DAYS} days")
        c = item.comparison
        if c is None:
            lines.append("    not compared: no headcount, or too few other units with one")
        else:
            lines.append(
                f"    comparable units: median {c.median_rate_per_10:.1f} per 10 in "
                f"{c.compared_with} other unit(s) · expected {c.expected:.1f} · {_p(c.p_value)}"
            )
    return lines


def run(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    now = utcnow()
    flagged = asyncio.run(_find(settings.database_url, now))
    if args.json:
        sys.stdout.write(json.dumps(as_json(flagged, now), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(text_lines(flagged, now)) + "\n")
    return 0
