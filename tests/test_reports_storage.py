"""Submitting reports: case numbers, idempotency, history, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage.db import SessionFactory
from storage.models import Report, ReportEvent
from storage.reports import ForeignSubmission, NewReport, reports_by_reporter, submit_report

NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)


def new_report(**changes: object) -> NewReport:
    base = NewReport(
        submission_key=uuid.uuid4().hex,
        reporter_aad_object_id="aad-kari",
        reporter_name="Kari Nordmann",
        description="Glatt skuleplass, ikkje strødd. Tilsett skli og slo kneet.",
        harm="injury",
        category="fall_accident",
        severity="medium",
        unit_id=None,
        unit_text="Vossevangen skule",
        location="Skuleplassen",
        occurred_at=NOW - timedelta(hours=2),
        occurred_time_known=True,
        immediate_action="Strødde plassen.",
        suggested_measure=None,
        language="nn",
        reported_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_case_numbers_are_sequential_per_year(sessions: SessionFactory) -> None:
    first = await submit_report(sessions, new_report())
    second = await submit_report(sessions, new_report())
    next_year = await submit_report(
        sessions, new_report(reported_at=datetime(2027, 1, 2, tzinfo=UTC))
    )
    assert (first.case_number, second.case_number) == ("2026-0001", "2026-0002")
    assert next_year.case_number == "2027-0001"


async def test_case_year_follows_oslo_not_utc(sessions: SessionFactory) -> None:
    # 23:30 UTC on New Year's Eve is already 2027 in Voss.
    new_year_in_voss = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    submitted = await submit_report(sessions, new_report(reported_at=new_year_in_voss))
    assert submitted.case_number == "2027-0001"


async def test_concurrent_submits_get_unique_numbers(sessions: SessionFactory) -> None:
    results = await asyncio.gather(*(submit_report(sessions, new_report()) for _ in range(25)))
    numbers = sorted(r.case_number for r in results)
    assert numbers == [f"2026-{n:04d}" for n in range(1, 26)]


async def test_same_submission_twice_stores_one_report(sessions: SessionFactory) -> None:
    report = new_report()
    results = await asyncio.gather(*(submit_report(sessions, report) for _ in range(5)))
    assert len({r.case_number for r in results}) == 1
    assert sum(r.created for r in results) == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(func.count()).select_from(ReportEvent)) == 1


async def test_another_persons_submission_key_is_refused(sessions: SessionFactory) -> None:
    """A copied or forged card cannot be used to learn someone else's case number."""
    karis = new_report()
    await submit_report(sessions, karis)
    pers = replace(karis, reporter_aad_object_id="aad-per", reporter_name="Per")
    with pytest.raises(ForeignSubmission):
        await submit_report(sessions, pers)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1


async def test_stored_report_keeps_what_was_confirmed(sessions: SessionFactory) -> None:
    report = new_report()
    submitted = await submit_report(sessions, report)
    async with sessions() as session:
        stored = await session.get(Report, submitted.report_id)
        lines = await reports_by_reporter(session, aad_object_id="aad-kari")
    assert stored is not None
    assert stored.description == report.description
    assert stored.occurred_at == report.occurred_at
    assert stored.occurred_at.tzinfo is not None
    assert (stored.status, stored.severity, stored.unit_text) == (
        "new",
        "medium",
        "Vossevangen skule",
    )
    assert [line.case_number for line in lines] == [submitted.case_number]


async def test_naive_timestamps_are_refused(sessions: SessionFactory) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await submit_report(sessions, new_report(occurred_at=datetime(2026, 11, 24, 12, 0)))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0
