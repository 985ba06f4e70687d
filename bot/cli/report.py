"""`python -m bot report amu --quarter 2025Q3 [--department D] [--language nn] --out FILE.pdf`:
the AMU report as a PDF to print, with an XLSX of the same tables beside it
(docs/amu-report.md).

Exit status: 0 written; 2 nothing written: the quarter is malformed, has not begun or is too
early, the department is unknown, or the file cannot be written.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli.common import unknown_department
from bot.config import Settings
from bot.statistics.amu import AmuReport, amu_pdf, amu_xlsx, gather_amu, scope_name
from domain.access import EVERYTHING, Scope
from domain.i18n import LANGUAGES, Catalogues
from domain.quarters import QuarterPeriod, QuarterProblem, parse_quarter
from domain.working_time import WorkingCalendar
from storage.db import database
from storage.migrate import upgrade
from storage.stats import UnknownDepartment
from storage.types import utcnow

COMMAND = "report"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(COMMAND, help="reports to print: the AMU's quarterly report")
    parser.add_argument("kind", choices=["amu"], help="amu: for the arbeidsmiljøutval")
    parser.add_argument("--quarter", required=True, metavar="YYYYQn", help="e.g. 2025Q3")
    parser.add_argument("--department", help="one department only (any case and spacing)")
    parser.add_argument("--language", choices=LANGUAGES, help="default: the bot's (nn)")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE.pdf", help="the PDF; the XLSX beside it"
    )


async def _gather(
    database_url: str, period: QuarterPeriod, scope: Scope, calendar: WorkingCalendar
) -> AmuReport:
    async with database(database_url) as sessions, sessions() as session:
        return await gather_amu(
            session, period=period, scope=scope, now=utcnow(), calendar=calendar
        )


def run(settings: Settings, args: argparse.Namespace) -> int:
    texts = Catalogues()[args.language or settings.default_language]
    if args.out.suffix.lower() != ".pdf":
        sys.stderr.write(f"--out {args.out}: the PDF's name ends in .pdf (the XLSX goes beside)\n")
        return 2
    period = parse_quarter(args.quarter, now=utcnow())
    if isinstance(period, QuarterProblem):
        sys.stderr.write(f"--quarter {args.quarter!r}: {texts(f'amu.problem_{period.value}')}\n")
        return 2
    scope = Scope(department=args.department) if args.department else EVERYTHING
    upgrade(settings.database_url)
    try:
        report = asyncio.run(
            _gather(settings.database_url, period, scope, settings.reminder_rules.calendar)
        )
    except UnknownDepartment as unknown:
        return unknown_department(unknown.name, unknown.known)
    pdf: Path = args.out
    xlsx = pdf.with_suffix(".xlsx")
    name = scope_name(texts, report.stats.scope)
    try:
        pdf.write_bytes(amu_pdf(report, texts, scope_name=name))
        xlsx.write_bytes(amu_xlsx(report, texts))
    except OSError as error:
        sys.stderr.write(f"cannot write {error.filename}: {error.strerror}\n")
        return 2
    total = report.stats.total
    sys.stdout.write(
        f"AMU report {period.code} ({name}): {total.count} reports "
        f"({total.previous} in {period.year - 1}); wrote {pdf} and {xlsx}\n"
    )
    return 0
