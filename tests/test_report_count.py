"""`report_count`, which the statistics read, always equals a count of the reports: the
database keeps it in the same transaction as every insert, update and delete (migration 0005),
one row at a time or many at once, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import col

from domain.oslo_time import month_of
from storage.db import SessionFactory
from storage.models import Report, ReportCount
from tests.voss_org import make_voss


def _row(
    number: int, unit_id: int | None, month: int, severity: str, category: str
) -> dict[str, object]:
    at = datetime(2025, month, 10, 12, tzinfo=UTC)
    return {
        "case_number": f"2025-{number:04d}",
        "submission_key": f"key-{number}",
        "unit_id": unit_id,
        "location": "Gangen",
        "occurred_at": at,
        "reported_at": at,
        "updated_at": at,
        "reported_month": month_of(at),
        "description": "Skli på vått golv",
        "harm": "near_miss",
        "category": category,
        "severity": severity,
    }


async def _counted(sessions: SessionFactory) -> dict[tuple[int, int, str, str], int]:
    async with sessions() as session:
        kept = await session.execute(
            select(
                col(ReportCount.reported_month),
                col(ReportCount.unit_id),
                col(ReportCount.severity),
                col(ReportCount.category),
                col(ReportCount.n),
            ).where(col(ReportCount.n) != 0)
        )
        return {(m, u, s, c): n for m, u, s, c, n in kept}


async def _counted_now(sessions: SessionFactory) -> dict[tuple[int, int, str, str], int]:
    unit = func.coalesce(col(Report.unit_id), 0).label("unit")
    key = (col(Report.reported_month), unit, col(Report.severity), col(Report.category))
    async with sessions() as session:
        rows = await session.execute(select(*key, func.count()).group_by(*key))
        return {(m, u, s, c): n for m, u, s, c, n in rows}


async def test_the_counts_follow_every_change(sessions: SessionFactory) -> None:
    voss = await make_voss(sessions)
    rows = [
        _row(1, voss.school, 3, "low", "fall_accident"),
        _row(2, voss.school, 3, "low", "fall_accident"),
        _row(3, voss.home, 3, "high", "violence_threats"),
        _row(4, None, 9, "medium", "other"),
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(Report), rows[:1])  # one at a time …
        await session.execute(insert(Report), rows[1:])  # … and many in one statement
    assert await _counted(sessions) == {
        (202503, voss.school, "low", "fall_accident"): 2,
        (202503, voss.home, "high", "violence_threats"): 1,
        (202509, 0, "medium", "other"): 1,
    }

    async with sessions() as session, session.begin():
        # A leader adjusts the severity; a report gets its unit; a status change moves nothing.
        await session.execute(
            update(Report).where(col(Report.case_number) == "2025-0003").values(severity="medium")
        )
        await session.execute(
            update(Report).where(col(Report.case_number) == "2025-0004").values(unit_id=voss.home)
        )
        await session.execute(update(Report).values(status="closed"))
    assert await _counted(sessions) == await _counted_now(sessions)
    assert (202503, voss.home, "medium", "violence_threats") in await _counted(sessions)
    assert (202509, 0, "medium", "other") not in await _counted(sessions)

    async with sessions() as session, session.begin():
        await session.execute(delete(Report).where(col(Report.case_number) == "2025-0001"))
    assert await _counted(sessions) == await _counted_now(sessions)
    assert (await _counted(sessions))[(202503, voss.school, "low", "fall_accident")] == 1


async def test_a_rolled_back_change_leaves_the_counts_alone(sessions: SessionFactory) -> None:
    voss = await make_voss(sessions)
    async with sessions() as session, session.begin():
        await session.execute(insert(Report), [_row(1, voss.school, 5, "low", "other")])
    before = await _counted(sessions)
    async with sessions() as session:
        await session.execute(insert(Report), [_row(2, voss.school, 5, "low", "other")])
        await session.rollback()
    assert await _counted(sessions) == before == await _counted_now(sessions)
