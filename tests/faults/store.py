"""What the database holds after a fault, and what must hold whatever died and when."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jsonpickle.unpickler import Unpickler
from sqlalchemy import func, select, text
from sqlmodel import SQLModel, col

from storage.db import (
    SessionFactory,
    create_async_db_engine,
    create_sync_db_engine,
    session_factory,
)
from storage.models import BotState, Person, Report, ReportEvent
from tests.categories import reset_categories

CASE_NUMBER = re.compile(r"^\d{4}-\d{4,}$")


@dataclass(frozen=True)
class StoredReport:
    case_number: str
    submission_key: str
    created_events: int
    reporter: str | None  # the reporter's aad object id
    fields: dict[str, Any]


async def reports_in(sessions: SessionFactory) -> list[StoredReport]:
    """Every report, oldest first, with how many `created` events it has."""
    created = (
        select(col(ReportEvent.report_id), func.count().label("n"))
        .where(col(ReportEvent.kind) == "created")
        .group_by(col(ReportEvent.report_id))
        .subquery()
    )
    async with sessions() as session:
        rows = await session.execute(
            select(Report, func.coalesce(created.c.n, 0), col(Person.aad_object_id))
            .outerjoin(created, created.c.report_id == col(Report.id))
            .outerjoin(Person, col(Person.id) == col(Report.reporter_id))
            .order_by(col(Report.id))
        )
        return [
            StoredReport(
                report.case_number,
                report.submission_key,
                int(events),
                reporter,
                report.model_dump(),
            )
            for report, events, reporter in rows
        ]


async def stored_reports(database_url: str) -> list[StoredReport]:
    engine = create_async_db_engine(database_url)
    try:
        return await reports_in(session_factory(engine))
    finally:
        await engine.dispose()


def assert_reports_whole(reports: list[StoredReport]) -> None:
    """A report is stored whole or not at all: a case number, one `created` event, and no two
    reports for one submission or one case number."""
    for report in reports:
        assert CASE_NUMBER.match(report.case_number), report
        assert report.created_events == 1, report
    assert len({r.case_number for r in reports}) == len(reports), reports
    assert len({r.submission_key for r in reports}) == len(reports), reports


def assert_case_numbers_have_no_gaps(reports: list[StoredReport]) -> None:
    """The counter is bumped in the report's own transaction: a report that was never stored
    never took a number."""
    by_year: dict[str, list[int]] = {}
    for report in reports:
        year, sequence = report.case_number.split("-")
        by_year.setdefault(year, []).append(int(sequence))
    for year, sequences in by_year.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), (year, sequences)


async def assert_bot_state_readable(sessions: SessionFactory) -> int:
    """Every stored state document is JSON that botbuilder's storage can restore; how many."""
    async with sessions() as session:
        documents = (await session.execute(select(col(BotState.document)))).scalars().all()
    for document in documents:
        Unpickler().restore(json.loads(document))
    return len(documents)


def empty_postgres(database_url: str) -> None:
    """Every table of the bot's schema emptied, numbering from 1 again; the category list as
    a new database has it."""
    tables = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
    engine = create_sync_db_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            reset_categories(connection)
    finally:
        engine.dispose()
