"""Reading a sick-leave file (docs/under-reporting.md): a pure parser, no database.

Columns `year, quarter, unit, percent`, in any order, `;` or `,` between them. `unit` is a unit
code from the organisation file, or empty, `sektor` or `kommune` for the municipal sector's
figure. `quarter` is 1-4, K1-K4 or Q1-Q4; `percent` 0-100 with `,` or `.` for decimals (and
a `%` if you like). Every problem is reported at once, by line and column, as
`domain.readers.organisation` does; whether the unit codes exist is for `storage.sick_leave_import`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.readers.organisation import UNIT_CODE_MAX
from domain.readers.records import RowProblem, Unreadable, delimiter_of, records

COLUMNS = ("year", "quarter", "unit", "percent")
# Headers as a Norwegian spreadsheet may have them.
_ALIASES = {
    "år": "year",
    "kvartal": "quarter",
    "eining": "unit",
    "enhet": "unit",
    "prosent": "percent",
}
SECTOR_WORDS = frozenset({"sektor", "kommune"})
YEAR_MIN, YEAR_MAX = 2000, 2100

_QUARTER = re.compile(r"[kq]?\s*([1-4])", re.IGNORECASE)
_PERCENT = re.compile(r"([0-9]+(?:[.,][0-9]+)?)\s*%?")


@dataclass(frozen=True)
class SickLeaveRow:
    line: int
    year: int
    quarter: int  # 1-4
    unit_code: str | None  # None: the municipal sector's figure
    percent: float

    @property
    def key(self) -> tuple[str | None, int, int]:
        return self.unit_code, self.year, self.quarter


@dataclass(frozen=True)
class SickLeavePlan:
    rows: tuple[SickLeaveRow, ...]


def decode_sick_leave_csv(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else Windows-1252, which is what Excel
    writes in a Norwegian Windows when asked for plain «CSV». Windows-1252 leaves five bytes
    undefined; they come out as U+FFFD and are then reported where they stand."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header(line: int, record: list[str], problems: list[RowProblem]) -> dict[str, int] | None:
    index: dict[str, int] = {}
    for position, raw in enumerate(record):
        name = raw.strip().lower()
        name = _ALIASES.get(name, name)
        if not name:
            continue
        if name not in COLUMNS:
            message = f"unknown column; the columns are {', '.join(COLUMNS)}"
            problems.append(RowProblem(line, raw.strip(), message))
        elif name in index:
            problems.append(RowProblem(line, name, "the column appears twice"))
        else:
            index[name] = position
    missing = [name for name in COLUMNS if name not in index]
    for name in missing:
        problems.append(RowProblem(line, name, "required column missing from the header"))
    return None if missing else index


def _year(text: str) -> int | str:
    if re.fullmatch(r"[0-9]{4}", text) and YEAR_MIN <= int(text) <= YEAR_MAX:
        return int(text)
    return f"must be a year from {YEAR_MIN} to {YEAR_MAX}, not {text!r}"


def _quarter(text: str) -> int | str:
    match = _QUARTER.fullmatch(text)
    if match:
        return int(match.group(1))
    return f"must be 1-4, K1-K4 or Q1-Q4, not {text!r}"


def _percent(text: str) -> float | str:
    match = _PERCENT.fullmatch(text)
    if match:
        value = float(match.group(1).replace(",", "."))
        if value <= 100:
            return value
    return f"must be a percentage from 0 to 100, like 6,4 or 6.4, not {text!r}"


def _unit(text: str) -> str | None:
    return None if not text or text.casefold() in SECTOR_WORDS else text


def _row(
    line: int, record: list[str], index: dict[str, int], width: int, problems: list[RowProblem]
) -> SickLeaveRow | None:
    cells = {name: record[i].strip() if i < len(record) else "" for name, i in index.items()}
    before = len(problems)
    if len(record) > width:
        message = f"{len(record)} values but the header has {width} columns"
        if len(record) == width + 1:
            message += "; a decimal comma in a comma-separated file must be quoted, or use ;"
        problems.append(RowProblem(line, None, message))
    parsed: dict[str, object] = {}
    for column, read in (("year", _year), ("quarter", _quarter), ("percent", _percent)):
        value = read(cells[column]) if cells[column] else "required"
        if isinstance(value, str):
            problems.append(RowProblem(line, column, value))
        parsed[column] = value
    unit = cells["unit"]
    if len(unit) > UNIT_CODE_MAX:
        problems.append(RowProblem(line, "unit", f"longer than {UNIT_CODE_MAX} characters"))
    elif "\ufffd" in unit:
        problems.append(RowProblem(line, "unit", "a character that is not text; save as UTF-8"))
    if len(problems) > before:
        return None
    year, quarter, percent = parsed["year"], parsed["quarter"], parsed["percent"]
    assert isinstance(year, int)
    assert isinstance(quarter, int)
    assert isinstance(percent, float)
    return SickLeaveRow(line, year, quarter, _unit(unit), percent)


def _describe(key: tuple[str | None, int, int]) -> str:
    unit, year, quarter = key
    return f"{unit or 'the sector'} in Q{quarter} {year}"


def parse_sick_leave_csv(text: str) -> SickLeavePlan | list[RowProblem]:
    """The figures in the file, or every problem found in it (in line order)."""
    text = text.removeprefix("\ufeff")
    header_text = next((line for line in re.split(r"\r\n|\r|\n", text) if line.strip()), None)
    if header_text is None:
        return [RowProblem(1, None, f"the file is empty; it needs a header: {';'.join(COLUMNS)}")]
    problems: list[RowProblem] = []
    index: dict[str, int] | None = None
    width = 0
    rows: list[SickLeaveRow] = []
    header_line = 1
    try:
        for line, record in records(text, delimiter_of(header_text)):
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and Excel's rows of only separators
            if index is None:
                header_line, width = line, len(record)
                index = _header(line, record, problems)
                if index is None:
                    return problems  # every row would repeat the same complaint
                continue
            row = _row(line, record, index, width, problems)
            if row is not None:
                rows.append(row)
    except Unreadable as unreadable:
        problems.append(unreadable.problem)
    if index is None:
        return problems
    first_line: dict[tuple[str | None, int, int], int] = {}
    for row in rows:
        if row.key in first_line:
            message = f"{_describe(row.key)} is already on line {first_line[row.key]}"
            problems.append(RowProblem(row.line, None, message))
        else:
            first_line[row.key] = row.line
    if not rows and not problems:
        problems.append(RowProblem(header_line, None, "no figures to import"))
    if problems:
        return sorted(problems, key=lambda p: p.line)
    return SickLeavePlan(tuple(rows))
