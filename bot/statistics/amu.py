"""The AMU report: one document an arbeidsmiljøutval secretary can print for the quarterly
meeting (docs/amu-report.md), and the same tables as a spreadsheet.

The quarter beside the same quarter a year before (the customer's own table: total,
severity, category, department), the four charts, how the avvik were handled, the causes
leaders found, units that may under-report, sick leave beside avvik, and the legal duties still
waiting. Gathered once (`gather_amu`), drawn as PDF (fpdf2, DejaVu Sans from matplotlib for
æøå) and XLSX (openpyxl) from the same `AmuReport`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.statistics import change_text, number
from bot.statistics.charts import Chart, render_chart
from bot.statistics.documents import (
    PAGE_WIDTH_MM,
    Document,
    Row,
    Table,
    draw_table,
    heading,
    paragraph,
    tables_xlsx,
)
from domain.access import Scope
from domain.handling_times import HandlingFigures
from domain.i18n import Texts
from domain.oslo_time import format_date
from domain.quarters import QuarterPeriod
from domain.under_reporting import Flagged, find_under_reporting
from domain.working_time import WorkingCalendar
from storage.handling_stats import OpenDutyLine, open_duty_lines
from storage.stats import Pair, Statistics, statistics
from storage.under_reporting import unit_figures

CAUSES_SHOWN = 5
DUTIES_SHOWN = 40  # the rest are counted


@dataclass(frozen=True)
class AmuReport:
    period: QuarterPeriod
    made_at: datetime
    stats: Statistics  # of the quarter, beside the same quarter a year before
    flagged: tuple[Flagged, ...]  # units that may under-report, as at the quarter's end
    duties: tuple[OpenDutyLine, ...]  # legal duties waiting for an answer now

    @property
    def has_reports(self) -> bool:
        return bool(self.stats.total.count or self.stats.total.previous)


async def gather_amu(
    session: AsyncSession,
    *,
    period: QuarterPeriod,
    scope: Scope,
    now: datetime,
    calendar: WorkingCalendar,
) -> AmuReport:
    """Everything the report shows, read in one session. Raises UnknownDepartment."""
    stats = await statistics(
        session,
        year=period.year,
        scope=scope,
        now=now,
        calendar=calendar,
        quarter=period.quarter,
    )
    unit_ids = {u.unit_id for u in stats.units if u.unit_id is not None}
    as_at = min(now, period.after)
    flagged = [
        f
        for f in find_under_reporting(await unit_figures(session, now=as_at))
        if scope.everything or f.unit.unit_id in unit_ids
    ]
    duties = await open_duty_lines(session, None if scope.everything else unit_ids)
    return AmuReport(period, now, stats, tuple(flagged), tuple(duties))


# ---- the tables both files show -----------------------------------------------------------


def _period(texts: Texts, period: QuarterPeriod, year: int | None = None) -> str:
    return texts("chart.quarter", quarter=period.quarter, year=year or period.year)


def _pair_row(texts: Texts, label: str, pair: Pair, *, over: bool = True) -> Row:
    # A quarter under way against a whole one a year before is no change to show.
    change = change_text(texts, pair) if over else "–"
    return (label, number(texts, pair.count), number(texts, pair.previous), change)


def _days(texts: Texts, days: float | None) -> str:
    return "–" if days is None else number(texts, days, decimals=1)


def _share(texts: Texts, part: int, whole: int) -> str:
    return "–" if not whole else f"{number(texts, 100 * part / whole)} %"


def _handling_row(texts: Texts, label: str, figures: HandlingFigures) -> Row:
    return (
        label,
        number(texts, figures.reports),
        _days(texts, figures.acknowledge_median),
        _share(texts, figures.acknowledged_in_time, figures.acknowledge_due),
        _days(texts, figures.close_median),
        _share(texts, figures.closed_in_time, figures.close_due),
        number(texts, figures.open_at_end),
    )


def tables(report: AmuReport, texts: Texts) -> list[Table]:
    """The report's tables, in its order, in the reader's language."""
    stats, period = report.stats, report.period
    over = period.is_over(report.made_at)
    this, before = _period(texts, period), _period(texts, period, period.year - 1)
    counted = ("", this, before, texts("amu.col_change"))
    found = [
        Table(
            texts("amu.heading_overview"),
            counted,
            (
                _pair_row(texts, texts("amu.total"), stats.total, over=over),
                *(
                    _pair_row(texts, texts(f"severity.{code.value}"), pair, over=over)
                    for code, pair in stats.severities
                ),
            ),
        ),
        Table(
            texts("amu.heading_category"),
            counted,
            tuple(
                _pair_row(texts, category.label(texts.language), pair, over=over)
                for category, pair in sorted(stats.categories, key=lambda item: -item[1].count)
                if pair.count or pair.previous
            ),
        ),
        Table(
            texts("amu.heading_department"),
            counted,
            tuple(
                _pair_row(texts, name or texts("amu.unknown_unit"), pair, over=over)
                for name, pair in stats.departments
            ),
        ),
    ]
    handling = stats.handling
    if handling is not None:
        found.append(
            Table(
                texts("amu.heading_handling"),
                (
                    "",
                    texts("amu.col_reports"),
                    texts("amu.col_acknowledge_median"),
                    texts("amu.col_acknowledged_in_time"),
                    texts("amu.col_close_median"),
                    texts("amu.col_closed_in_time"),
                    texts("amu.col_open"),
                ),
                (
                    _handling_row(texts, texts("amu.total"), handling.everything),
                    *(
                        _handling_row(texts, name or texts("amu.unknown_unit"), figures)
                        for name, figures in handling.departments
                    ),
                ),
                note=texts(
                    "stats.handling_unknown", count=number(texts, handling.everything.unknown)
                )
                if handling.everything.unknown
                else None,
            )
        )
        found.append(
            Table(
                texts("amu.heading_causes"),
                (texts("amu.col_cause"), texts("amu.col_reports")),
                tuple(
                    (handling.cause_list.label(code, texts.language), number(texts, n))
                    for code, n in handling.causes[:CAUSES_SHOWN]
                ),
            )
        )
    found.append(
        Table(
            texts("amu.heading_under_reporting"),
            (
                texts("amu.col_unit"),
                texts("amu.col_department"),
                texts("amu.col_reports_12_months"),
                texts("amu.col_reason"),
            ),
            tuple(
                (
                    f.unit.name,
                    f.unit.department,
                    number(texts, f.unit.reports_12_months),
                    ", ".join(texts(f"amu.reason_{r.value}") for r in f.reasons),
                )
                for f in report.flagged
            ),
        )
    )
    quarter = period.quarter - 1
    sick = [
        (
            u.name or texts("amu.unknown_unit"),
            number(texts, u.quarters[quarter].counts.count),
            f"{number(texts, percent, decimals=1)} %",
        )
        for u in stats.units
        if (percent := u.quarters[quarter].sick_leave_percent) is not None
    ]
    sector = stats.quarters[quarter].sick_leave_percent
    if sector is not None:
        sick.append(
            (
                texts("amu.sector"),
                number(texts, stats.total.count),
                f"{number(texts, sector, decimals=1)} %",
            )
        )
    found.append(
        Table(
            texts("amu.heading_sick_leave"),
            (texts("amu.col_unit"), this, texts("amu.col_sick_leave")),
            tuple(sick),
        )
    )
    found.append(
        Table(
            texts("amu.heading_duties"),
            (
                texts("amu.col_case"),
                texts("amu.col_unit"),
                texts("amu.col_duty"),
                texts("amu.col_answer"),
            ),
            tuple(
                (
                    d.case_number,
                    d.unit_name or texts("amu.unknown_unit"),
                    texts(f"duty.{d.duty.value}"),
                    texts("duty.later_until", date=d.later_until.strftime("%d.%m.%Y"))
                    if d.later_until
                    else texts("duty.unanswered"),
                )
                for d in report.duties
            ),
        )
    )
    return found


# ---- PDF ----------------------------------------------------------------------------------


def intro(report: AmuReport, texts: Texts) -> list[str]:
    """The lines under the title: what the quarter came to, or that it had no avvik at all."""
    period = _period(texts, report.period)
    before = _period(texts, report.period, report.period.year - 1)
    lines = []
    if not report.period.is_over(report.made_at):
        lines.append(texts("amu.so_far", date=format_date(report.made_at)))
    total = report.stats.total
    if not report.has_reports:
        lines.append(texts("amu.no_reports", period=period, previous=before))
    else:
        # A quarter under way has no change to show against a whole one.
        over = report.period.is_over(report.made_at)
        lines.append(
            texts(
                "amu.summary" if over else "amu.summary_so_far",
                count=number(texts, total.count),
                period=period,
                previous=number(texts, total.previous),
                previous_period=before,
                change=change_text(texts, total) if over else "",
            )
        )
    return lines


def amu_pdf(report: AmuReport, texts: Texts, *, scope_name: str) -> bytes:
    period = _period(texts, report.period)
    title = texts("amu.title", period=period)
    pdf = Document(title, texts("amu.footer", scope=scope_name, period=period))
    pdf.add_page()
    heading(pdf, title, 16)
    paragraph(pdf, scope_name, 12)
    for line in intro(report, texts):
        paragraph(pdf, line, 11)
    for table in tables(report, texts):
        draw_table(pdf, table, none=texts("amu.none"))
    if report.has_reports:
        pdf.add_page()
        heading(pdf, texts("amu.heading_charts"), 12)
        for chart in Chart:
            if pdf.will_page_break(105):
                pdf.add_page()
            png = render_chart(chart, report.stats, texts)
            pdf.image(io.BytesIO(png), w=PAGE_WIDTH_MM)
            pdf.ln(3)
    paragraph(pdf, texts("amu.made", date=format_date(report.made_at)), 8)
    return bytes(pdf.output())


# ---- XLSX ---------------------------------------------------------------------------------


def amu_xlsx(report: AmuReport, texts: Texts) -> bytes:
    """The same tables, one sheet each, numbers as numbers where they are counts."""
    return tables_xlsx(tables(report, texts))


def scope_name(texts: Texts, scope: Scope) -> str:
    if scope.department is not None:
        return scope.department
    return texts("amu.scope_all")
