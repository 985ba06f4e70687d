"""The statistics document: a year beside the year before, per month, quarter, severity,
category, department and unit, with sick leave where it is known (docs/statistics.md).

Every count comes from `report_count` (reports per month, unit, severity and category, kept by
database triggers in the same transaction as every change to `report`; migration 0005): one
read of a few thousand rows for both years, whatever the scope, then added up here. So the
whole document costs less than one raw GROUP BY over the reports (bench/stats.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.access import EVERYTHING, Scope
from domain.categories import Categories, Category
from domain.oslo_time import OSLO, month_of, months_of_year
from domain.vocabulary import Severity, department_key
from domain.working_time import WorkingCalendar
from storage.categories import load_categories, load_causes
from storage.handling_stats import HandlingSection, UnitRef, handling_section
from storage.models import Department, ReportCount, SickLeave, Unit

# The first year anyone may ask for: earlier dates are typing mistakes, not history.
FIRST_YEAR = 2000
DOCUMENT = "avviksboten.statistics"
# 2: «handling» (handling times, judgements, causes, legal duties) added.
VERSION = 2
COUNTED_BY = "reported_at, month in Europe/Oslo"


class UnknownDepartment(Exception):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = tuple(known)


@dataclass(frozen=True)
class Pair:
    """A count in the year asked for and in the year before."""

    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_percent(self) -> float | None:
        if self.previous == 0:
            return None
        return round(100 * self.change / self.previous, 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "previous": self.previous,
            "change": self.change,
            "change_percent": self.change_percent,
        }


@dataclass(frozen=True)
class Quarter:
    quarter: int  # 1-4
    counts: Pair
    sick_leave_percent: float | None  # the unit's, or at the top level the municipal sector's


@dataclass(frozen=True)
class UnitFigures:
    unit_id: int | None  # None: reports whose unit the organisation does not know
    code: str | None
    name: str | None
    department: str | None
    headcount: int | None
    counts: Pair
    quarters: tuple[Quarter, ...]

    @property
    def per_10_employees(self) -> float | None:
        if not self.headcount:
            return None
        return round(10 * self.counts.count / self.headcount, 2)


@dataclass(frozen=True)
class Statistics:
    year: int
    scope: Scope
    scope_unit_codes: tuple[str, ...] | None  # the units of a unit scope, for the document
    total: Pair
    months: tuple[Pair, ...]  # January first
    quarters: tuple[Quarter, ...]
    severities: tuple[tuple[Severity, Pair], ...]
    categories: tuple[tuple[Category, Pair], ...]
    departments: tuple[tuple[str | None, Pair], ...]  # most reports first
    units: tuple[UnitFigures, ...]  # by department, then name; the unknown unit last
    # Months of `year` that are over: 12 for a past year, fewer for this one. A year so far
    # is compared with the same months of the year before, never with a whole year.
    complete_months: int = 12
    # How the year's reports were handled (storage.handling_stats); None when not asked for.
    handling: HandlingSection | None = None
    # A quarter of `year` (and the same quarter the year before) rather than the whole year:
    # every count is of its three months only (the AMU report).
    quarter: int | None = None

    @property
    def months_shown(self) -> tuple[int, ...]:
        """The months the document is about: the quarter's three, or all twelve."""
        if self.quarter is None:
            return tuple(range(1, 13))
        return tuple(range(3 * self.quarter - 2, 3 * self.quarter + 1))

    @property
    def comparable(self) -> Pair:
        """The complete months of this year against the same months of the year before."""
        months = self.months[: self.complete_months]
        return Pair(sum(m.count for m in months), sum(m.previous for m in months))

    def as_json(self) -> dict[str, Any]:
        """The stable, documented shape (docs/statistics.md); `version` changes if it does."""
        return {
            "document": DOCUMENT,
            "version": VERSION,
            "year": self.year,
            "previous_year": self.year - 1,
            "counted_by": COUNTED_BY,
            "scope": {
                "department": self.scope.department,
                "units": list(self.scope_unit_codes) if self.scope_unit_codes is not None else None,
            },
            "total": self.total.as_json(),
            "complete_months": self.complete_months,
            "comparable": self.comparable.as_json(),
            "months": [
                {"month": number, **pair.as_json()} for number, pair in enumerate(self.months, 1)
            ],
            "quarters": [
                {
                    "quarter": q.quarter,
                    **q.counts.as_json(),
                    "sector_sick_leave_percent": q.sick_leave_percent,
                }
                for q in self.quarters
            ],
            "severity": [
                {"severity": code.value, **pair.as_json()} for code, pair in self.severities
            ],
            "category": [
                {
                    "category": category.code,
                    "label": category.label("nn"),
                    "active": category.active,
                    **pair.as_json(),
                }
                for category, pair in self.categories
            ],
            "departments": [
                {"department": name, **pair.as_json()} for name, pair in self.departments
            ],
            "units": [
                {
                    "unit": unit.name,
                    "code": unit.code,
                    "department": unit.department,
                    "headcount": unit.headcount,
                    **unit.counts.as_json(),
                    "per_10_employees": unit.per_10_employees,
                    "quarters": [
                        {
                            "quarter": q.quarter,
                            "count": q.counts.count,
                            "previous": q.counts.previous,
                            "sick_leave_percent": q.sick_leave_percent,
                        }
                        for q in unit.quarters
                    ],
                }
                for unit in self.units
            ],
            "handling": self.handling.as_json() if self.handling is not None else None,
        }


@dataclass(frozen=True)
class _UnitRow:
    id: int
    code: str | None
    name: str
    department: str
    headcount: int | None


async def _units_in_scope(session: AsyncSession, scope: Scope) -> list[_UnitRow]:
    statement: Any = (
        select(
            col(Unit.id),
            col(Unit.code),
            col(Unit.name),
            col(Department.name).label("department"),
            col(Unit.headcount),
        )
        .join(Department, col(Department.id) == col(Unit.department_id))
        .order_by(col(Department.name), col(Unit.name))
    )
    if scope.department is not None:
        statement = statement.where(col(Department.name) == scope.department)
    if scope.unit_ids is not None:
        statement = statement.where(col(Unit.id).in_(sorted(scope.unit_ids)))
    rows = (await session.execute(statement)).all()
    return [_UnitRow(r.id, r.code, r.name, r.department, r.headcount) for r in rows]


async def department_names(session: AsyncSession) -> list[str]:
    rows = await session.execute(select(col(Department.name)).order_by(col(Department.name)))
    return list(rows.scalars())


def quarter_months(year: int, quarter: int) -> tuple[int, int]:
    """The first and last month (yyyymm) of a quarter."""
    return year * 100 + 3 * quarter - 2, year * 100 + 3 * quarter


def _count_statement(year: int, unit_ids: list[int] | None, quarter: int | None = None) -> Any:
    first, _ = months_of_year(year - 1)
    _, last = months_of_year(year)
    statement = select(
        col(ReportCount.reported_month),
        col(ReportCount.unit_id),
        col(ReportCount.severity),
        col(ReportCount.category),
        col(ReportCount.n),
    ).where(col(ReportCount.reported_month).between(first, last), col(ReportCount.n) > 0)
    if quarter is not None:
        month = col(ReportCount.reported_month)
        statement = statement.where(
            month.between(*quarter_months(year, quarter))
            | month.between(*quarter_months(year - 1, quarter))
        )
    if unit_ids is not None:
        statement = statement.where(col(ReportCount.unit_id).in_(unit_ids))
    return statement


async def _sick_leave(
    session: AsyncSession, year: int, unit_ids: list[int]
) -> dict[tuple[int | None, int], float]:
    """(unit id or None for the sector, quarter) → percent, for the year asked for."""
    statement = select(
        col(SickLeave.unit_id), col(SickLeave.quarter), col(SickLeave.percent)
    ).where(
        col(SickLeave.year) == year,
        col(SickLeave.unit_id).in_(unit_ids) | col(SickLeave.unit_id).is_(None),
    )
    rows = (await session.execute(statement)).all()
    return {(r.unit_id, r.quarter): r.percent for r in rows}


class _Tally:
    """Counts keyed by something, for the year asked for (0) and the one before (1)."""

    def __init__(self) -> None:
        self.counts: tuple[Counter[Any], Counter[Any]] = (Counter(), Counter())

    def add(self, which: int, key: Any, n: int) -> None:
        self.counts[which][key] += n

    def pair(self, key: Any) -> Pair:
        return Pair(self.counts[0][key], self.counts[1][key])

    def __contains__(self, key: Any) -> bool:
        return key in self.counts[0] or key in self.counts[1]


def _shown(category_list: Categories, counted: _Tally) -> list[Category]:
    """Every active category, and a retired one while it has reports in the two years; a code
    the list has lost (never, unless the table was edited by hand) is shown as itself."""
    shown = [c for c in category_list if c.active or c.code in counted]
    lost = {key for which in counted.counts for key in which} - {c.code for c in category_list}
    shown += [Category(code, {"nn": code}, len(shown) + 1, active=False) for code in sorted(lost)]
    return shown


def _quarter(month: int) -> int:
    return (month - 1) // 3 + 1


async def statistics(
    session: AsyncSession,
    *,
    year: int,
    scope: Scope = EVERYTHING,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    quarter: int | None = None,
    with_handling: bool = True,
) -> Statistics:
    """The document for `year` as `scope` may see it; with `now`, a year still running is
    marked as such (`complete_months`) and the handling times are as things stand now
    (`with_handling` False leaves them out: the charts and files do not show them). A
    department is found by its name in any case and spacing («oppvekst»); raises
    UnknownDepartment."""
    known = await department_names(session)
    if scope.department is not None:
        named = next(
            (n for n in known if department_key(n) == department_key(scope.department)), None
        )
        if named is None:
            raise UnknownDepartment(scope.department, known)
        scope = replace(scope, department=named)
    units = await _units_in_scope(session, scope)
    # Everything counts reports without a known unit too; a department or a leader does not.
    unit_filter = None if scope.everything else [u.id for u in units]
    # Core, not ORM, rows: they are plain tuples, and the ORM's loading would cost more
    # than the query.
    connection = await session.connection()
    rows = (await connection.execute(_count_statement(year, unit_filter, quarter))).all()
    sick_leave = await _sick_leave(session, year, [u.id for u in units])
    category_list = await load_categories(session)
    document = _assemble(year, scope, units, rows, sick_leave, known, category_list)
    if not with_handling:  # charts and files: they show counts only
        document = replace(document, quarter=quarter)
        return (
            document
            if now is None
            else replace(document, complete_months=complete_months(year, now))
        )
    if quarter is None:
        first, last = months_of_year(year)
        year_end = datetime(year + 1, 1, 1, tzinfo=OSLO) - timedelta(microseconds=1)
    else:
        first, last = quarter_months(year, quarter)
        after = datetime(year + (quarter == 4), (3 * quarter) % 12 + 1, 1, tzinfo=OSLO)
        year_end = after - timedelta(microseconds=1)
    handling = await handling_section(
        session,
        months=(first, last),
        units=[UnitRef(u.id, u.code, u.name, u.department) for u in units],
        everything=scope.everything,
        end=min(year_end, now) if now is not None else year_end,
        calendar=calendar or WorkingCalendar(),
        category_list=category_list,
        cause_list=await load_causes(session),
    )
    document = replace(document, handling=handling, quarter=quarter)
    if now is None:
        return document
    return replace(document, complete_months=complete_months(year, now))


def complete_months(year: int, now: datetime) -> int:
    current = month_of(now)
    if year < current // 100:
        return 12
    if year > current // 100:
        return 0
    return current % 100 - 1


def _assemble(
    year: int,
    scope: Scope,
    units: list[_UnitRow],
    rows: Iterable[Any],
    sick_leave: Mapping[tuple[int | None, int], float],
    all_departments: list[str],
    category_list: Categories,
) -> Statistics:
    unit_by_id = {u.id: u for u in units}
    total, months, quarters = _Tally(), _Tally(), _Tally()
    severities, categories, departments = _Tally(), _Tally(), _Tally()
    per_unit, per_unit_quarter = _Tally(), _Tally()
    # Fold the rows (one per month, unit, severity and category: thousands) into three small
    # counters first, then add those few hundred cells up.
    cells: Counter[tuple[int, int]] = Counter()
    by_severity: Counter[tuple[int, str]] = Counter()
    by_category: Counter[tuple[int, str]] = Counter()
    for reported_month, unit_id, severity, category, n in rows:
        cells[reported_month, unit_id] += n
        by_severity[reported_month, severity] += n
        by_category[reported_month, category] += n
    for (reported_month, severity), n in by_severity.items():
        severities.add(0 if reported_month // 100 == year else 1, severity, n)
    for (reported_month, category), n in by_category.items():
        categories.add(0 if reported_month // 100 == year else 1, category, n)
    for (reported_month, unit_id), n in cells.items():
        which = 0 if reported_month // 100 == year else 1
        month = reported_month % 100
        unit = unit_by_id.get(unit_id)  # report_count's unit 0, "no known unit", is in no scope
        total.add(which, None, n)
        months.add(which, month, n)
        quarters.add(which, _quarter(month), n)
        departments.add(which, unit.department if unit else None, n)
        per_unit.add(which, unit.id if unit else None, n)
        per_unit_quarter.add(which, (unit.id if unit else None, _quarter(month)), n)

    def unit_quarters(unit_id: int | None) -> tuple[Quarter, ...]:
        # Sick leave stored without a unit is the sector's: never a unit's own figure.
        return tuple(
            Quarter(
                q,
                per_unit_quarter.pair((unit_id, q)),
                sick_leave.get((unit_id, q)) if unit_id is not None else None,
            )
            for q in range(1, 5)
        )

    figures = [
        UnitFigures(
            u.id,
            u.code,
            u.name,
            u.department,
            u.headcount,
            per_unit.pair(u.id),
            unit_quarters(u.id),
        )
        for u in units
    ]
    if None in per_unit:
        # Reports filed before the organisation knew the unit: counted, not lost.
        figures.append(
            UnitFigures(None, None, None, None, None, per_unit.pair(None), unit_quarters(None))
        )

    if scope.department is not None:
        department_names: list[str | None] = [scope.department]
    elif scope.unit_ids is not None:
        department_names = list[str | None](sorted({u.department for u in units}))
    else:
        department_names = list(all_departments)
    if None in departments:
        department_names.append(None)
    department_pairs = sorted(
        ((name, departments.pair(name)) for name in department_names),
        key=lambda item: (-item[1].count, -item[1].previous, item[0] is None, item[0] or ""),
    )
    return Statistics(
        year=year,
        scope=scope,
        scope_unit_codes=(
            tuple(u.code or u.name for u in units) if scope.unit_ids is not None else None
        ),
        total=total.pair(None),
        months=tuple(months.pair(m) for m in range(1, 13)),
        quarters=tuple(
            Quarter(q, quarters.pair(q), sick_leave.get((None, q))) for q in range(1, 5)
        ),
        severities=tuple((s, severities.pair(s.value)) for s in Severity),
        categories=tuple((c, categories.pair(c.code)) for c in _shown(category_list, categories)),
        departments=tuple(department_pairs),
        units=tuple(figures),
    )
