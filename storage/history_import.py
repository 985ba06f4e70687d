"""Loading an avvik history into the database, in one transaction (docs/history.md).

`parse_history_csv` (domain.readers.history) checks the file alone; `apply_history` checks the
rows against the database, finds or creates their departments and units, leaves out the rows
already imported, and writes the rest in the caller's transaction: reports with case numbers
from the same counter the bot uses, a «created» event each, a «closed» event and a measure
where the file has them. Rows go in by the thousand, so a large history takes seconds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Table, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from domain.oslo_time import OSLO, month_of
from domain.readers.history import HistoryFile, HistoryRow, Repeated
from domain.readers.records import RowProblem
from domain.vocabulary import Status, department_key
from storage.db import SessionFactory, one_transaction
from storage.models import CaseCounter, Department, Measure, Report, ReportEvent, Unit
from storage.reports import format_case_number
from storage.sql import insert_for

T = TypeVar("T")
Progress = Callable[[int], object]  # told how many more rows are done

# Rows per INSERT … VALUES and per IN (…): well under both databases' limits on parameters.
_CHUNK = 1000


# The tables themselves: Core inserts, without the ORM's bookkeeping per row.
def _table(model: type[SQLModel]) -> Table:
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


_REPORTS, _EVENTS, _MEASURES = _table(Report), _table(ReportEvent), _table(Measure)

SOURCE = "import"
LANGUAGE = "nn"


class HistoryImportRefused(Exception):
    """Rows were rejected and the import is all or nothing: nothing was written."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the history file")
        self.problems = tuple(problems)

    @property
    def rejected_rows(self) -> int:
        return len({p.line for p in self.problems})


@dataclass
class HistoryImported:
    """What an import did (or, for a dry run, would do)."""

    imported: int = 0
    already_imported: int = 0  # in the database from an earlier import of the same rows
    repeated: tuple[Repeated, ...] = ()  # a row the file has twice, imported once
    rejected: tuple[RowProblem, ...] = ()  # with --skip-invalid: every reason, by line
    departments_created: list[str] = field(default_factory=list)
    units_created: list[tuple[str, str]] = field(default_factory=list)  # (department, unit)
    # Per year: the first and last case number handed out.
    case_numbers: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def rejected_rows(self) -> int:
        return len({p.line for p in self.rejected})

    @property
    def accepted(self) -> int:
        return self.imported + self.already_imported + len(self.repeated)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _id(row: Department | Unit) -> int:
    assert row.id is not None, "flushed rows have ids"
    return row.id


@lru_cache(maxsize=4096)
def _fold(name: str) -> str:
    return department_key(name)


class _Organisation:
    """The departments and units the database has, found by name (any case) or unit code;
    missing ones are created on the first row that needs them."""

    def __init__(self, departments: Iterable[Department], units: Iterable[Unit]) -> None:
        self.departments = {_fold(d.name): d for d in departments}
        self.names_by_id = {_id(d): d.name for d in self.departments.values()}
        self.units: dict[tuple[str, str], Unit] = {}
        self.codes: dict[str, Unit] = {}
        for unit in units:
            department = self.names_by_id[unit.department_id]
            self.units[(_fold(department), _fold(unit.name))] = unit
            if unit.code:
                self.codes[_fold(unit.code)] = unit
        self.new_departments: dict[str, str] = {}  # folded → canonical name
        self.new_units: dict[tuple[str, str], tuple[str, str]] = {}  # folded → as spelled

    def unit_problem(self, row: HistoryRow) -> RowProblem | None:
        by_code = self.codes.get(_fold(row.unit))
        if by_code is None or self._find_unit(row) is not None:
            return None
        department = self.names_by_id[by_code.department_id]
        if _fold(department) == _fold(row.department):
            return None
        message = f"unit {by_code.code} is in {department}, not in the department given"
        return RowProblem(row.line, "unit", message)

    def _find_unit(self, row: HistoryRow) -> Unit | None:
        return self.units.get((_fold(row.department), _fold(row.unit)))

    def need(self, row: HistoryRow) -> None:
        """Note the department and unit `row` needs that the database does not have."""
        department = _fold(row.department)
        if department not in self.departments:
            self.new_departments.setdefault(department, row.department)
        if self._find_unit(row) is None and _fold(row.unit) not in self.codes:
            department_name = (
                self.new_departments.get(department) or self.departments[department].name
            )
            self.new_units.setdefault((department, _fold(row.unit)), (department_name, row.unit))

    async def create(self, session: AsyncSession) -> None:
        created = [Department(name=name) for name in self.new_departments.values()]
        session.add_all(created)
        await session.flush()
        for department in created:
            self.departments[_fold(department.name)] = department
            self.names_by_id[_id(department)] = department.name
        units = [
            Unit(department_id=_id(self.departments[key[0]]), name=name)
            for key, (_, name) in self.new_units.items()
        ]
        session.add_all(units)
        await session.flush()
        for key, unit in zip(self.new_units, units, strict=True):
            self.units[key] = unit

    def unit_id(self, row: HistoryRow) -> int:
        unit = self._find_unit(row) or self.codes[_fold(row.unit)]
        return _id(unit)


async def _organisation(session: AsyncSession) -> _Organisation:
    departments = (await session.execute(select(Department))).scalars().all()
    units = (await session.execute(select(Unit))).scalars().all()
    return _Organisation(departments, units)


async def _already_imported(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for batch in _chunks(keys):
        rows = await session.execute(
            select(col(Report.submission_key)).where(col(Report.submission_key).in_(batch))
        )
        found.update(rows.scalars())
    return found


async def _case_numbers(session: AsyncSession, rows: Sequence[HistoryRow]) -> dict[str, str]:
    """Submission key → case number: a block of the year's counter per year, in the order the
    reports were made. The counter row stays locked until the import's transaction ends, so the
    bot's own reports draw the numbers after the block."""
    by_year: dict[int, list[HistoryRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.reported_at, r.line)):
        by_year[row.reported_at.astimezone(OSLO).year].append(row)
    numbers: dict[str, str] = {}
    for year, members in sorted(by_year.items()):
        statement = (
            insert_for(session, CaseCounter)
            .values(year=year, last=len(members))
            .on_conflict_do_update(
                index_elements=["year"], set_={"last": CaseCounter.last + len(members)}
            )
            .returning(CaseCounter.last)
        )
        last = int((await session.execute(statement)).scalar_one())
        for sequence, row in enumerate(members, last - len(members) + 1):
            numbers[row.submission_key] = format_case_number(year, sequence)
    return numbers


def _report_values(row: HistoryRow, case_number: str, unit_id: int) -> dict[str, Any]:
    return {
        "case_number": case_number,
        "submission_key": row.submission_key,
        "reporter_id": None,
        "unit_id": unit_id,
        "unit_text": None,
        "location": row.location,
        "occurred_at": row.occurred_at,
        "occurred_time_known": row.occurred_time_known,
        "reported_at": row.reported_at,
        "reported_month": month_of(row.reported_at),
        "source": SOURCE,
        "description": row.description,
        "harm": row.harm,
        "category": row.category,
        "severity": row.severity.value,
        "immediate_action": row.immediate_action,
        "suggested_measure": None,
        "status": row.status.value,
        "anonymous": False,
        "language": LANGUAGE,
        "version": 1,
        "updated_at": row.closed_at or row.reported_at,
    }


def _closed_at(row: HistoryRow) -> datetime | None:
    """When the report was closed: the file's time, or for a closed report without one, when
    it was reported (the earliest it can have been)."""
    if row.closed_at is not None:
        return row.closed_at
    return row.reported_at if row.status is Status.CLOSED else None


def _events_and_measures(
    row: HistoryRow, report_id: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = [
        {
            "report_id": report_id,
            "actor_id": None,
            "kind": "created",
            "detail": json.dumps(
                {"imported": True, "line": row.line, "source_id": row.source_id}
                if row.source_id
                else {"imported": True, "line": row.line}
            ),
            "at": row.reported_at,
        }
    ]
    closed_at = _closed_at(row)
    if row.status is Status.CLOSED:
        events.append(
            {
                "report_id": report_id,
                "actor_id": None,
                "kind": "closed",
                "detail": json.dumps({"imported": True}),
                "at": closed_at,
            }
        )
    measures: list[dict[str, Any]] = []
    if row.measure:
        measures.append(
            {
                "report_id": report_id,
                "description": row.measure,
                "owner": "",
                "due": (closed_at or row.reported_at).astimezone(OSLO).date(),
                "created_by_id": None,
                "created_at": row.reported_at,
                "done_at": closed_at,
            }
        )
    return events, measures


async def _insert_reports(
    session: AsyncSession,
    rows: Sequence[HistoryRow],
    numbers: dict[str, str],
    organisation: _Organisation,
    progress: Progress,
) -> None:
    for batch in _chunks(rows):
        values = [
            _report_values(row, numbers[row.submission_key], organisation.unit_id(row))
            for row in batch
        ]
        # A plain executemany, then the ids by key: psycopg pipelines it, where one INSERT …
        # VALUES … RETURNING of a thousand rows costs it more to parse than to run.
        await session.execute(insert(_REPORTS), values)
        found = await session.execute(
            select(col(Report.submission_key), col(Report.id)).where(
                col(Report.submission_key).in_([row.submission_key for row in batch])
            )
        )
        ids: dict[str, int] = {}
        for key, report_id in found:
            assert report_id is not None, "stored rows have ids"
            ids[key] = report_id
        events: list[dict[str, Any]] = []
        measures: list[dict[str, Any]] = []
        for row in batch:
            more_events, more_measures = _events_and_measures(row, ids[row.submission_key])
            events.extend(more_events)
            measures.extend(more_measures)
        await session.execute(insert(_EVENTS), events)
        if measures:
            await session.execute(insert(_MEASURES), measures)
        progress(len(batch))


def _no_progress(_rows: int) -> None:
    pass


async def apply_history(
    session: AsyncSession,
    history: HistoryFile,
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> HistoryImported:
    """Write the history in the session's transaction (the caller commits or rolls back).

    Any rejected row (from the file, or a unit code that names another department) raises
    `HistoryImportRefused` with every problem before anything is written, unless
    `skip_invalid`: then the other rows are written and the problems returned. `progress` is
    told how many of `history.rows` are done, as they are.
    """
    tick = progress or _no_progress
    organisation = await _organisation(session)
    problems = list(history.problems)
    for row in history.rows:
        problem = organisation.unit_problem(row)
        if problem is not None:
            problems.append(problem)
    rejected = {p.line for p in problems}
    problems.extend(
        RowProblem(r.line, None, f"same as line {r.first_line}, which is rejected")
        for r in history.repeated
        if r.first_line in rejected
    )
    problems.sort(key=lambda p: p.line)
    if problems and not skip_invalid:
        raise HistoryImportRefused(problems)
    accepted = [row for row in history.rows if row.line not in rejected]
    tick(len(history.rows) - len(accepted))

    done = await _already_imported(session, [row.submission_key for row in accepted])
    fresh = [row for row in accepted if row.submission_key not in done]
    tick(len(accepted) - len(fresh))
    repeated = tuple(r for r in history.repeated if r.first_line not in rejected)

    for row in fresh:
        organisation.need(row)
    await organisation.create(session)
    numbers = await _case_numbers(session, fresh)
    await _insert_reports(session, fresh, numbers, organisation, tick)

    result = HistoryImported(
        imported=len(fresh),
        already_imported=len(accepted) - len(fresh),
        repeated=repeated,
        rejected=tuple(problems),
        departments_created=sorted(organisation.new_departments.values(), key=department_key),
        units_created=sorted(organisation.new_units.values()),
    )
    by_year: dict[int, list[str]] = defaultdict(list)
    for number in numbers.values():
        by_year[int(number.split("-")[0])].append(number)
    result.case_numbers = {
        year: (min(found, key=_sequence), max(found, key=_sequence))
        for year, found in sorted(by_year.items())
    }
    return result


def _sequence(case_number: str) -> int:
    return int(case_number.split("-")[1])


async def import_history(
    sessions: SessionFactory,
    history: HistoryFile,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> HistoryImported:
    """Apply the history in one transaction: committed, or rolled back for a dry run or on
    any error (`HistoryImportRefused` included)."""
    async with one_transaction(sessions, dry_run=dry_run) as session:
        return await apply_history(session, history, skip_invalid=skip_invalid, progress=progress)


def summary_lines(result: HistoryImported) -> list[str]:
    """What an import did (or would do), for the admin who ran it: counts and names of
    departments and units, never a word of a report."""
    numbers = ", ".join(f"{first} to {last}" for first, last in result.case_numbers.values())
    lines = [
        f"reports imported: {result.imported}" + (f" (case numbers {numbers})" if numbers else ""),
        f"already imported before: {result.already_imported}",
        f"repeated in the file, imported once: {len(result.repeated)}",
        f"rows rejected: {result.rejected_rows}",
        "departments created: " + (", ".join(result.departments_created) or "none"),
        f"units created: {len(result.units_created) or 'none'}",
    ]
    by_department: dict[str, list[str]] = defaultdict(list)
    for department, unit in result.units_created:
        by_department[department].append(unit)
    lines.extend(f"  {d}: {', '.join(units)}" for d, units in sorted(by_department.items()))
    lines.extend(str(repeated) for repeated in result.repeated)
    return lines
