"""How a year's avvik were handled, for the statistics document (docs/statistics.md, «handling»):
handling times per unit, department and category (domain.handling_times), how many the leaders
judged differently from the reporter, the causes they found, and the legal duties answered.

Reports received in Teams are read one by one (a municipality's year is a few thousand);
imported history is only counted: it has no events, so its times are unknown, never zero.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.categories import Categories
from domain.duties import Answer, Duty, duties_of
from domain.handling_times import Handled, HandlingFigures, handling_figures
from domain.working_time import WorkingCalendar
from storage.models import Department, Report, ReportDuty, Unit
from storage.reminders import open_duties

IMPORTED = "import"


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str | None
    name: str
    department: str


@dataclass(frozen=True)
class DutyCount:
    duty: Duty
    applies: int  # reports of the year that set it off (as they stand now)
    answers: Mapping[Answer, int]

    @property
    def unanswered(self) -> int:
        return max(0, self.applies - sum(self.answers.values()))


@dataclass(frozen=True)
class HandlingSection:
    end: datetime  # the figures are as things stood then (the year's end, or now)
    everything: HandlingFigures
    departments: tuple[tuple[str | None, HandlingFigures], ...]
    units: tuple[tuple[UnitRef | None, HandlingFigures], ...]
    categories: tuple[tuple[str, HandlingFigures], ...]
    severity_changed: int
    category_changed: int
    causes: tuple[tuple[str, int], ...]  # most first
    duties: tuple[DutyCount, ...]
    # The lists the codes are labelled from.
    category_list: Categories = field(default_factory=lambda: Categories(()), compare=False)
    cause_list: Categories = field(default_factory=lambda: Categories(()), compare=False)

    def as_json(self) -> dict[str, Any]:
        categories, causes = self.category_list, self.cause_list
        return {
            "end": self.end.isoformat(),
            **self.everything.as_json(),
            "departments": [
                {"department": name, **figures.as_json()} for name, figures in self.departments
            ],
            "units": [
                {
                    "unit": unit.name if unit else None,
                    "code": unit.code if unit else None,
                    "department": unit.department if unit else None,
                    **figures.as_json(),
                }
                for unit, figures in self.units
            ],
            "category": [
                {"category": code, "label": categories.label(code, "nn"), **figures.as_json()}
                for code, figures in self.categories
            ],
            "judged": {
                "severity_changed": self.severity_changed,
                "category_changed": self.category_changed,
            },
            "causes": [
                {"cause": code, "label": causes.label(code, "nn"), "count": n}
                for code, n in self.causes
            ],
            "duties": [
                {
                    "duty": count.duty.value,
                    "applies": count.applies,
                    **{answer.value: count.answers.get(answer, 0) for answer in Answer},
                    "unanswered": count.unanswered,
                }
                for count in self.duties
            ],
        }


async def unit_refs(session: AsyncSession, unit_ids: Iterable[int]) -> list[UnitRef]:
    """The units with these ids, with their departments, by name."""
    rows = await session.execute(
        select_columns(col(Unit.id), col(Unit.code), col(Unit.name), col(Department.name))
        .join(Department, col(Department.id) == col(Unit.department_id))
        .where(col(Unit.id).in_(sorted(unit_ids)))
        .order_by(col(Unit.name))
    )
    return [UnitRef(i, code, name, department) for i, code, name, department in rows if i]


def _scoped(statement: Any, months: tuple[int, int], unit_ids: list[int] | None) -> Any:
    statement = statement.where(col(Report.reported_month).between(*months))
    if unit_ids is not None:
        statement = statement.where(col(Report.unit_id).in_(unit_ids))
    return statement


async def handling_section(
    session: AsyncSession,
    *,
    months: tuple[int, int],
    units: Iterable[UnitRef],
    everything: bool,
    end: datetime,
    calendar: WorkingCalendar,
    category_list: Categories,
    cause_list: Categories,
) -> HandlingSection:
    """The handling of the reports of `months` (first and last, yyyymm) as it stood at `end`,
    for the units given (and, with `everything`, reports without a known unit too)."""
    unit_by_id = {u.id: u for u in units}
    unit_ids = None if everything else sorted(unit_by_id)
    imported = await session.execute(
        _scoped(
            select_columns(col(Report.unit_id), col(Report.category), func.count()),
            months,
            unit_ids,
        )
        .where(col(Report.source) == IMPORTED)
        .group_by(col(Report.unit_id), col(Report.category))
    )
    rows = await session.execute(
        _scoped(
            select_columns(
                col(Report.id),
                col(Report.unit_id),
                col(Report.category),
                col(Report.reported_category),
                col(Report.severity),
                col(Report.reported_severity),
                col(Report.harm),
                col(Report.cause),
                col(Report.reported_at),
                col(Report.acknowledged_at),
                col(Report.closed_at),
            ),
            months,
            unit_ids,
        ).where(col(Report.source) != IMPORTED)
    )
    groups: dict[str, defaultdict[Any, list[Handled]]] = {
        name: defaultdict(list) for name in ("unit", "department", "category")
    }
    unknown: dict[str, Counter[Any]] = {name: Counter() for name in groups}
    everything_list: list[Handled] = []

    def keys(unit_id: int | None, category: str) -> dict[str, Any]:
        unit = unit_by_id.get(unit_id) if unit_id is not None else None
        return {
            "unit": unit.id if unit else None,
            "department": unit.department if unit else None,
            "category": category,
        }

    def add(unit_id: int | None, category: str, handled: Handled) -> None:
        everything_list.append(handled)
        for name, key in keys(unit_id, category).items():
            groups[name][key].append(handled)

    imported_total = 0
    for unit_id, category, n in imported:
        imported_total += int(n)
        for name, key in keys(unit_id, category).items():
            unknown[name][key] += int(n)
            groups[name].setdefault(key, [])
    severity_changed = category_changed = 0
    causes: Counter[str] = Counter()
    applies: Counter[Duty] = Counter()
    report_ids: list[int] = []
    reports_read = list(rows)
    for r in reports_read:
        add(r.unit_id, r.category, Handled(r.reported_at, r.acknowledged_at, r.closed_at))
        severity_changed += r.reported_severity is not None and r.reported_severity != r.severity
        category_changed += r.reported_category is not None and r.reported_category != r.category
        if r.cause:
            causes[r.cause] += 1
        applies.update(duties_of(harm=r.harm, severity=r.severity, category=r.category))
        report_ids.append(r.id)
    applying: dict[int, tuple[Duty, ...]] = {}
    for r in reports_read:
        applying[r.id] = duties_of(harm=r.harm, severity=r.severity, category=r.category)
    answered: defaultdict[Duty, Counter[Answer]] = defaultdict(Counter)
    if report_ids:
        for report_id, duty, answer in await session.execute(
            _scoped(
                select_columns(
                    col(ReportDuty.report_id), col(ReportDuty.duty), col(ReportDuty.answer)
                )
                .join(Report, col(Report.id) == col(ReportDuty.report_id))
                .where(col(Report.source) != IMPORTED),
                months,
                unit_ids,
            )
        ):
            # An answer to a duty the report no longer sets off (a judgement changed it) is
            # history, not an answer to count: it would hide another report's open duty.
            if duty not in Duty._value2member_map_ or answer not in Answer._value2member_map_:
                continue
            if Duty(duty) in applying.get(report_id, ()):
                answered[Duty(duty)][Answer(answer)] += 1

    def figures(group: str, key: Any) -> HandlingFigures:
        return handling_figures(
            groups[group][key], end=end, calendar=calendar, unknown=unknown[group][key]
        )

    shown_units = [u for u in unit_by_id.values() if u.id in groups["unit"]]
    return HandlingSection(
        end=end,
        everything=handling_figures(
            everything_list, end=end, calendar=calendar, unknown=imported_total
        ),
        departments=tuple(
            (name, figures("department", name))
            for name in sorted(groups["department"], key=lambda n: (n is None, n or ""))
        ),
        units=tuple(
            [(u, figures("unit", u.id)) for u in shown_units]
            + ([(None, figures("unit", None))] if None in groups["unit"] else [])
        ),
        categories=tuple((code, figures("category", code)) for code in groups["category"]),
        severity_changed=severity_changed,
        category_changed=category_changed,
        causes=tuple(causes.most_common()),
        duties=tuple(
            DutyCount(duty, applies[duty], dict(answered[duty])) for duty in Duty if applies[duty]
        ),
        category_list=category_list,
        cause_list=cause_list,
    )


@dataclass(frozen=True)
class OpenDutyLine:
    """A legal duty still waiting for its leader's answer, as the AMU report lists it."""

    case_number: str
    unit_name: str | None
    duty: Duty
    reported_at: datetime
    later_until: date | None  # answered «later», to this day


async def open_duty_lines(
    session: AsyncSession, unit_ids: Iterable[int] | None
) -> list[OpenDutyLine]:
    """The duties of open reports not answered (or answered «later»), in the units given
    (None: everywhere), oldest report first."""
    waiting = await open_duties(session)
    if unit_ids is not None:
        wanted = set(unit_ids)
        waiting = [d for d in waiting if d.unit_id in wanted]
    if not waiting:
        return []
    rows = await session.execute(
        select_columns(col(Report.id), col(Report.case_number), col(Unit.name))
        .outerjoin(Unit, col(Unit.id) == col(Report.unit_id))
        .where(col(Report.id).in_(sorted({d.report_id for d in waiting})))
    )
    names = {report_id: (case, unit) for report_id, case, unit in rows}
    return sorted(
        (
            OpenDutyLine(*names[d.report_id], d.duty, d.reported_at, d.later_until)
            for d in waiting
            if d.report_id in names
        ),
        key=lambda line: (line.reported_at, line.case_number),
    )
