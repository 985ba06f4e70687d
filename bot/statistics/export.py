"""The statistics as a CSV file and an Excel workbook for the HMS adviser.

Both are made from the same tables (`tables()`): total, per month, per quarter (with the
municipal sector's sick leave), severity, category, department and unit (with headcount, reports
per 10 employees, and reports and sick leave per quarter). Labels and column names are in the
reader's language; counts are the year asked for, the year before, the change and the change
in percent, with the real year in each column name ("Avvik 2025", "Avvik 2024").

The workbook has one sheet per table: bold, frozen header row, filter buttons, set column
widths, numbers stored as numbers. That is the one to sort, filter and pivot in.

The CSV is for opening straight in Excel with Norwegian settings, or attaching to a mail:
UTF-8 with a byte-order mark (or Excel reads æøå wrong), `;` between fields and a decimal
comma (or Excel puts everything in one column and reads 12.5 as a date), CRLF line ends.
Its tables follow each other as sections, each a name line, a header line and the rows, with
an empty line between, under a title line. We chose sections over one long table with a
"table" column because the tables have different columns (a unit has eight more than a
month): a long table would be mostly empty cells and need a filter before anything reads
well, while sections read like the report they are. Machines should read the JSON document
(`Statistics.as_json`) instead.

A missing figure (no change in percent when the year before had none, no headcount, no sick
leave reported) is an empty cell, never 0. Text that Excel would take for a formula (a name
starting with =, +, - or @) is kept as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.i18n import Texts
from storage.stats import Pair, Statistics, UnitFigures

Value = str | int | float | None

SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = str.maketrans({c: "-" for c in "[]:*?/\\"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WIDTH_MIN, _WIDTH_MAX = 8, 48


class Kind(Enum):
    """What a column holds, which decides how it is written."""

    TEXT = "text"
    COUNT = "count"  # a whole number
    CHANGE = "change"  # a whole number with its sign shown
    PERCENT = "percent"  # one decimal
    RATE = "rate"  # two decimals


_NUMBER_FORMATS = {
    Kind.TEXT: "@",
    Kind.COUNT: "0",
    Kind.CHANGE: "+0;-0;0",
    Kind.PERCENT: "0.0",
    Kind.RATE: "0.00",
}


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind


@dataclass(frozen=True)
class Table:
    key: str  # stable: total, months, quarters, severity, category, departments, units
    name: str  # in the reader's language; the sheet name and the CSV section line
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]


# ---- the tables ---------------------------------------------------------------------------


def tables(statistics: Statistics, texts: Texts) -> tuple[Table, ...]:
    """Every table of the export, in the order of the CSV sections and the sheets."""
    year = statistics.year
    counts = _pair_columns(year, texts)
    months = texts.words("export.months")
    department_label = texts("export.unknown_unit")

    def quarter(number: int) -> str:
        return texts("export.quarter", quarter=number)

    return (
        Table(
            "total",
            texts("export.sheet_total"),
            (_text(texts("export.column_scope")), *counts),
            ((_scope(statistics, texts), *_pair(statistics.total)),),
        ),
        Table(
            "months",
            texts("export.sheet_months"),
            (_text(texts("export.column_month")), *counts),
            tuple((months[i], *_pair(pair)) for i, pair in enumerate(statistics.months)),
        ),
        Table(
            "quarters",
            texts("export.sheet_quarters"),
            (
                _text(texts("export.column_quarter")),
                *counts,
                Column(texts("export.column_sector_sick_leave", year=year), Kind.PERCENT),
            ),
            tuple(
                (quarter(q.quarter), *_pair(q.counts), q.sick_leave_percent)
                for q in statistics.quarters
            ),
        ),
        Table(
            "severity",
            texts("export.sheet_severity"),
            (_text(texts("export.column_severity")), *counts),
            tuple(
                (texts(f"severity.{severity.value}"), *_pair(pair))
                for severity, pair in statistics.severities
            ),
        ),
        Table(
            "category",
            texts("export.sheet_category"),
            (_text(texts("export.column_category")), *counts),
            tuple(
                (category.label(texts.language), *_pair(pair))
                for category, pair in statistics.categories
            ),
        ),
        Table(
            "departments",
            texts("export.sheet_departments"),
            (_text(texts("export.column_department")), *counts),
            tuple(
                (name if name is not None else department_label, *_pair(pair))
                for name, pair in statistics.departments
            ),
        ),
        Table(
            "units",
            texts("export.sheet_units"),
            (
                _text(texts("export.column_unit")),
                _text(texts("export.column_code")),
                _text(texts("export.column_department")),
                Column(texts("export.column_headcount"), Kind.COUNT),
                *counts,
                Column(texts("export.column_per_10", year=year), Kind.RATE),
                *(
                    Column(texts("export.column_quarter_count", quarter=q, year=year), Kind.COUNT)
                    for q in range(1, 5)
                ),
                *(
                    Column(texts("export.column_sick_leave", quarter=q, year=year), Kind.PERCENT)
                    for q in range(1, 5)
                ),
            ),
            tuple(_unit_row(unit, texts) for unit in statistics.units),
        ),
    )


def _text(title: str) -> Column:
    return Column(title, Kind.TEXT)


def _pair_columns(year: int, texts: Texts) -> tuple[Column, ...]:
    return (
        Column(texts("export.column_count", year=year), Kind.COUNT),
        Column(texts("export.column_count", year=year - 1), Kind.COUNT),
        Column(texts("export.column_change"), Kind.CHANGE),
        Column(texts("export.column_change_percent"), Kind.PERCENT),
    )


def _pair(pair: Pair) -> tuple[Value, ...]:
    return (pair.count, pair.previous, pair.change, pair.change_percent)


def _scope(statistics: Statistics, texts: Texts) -> str:
    if statistics.scope.department is not None:
        return statistics.scope.department
    if statistics.scope_unit_codes is not None:
        return texts("export.scope_units", units=", ".join(statistics.scope_unit_codes))
    return texts("export.scope_everything")


def _unit_row(unit: UnitFigures, texts: Texts) -> tuple[Value, ...]:
    quarters = {q.quarter: q for q in unit.quarters}
    return (
        unit.name if unit.name is not None else texts("export.unknown_unit"),
        unit.code,
        unit.department,
        unit.headcount,
        *_pair(unit.counts),
        unit.per_10_employees,
        *(quarters[q].counts.count if q in quarters else None for q in range(1, 5)),
        *(quarters[q].sick_leave_percent if q in quarters else None for q in range(1, 5)),
    )


# ---- CSV ----------------------------------------------------------------------------------


def stats_csv(statistics: Statistics, texts: Texts) -> bytes:
    """The tables as sections of one CSV for Norwegian Excel (see the module's docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([texts("export.title", year=statistics.year, previous=statistics.year - 1)])
    writer.writerow([texts("export.counted_by")])
    for table in tables(statistics, texts):
        writer.writerow([])
        writer.writerow([table.name])
        writer.writerow([column.title for column in table.columns])
        for row in table.rows:
            writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    # The figure as it is, with a decimal comma; Excel decides how many decimals to show.
    return str(value).replace(".", ",")


# ---- XLSX ---------------------------------------------------------------------------------


def stats_xlsx(statistics: Statistics, texts: Texts) -> bytes:
    """The tables as a workbook, one sheet each (see the module's docstring)."""
    workbook = Workbook()
    for sheet in list(workbook.worksheets):
        workbook.remove(sheet)
    used: set[str] = set()
    for table in tables(statistics, texts):
        name = sheet_name(table.name, used)
        used.add(name.casefold())
        _write_sheet(workbook.create_sheet(name), table)
    workbook.properties.title = texts(
        "export.title", year=statistics.year, previous=statistics.year - 1
    )
    workbook.properties.creator = "Avviksboten"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_name(name: str, used: set[str] | frozenset[str] = frozenset()) -> str:
    """A name Excel accepts: no []:*?/\\, no apostrophe at either end, at most 31 characters,
    not the same (ignoring case) as one in `used` (casefolded)."""
    clean = name.translate(_SHEET_FORBIDDEN).strip().strip("'").strip() or "-"
    candidate = clean[:SHEET_NAME_MAX]
    number = 2
    while candidate.casefold() in used:
        suffix = f" ({number})"
        candidate = clean[: SHEET_NAME_MAX - len(suffix)] + suffix
        number += 1
    return candidate


def _write_sheet(sheet: Worksheet, table: Table) -> None:
    bold = Font(bold=True)
    sheet.append([column.title for column in table.columns])
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(vertical="top")
    for row in table.rows:
        sheet.append(list(row))
    for index, column in enumerate(table.columns, start=1):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if cell.value is None:
                continue
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would take a leading = for a formula
            else:
                cell.number_format = _NUMBER_FORMATS[column.kind]
        sheet.column_dimensions[get_column_letter(index)].width = _width(table, index - 1)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _width(table: Table, index: int) -> float:
    texts: Sequence[str] = [table.columns[index].title] + [
        _csv_value(row[index]) for row in table.rows
    ]
    longest = max(len(text) for text in texts)
    return float(min(max(longest + 2, _WIDTH_MIN), _WIDTH_MAX))
