"""The counts the under-reporting finder reads (`domain.under_reporting`), the leaders it nudges,
and the claim that keeps a nudge from being sent twice (docs/under-reporting.md)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import case, func, update
from sqlalchemy import select as select_columns  # sqlmodel's select takes at most 4
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.under_reporting import QUIET_DAYS, YEAR_DAYS, UnitFigures
from storage.conversations import personal_conversation_of
from storage.handling import Recipient
from storage.models import Department, Nudge, Person, Report, Unit, UnitLeader
from storage.sql import insert_for


async def unit_figures(session: AsyncSession, *, now: datetime) -> list[UnitFigures]:
    """Every unit with its department, headcount, and reports in the 365 and the 90 days up to
    `now` (by `reported_at`; reports from an import of history count as well)."""
    year_ago = now - timedelta(days=YEAR_DAYS)
    quiet_since = now - timedelta(days=QUIET_DAYS)
    recent = func.sum(case((col(Report.reported_at) > quiet_since, 1), else_=0))
    counts = await session.execute(
        select_columns(col(Report.unit_id), func.count().label("year"), recent.label("recent"))
        .where(
            col(Report.unit_id).is_not(None),
            col(Report.reported_at) > year_ago,
            col(Report.reported_at) <= now,
        )
        .group_by(col(Report.unit_id))
    )
    by_unit = {row.unit_id: (int(row.year), int(row.recent or 0)) for row in counts}
    units = await session.execute(
        select_columns(
            col(Unit.id), col(Unit.code), col(Unit.name), col(Unit.headcount), col(Department.name)
        )
        .join(Department, col(Department.id) == col(Unit.department_id))
        .order_by(col(Department.name), col(Unit.name))
    )
    figures = []
    for unit_id, code, name, headcount, department in units:
        assert unit_id is not None
        year, recent_count = by_unit.get(unit_id, (0, 0))
        figures.append(UnitFigures(unit_id, code, name, department, headcount, year, recent_count))
    return figures


async def leaders_of_units(
    session: AsyncSession, unit_ids: Collection[int]
) -> dict[int, list[Recipient]]:
    """Each unit's leaders and deputies (leaders first), with where the bot can write to them;
    a unit without leaders maps to an empty list."""
    found: dict[int, list[Recipient]] = {unit_id: [] for unit_id in unit_ids}
    if not found:
        return found
    rows = await session.execute(
        select(col(UnitLeader.unit_id), Person)
        .join(Person, col(Person.id) == col(UnitLeader.person_id))
        .where(col(UnitLeader.unit_id).in_(sorted(found)))
        .order_by(col(UnitLeader.unit_id), col(UnitLeader.deputy), col(Person.id))
    )
    addresses = {}
    for unit_id, person in rows.all():
        assert person.id is not None
        if person.id not in addresses:
            addresses[person.id] = await personal_conversation_of(
                session, aad_object_id=person.aad_object_id
            )
        found[unit_id].append(
            Recipient(person.id, person.aad_object_id, person.language, addresses[person.id])
        )
    return found


async def claim_nudge(
    session: AsyncSession, *, unit_id: int, person_id: int, month: int
) -> int | None:
    """Claim the month's nudge of one leader for one unit: the new row's id, or None when it
    was claimed before (an earlier run, or another instance at the same time). The caller
    commits before sending, so that no one else sends it."""
    claimed: int | None = await session.scalar(
        insert_for(session, Nudge)
        .values(unit_id=unit_id, person_id=person_id, month=month)
        .on_conflict_do_nothing(index_elements=["unit_id", "person_id", "month"])
        .returning(col(Nudge.id))
    )
    return claimed


async def mark_nudge_sent(session: AsyncSession, *, nudge_id: int, now: datetime) -> None:
    await session.execute(update(Nudge).where(col(Nudge.id) == nudge_id).values(sent_at=now))
