"""What the reminders are made from, and where they go (bot/proactive/reminders.py): open
reports and measures, the people who lead a unit now, the owner of a measure, a leader's
snooze, and what is overdue across the organisation."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import cast

from sqlalchemy import func, or_, update
from sqlalchemy import select as select_columns  # sqlmodel's select takes at most 4
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.duties import VIOLENCE_CATEGORY, Answer, duties_of
from domain.reminders import OpenDuty, OpenMeasure, OpenReport
from domain.vocabulary import Harm, Status
from storage.models import Measure, Person, Report, ReportDuty, Unit, UnitLeader

IMPORTED = "import"  # history from an earlier system: its handling stayed there


async def open_reports(session: AsyncSession) -> list[OpenReport]:
    """Reports not yet acknowledged, received in Teams (only they are reminded of)."""
    rows = await session.execute(
        select_columns(
            col(Report.id),
            col(Report.unit_id),
            col(Report.status),
            col(Report.reported_at),
            col(Report.snoozed_until),
        )
        .where(col(Report.status) == Status.NEW.value, col(Report.source) != IMPORTED)
        .order_by(col(Report.id))
    )
    return [
        OpenReport(r.id, r.unit_id, Status(r.status), r.reported_at, r.snoozed_until) for r in rows
    ]


async def open_measures(session: AsyncSession) -> list[OpenMeasure]:
    """Measures not done, on reports not closed."""
    rows = await session.execute(
        select_columns(
            col(Measure.id),
            col(Measure.report_id),
            col(Report.unit_id),
            col(Measure.due),
            col(Report.snoozed_until),
        )
        .join(Report, col(Report.id) == col(Measure.report_id))
        .where(
            col(Measure.done_at).is_(None),
            col(Report.status) != Status.CLOSED.value,
            col(Report.source) != IMPORTED,
        )
        .order_by(col(Measure.id))
    )
    return [OpenMeasure(r.id, r.report_id, r.unit_id, r.due, r.snoozed_until) for r in rows]


async def open_duties(session: AsyncSession) -> list[OpenDuty]:
    """The legal duties of reports not closed that wait for the leader: never answered, or
    answered «later» (with its day)."""
    rows = await session.execute(
        select_columns(
            col(Report.id),
            col(Report.unit_id),
            col(Report.harm),
            col(Report.severity),
            col(Report.category),
            col(Report.reported_at),
            col(Report.snoozed_until),
            col(Report.status),
        )
        .where(
            col(Report.status) != Status.CLOSED.value,
            col(Report.source) != IMPORTED,
            or_(col(Report.harm) == Harm.INJURY.value, col(Report.category) == VIOLENCE_CATEGORY),
        )
        .order_by(col(Report.id))
    )
    reports = rows.all()
    answers: dict[tuple[int, str], tuple[str | None, date | None]] = {}
    if reports:
        for report_id, duty, answer, later in await session.execute(
            select(
                col(ReportDuty.report_id),
                col(ReportDuty.duty),
                col(ReportDuty.answer),
                col(ReportDuty.later_until),
            ).where(col(ReportDuty.report_id).in_([r.id for r in reports]))
        ):
            answers[report_id, duty] = (answer, later)
    found: list[OpenDuty] = []
    for r in reports:
        applies = duties_of(harm=r.harm, severity=r.severity, category=r.category)
        for duty in applies:
            given, until = answers.get((r.id, duty.value), (None, None))
            if given is None or given == Answer.LATER.value:
                found.append(
                    OpenDuty(
                        r.id,
                        r.unit_id,
                        duty,
                        r.reported_at,
                        until,
                        r.snoozed_until,
                        Status(r.status),
                        applies,
                    )
                )
    return found


async def leaders_by_unit(session: AsyncSession, unit_ids: Collection[int]) -> dict[int, list[int]]:
    """Who leads each unit now (leaders, then deputies)."""
    found: dict[int, list[int]] = {unit_id: [] for unit_id in unit_ids}
    if not found:
        return found
    rows = await session.execute(
        select(col(UnitLeader.unit_id), col(UnitLeader.person_id))
        .where(col(UnitLeader.unit_id).in_(sorted(found)))
        .order_by(col(UnitLeader.unit_id), col(UnitLeader.deputy), col(UnitLeader.person_id))
    )
    for unit_id, person_id in rows:
        found[unit_id].append(person_id)
    return found


async def leads(session: AsyncSession, *, person_id: int, unit_id: int | None) -> bool:
    if unit_id is None:
        return False
    found = await session.scalar(
        select(func.count()).where(
            col(UnitLeader.unit_id) == unit_id, col(UnitLeader.person_id) == person_id
        )
    )
    return bool(found)


async def measure_owners(session: AsyncSession, measure_ids: Collection[int]) -> dict[int, int]:
    """The person each measure's owner is, where the owner as written is someone's name or
    e-mail in the organisation (ignoring case, «Øystein» as «øystein» on SQLite too); the
    others are not known to the bot. Two people of that name: neither is guessed at."""
    if not measure_ids:
        return {}
    owners = {
        int(i): _folded(owner)
        for i, owner in await session.execute(
            select(col(Measure.id), col(Measure.owner)).where(
                col(Measure.id).in_(sorted(measure_ids))
            )
        )
        if i is not None
    }
    by_name: dict[str, set[int]] = {}
    for person_id, name, upn in await session.execute(
        select(col(Person.id), col(Person.name), col(Person.upn))
    ):
        for key in {_folded(name or ""), _folded(upn or "")} - {""}:
            by_name.setdefault(key, set()).add(int(person_id or 0))
    return {
        measure: next(iter(by_name[owner]))
        for measure, owner in owners.items()
        if len(by_name.get(owner, ())) == 1
    }


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


async def open_by_leader(session: AsyncSession) -> dict[int, int]:
    """Each leader or deputy with reports not closed in their units: how many (the digest)."""
    rows = await session.execute(
        select(col(UnitLeader.person_id), func.count(func.distinct(col(Report.id))))
        .join(Report, col(Report.unit_id) == col(UnitLeader.unit_id))
        .where(col(Report.status) != Status.CLOSED.value, col(Report.source) != IMPORTED)
        .group_by(col(UnitLeader.person_id))
    )
    return {person_id: int(count) for person_id, count in rows}


async def snooze(session: AsyncSession, *, report_id: int, until: date | None) -> None:
    await session.execute(
        update(Report).where(col(Report.id) == report_id).values(snoozed_until=until)
    )


@dataclass(frozen=True)
class ReminderSubject:
    """What a reminder is about, read again when it is sent."""

    report_id: int
    case_number: str
    unit_id: int | None
    unit_name: str | None
    status: Status
    reported_at: datetime
    snoozed_until: date | None
    measure_description: str | None = None
    measure_owner: str | None = None
    measure_due: date | None = None
    measure_done: bool = False


async def subject(
    session: AsyncSession, *, report_id: int, measure_id: int | None = None
) -> ReminderSubject | None:
    row = (
        await session.execute(
            select_columns(
                col(Report.case_number),
                col(Report.unit_id),
                col(Unit.name),
                col(Report.status),
                col(Report.reported_at),
                col(Report.snoozed_until),
            )
            .outerjoin(Unit, col(Unit.id) == col(Report.unit_id))
            .where(col(Report.id) == report_id)
        )
    ).first()
    if row is None:
        return None
    found = ReminderSubject(report_id, row[0], row[1], row[2], Status(row[3]), row[4], row[5])
    if measure_id is None:
        return found
    measure = await session.get(Measure, measure_id)
    if measure is None or measure.report_id != report_id:
        return None
    return replace(
        found,
        measure_description=measure.description,
        measure_owner=measure.owner,
        measure_due=measure.due,
        measure_done=measure.done_at is not None,
    )


@dataclass(frozen=True)
class LateReport:
    report_id: int
    case_number: str
    unit_name: str | None
    reported_at: datetime


@dataclass(frozen=True)
class LateMeasure:
    report_id: int
    case_number: str
    unit_name: str | None
    description: str
    due: date


@dataclass(frozen=True)
class Overdue:
    """What is overdue across the organisation (the adviser's «forfalne»), oldest first."""

    not_acknowledged: list[LateReport]
    measures_overdue: list[LateMeasure]


async def overdue(session: AsyncSession, *, today: date, acknowledge_by: datetime) -> Overdue:
    """Reports not acknowledged that came in before `acknowledge_by`, and measures past their
    deadline."""
    reports = await session.execute(
        select_columns(
            col(Report.id), col(Report.case_number), col(Unit.name), col(Report.reported_at)
        )
        .outerjoin(Unit, col(Unit.id) == col(Report.unit_id))
        .where(
            col(Report.status) == Status.NEW.value,
            col(Report.source) != IMPORTED,
            col(Report.reported_at) <= acknowledge_by,
        )
        .order_by(col(Report.reported_at), col(Report.id))
    )
    measures = await session.execute(
        select_columns(
            col(Report.id),
            col(Report.case_number),
            col(Unit.name),
            col(Measure.description),
            col(Measure.due),
        )
        .join(Report, col(Report.id) == col(Measure.report_id))
        .outerjoin(Unit, col(Unit.id) == col(Report.unit_id))
        .where(
            col(Measure.done_at).is_(None),
            col(Measure.due) < today,
            col(Report.status) != Status.CLOSED.value,
            col(Report.source) != IMPORTED,
        )
        .order_by(col(Measure.due), col(Measure.id))
    )
    return Overdue(
        [LateReport(cast(int, r), case, unit, at) for r, case, unit, at in reports.all()],
        [
            LateMeasure(cast(int, r), case, unit, what, due)
            for r, case, unit, what, due in measures.all()
        ],
    )


async def names_and_cases(
    session: AsyncSession, *, people: Collection[int], reports: Collection[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """People's names and reports' case numbers, for showing a plan."""
    names = {
        int(i): name
        for i, name in await session.execute(
            select(col(Person.id), col(Person.name)).where(col(Person.id).in_(sorted(people)))
        )
        if i is not None
    }
    cases = {
        int(i): case
        for i, case in await session.execute(
            select(col(Report.id), col(Report.case_number)).where(
                col(Report.id).in_(sorted(reports))
            )
        )
        if i is not None
    }
    return names, cases
