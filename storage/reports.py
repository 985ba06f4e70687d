"""Reports: submit with a case number, and read them back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.oslo_time import OSLO, month_of
from storage.db import SessionFactory
from storage.handling import enqueue_report_notices
from storage.models import CaseCounter, CategoryRow, Person, Report, ReportEvent
from storage.organisation import ensure_person
from storage.sql import insert_for


@dataclass(frozen=True)
class NewReport:
    """Everything a reporter confirmed, in stored form (codes, aware UTC times)."""

    submission_key: str
    reporter_aad_object_id: str
    reporter_name: str
    description: str
    harm: str
    category: str
    severity: str
    unit_id: int | None
    unit_text: str | None
    location: str
    occurred_at: datetime
    occurred_time_known: bool
    immediate_action: str | None
    suggested_measure: str | None
    language: str
    reported_at: datetime
    anonymous: bool = False  # not named to the leader; the HMS adviser still sees who


class ForeignSubmission(Exception):
    """The submission key belongs to someone else's report (a forged or copied card)."""


class UnknownCategory(ValueError):
    """The report's category is not (or no longer) one of the municipality's."""


@dataclass(frozen=True)
class Submitted:
    case_number: str
    report_id: int
    created: bool  # False when this submission was already stored (a repeated submit)


@dataclass(frozen=True)
class ReportLine:
    case_number: str
    reported_at: datetime
    category: str
    severity: str
    status: str


def format_case_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:04d}"


async def _next_sequence(session: AsyncSession, year: int) -> int:
    # One statement that creates or bumps the counter: the row stays locked until the
    # report's transaction ends, so two submits can never draw the same number.
    statement = (
        insert_for(session, CaseCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(
            index_elements=["year"],
            set_={"last": CaseCounter.last + 1},
        )
        .returning(CaseCounter.last)
    )
    sequence = (await session.execute(statement)).scalar_one()
    return int(sequence)


async def _find_submitted(
    session: AsyncSession, submission_key: str, reporter_aad_object_id: str
) -> Submitted | None:
    row = (
        await session.execute(
            select(col(Report.id), col(Report.case_number), col(Person.aad_object_id))
            .outerjoin(Person, col(Person.id) == col(Report.reporter_id))
            .where(col(Report.submission_key) == submission_key)
        )
    ).first()
    if row is None:
        return None
    if row.aad_object_id != reporter_aad_object_id:
        raise ForeignSubmission(submission_key)
    return Submitted(row.case_number, row.id, created=False)


async def submit_report(sessions: SessionFactory, new: NewReport) -> Submitted:
    """Store the report once, with its case number and a `created` event; idempotent by key.
    A key that belongs to another person's report raises `ForeignSubmission`."""
    async with sessions() as session:
        existing = await _find_submitted(session, new.submission_key, new.reporter_aad_object_id)
        if existing:
            return existing
    try:
        async with sessions() as session, session.begin():
            # Held for share until the report is stored: an import cannot remove it meanwhile.
            known = await session.scalar(
                select(col(CategoryRow.code))
                .where(col(CategoryRow.code) == new.category)
                .with_for_update(read=True)
            )
            if known is None:
                raise UnknownCategory(new.category)
            year = new.reported_at.astimezone(OSLO).year
            case_number = format_case_number(year, await _next_sequence(session, year))
            reporter_id = await ensure_person(
                session, aad_object_id=new.reporter_aad_object_id, name=new.reporter_name
            )
            report = Report(
                case_number=case_number,
                submission_key=new.submission_key,
                reporter_id=reporter_id,
                unit_id=new.unit_id,
                unit_text=new.unit_text,
                location=new.location,
                occurred_at=new.occurred_at,
                occurred_time_known=new.occurred_time_known,
                reported_at=new.reported_at,
                reported_month=month_of(new.reported_at),
                description=new.description,
                harm=new.harm,
                category=new.category,
                severity=new.severity,
                immediate_action=new.immediate_action,
                suggested_measure=new.suggested_measure,
                language=new.language,
                anonymous=new.anonymous,
                updated_at=new.reported_at,
            )
            session.add(report)
            await session.flush()
            assert report.id is not None
            session.add(
                ReportEvent(
                    report_id=report.id,
                    actor_id=reporter_id,
                    kind="created",
                    detail=json.dumps({"severity": new.severity, "category": new.category}),
                    at=new.reported_at,
                )
            )
            # The leaders' cards, in the report's own transaction: stored means told.
            await enqueue_report_notices(session, report_id=report.id, now=new.reported_at)
            return Submitted(case_number, report.id, created=True)
    except IntegrityError:
        # The same draft was submitted twice at once and the other one won: report that one.
        async with sessions() as session:
            existing = await _find_submitted(
                session, new.submission_key, new.reporter_aad_object_id
            )
        if existing is None:
            raise
        return existing


async def reports_by_reporter(
    session: AsyncSession, *, aad_object_id: str, limit: int = 20
) -> list[ReportLine]:
    rows = await session.execute(
        select(
            col(Report.case_number),
            col(Report.reported_at),
            col(Report.category),
            col(Report.severity),
            col(Report.status),
        )
        .join(Person, col(Person.id) == col(Report.reporter_id))
        .where(col(Person.aad_object_id) == aad_object_id)
        .order_by(col(Report.reported_at).desc(), col(Report.id).desc())
        .limit(limit)
    )
    return [ReportLine(*row) for row in rows]
