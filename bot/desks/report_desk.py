"""The report dialog's desk on the SQL storage: units, the confirmed report, and the language
a person chose."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dialogs.report_desk import KnownUnit, Receipt
from dialogs.report_draft import ReportDraft
from dialogs.turn import Clock, Reporter
from domain.categories import Categories
from storage import handling, organisation
from storage.categories import load_categories
from storage.db import SessionFactory
from storage.reports import NewReport, ReportLine, reports_by_reporter, submit_report

# Told of each new report (once, however often it is submitted): tells the leaders.
AfterSubmit = Callable[[int], Awaitable[None]]


async def _nobody(_report_id: int) -> None:
    return None


class SqlReportDesk:
    def __init__(
        self, sessions: SessionFactory, clock: Clock, after_submit: AfterSubmit = _nobody
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._after_submit = after_submit

    async def unit_of(self, reporter: Reporter) -> KnownUnit | None:
        async with self._sessions() as session:
            unit = await organisation.unit_of_person(session, aad_object_id=reporter.identity)
        return KnownUnit(unit.id, unit.name) if unit else None

    async def find_unit(self, name: str) -> KnownUnit | None:
        async with self._sessions() as session:
            unit = await organisation.find_unit_by_name(session, name=name)
        return KnownUnit(unit.id, unit.name) if unit else None

    async def submit(self, draft: ReportDraft, reporter: Reporter, language: str) -> Receipt:
        assert draft.description
        assert draft.harm
        assert draft.category
        assert draft.severity
        assert draft.location
        assert draft.unit_name
        submitted = await submit_report(
            self._sessions,
            NewReport(
                submission_key=draft.submission_key,
                reporter_aad_object_id=reporter.identity,
                reporter_name=reporter.name,
                description=draft.description,
                harm=draft.harm,
                category=draft.category,
                severity=draft.severity,
                unit_id=draft.unit_id,
                unit_text=None if draft.unit_id else draft.unit_name,
                location=draft.location,
                occurred_at=draft.occurred,
                occurred_time_known=draft.occurred_time_known,
                immediate_action=draft.immediate_action or None,
                suggested_measure=draft.suggested_measure or None,
                language=language,
                reported_at=self._clock(),
                anonymous=draft.anonymous,
            ),
        )
        if submitted.created:
            await self._after_submit(submitted.report_id)
        # Also for a repeated submit: the first answer may never have reached them.
        first = False
        async with self._sessions() as session:
            person = await handling.actor_of(session, aad_object_id=reporter.identity)
            if person.person_id is not None:
                first = await handling.reports_by(session, person_id=person.person_id) == 1
        return Receipt(submitted.case_number, submitted.created, submitted.report_id, first)

    async def categories(self) -> Categories:
        async with self._sessions() as session:
            return await load_categories(session)

    async def reports_of(self, reporter: Reporter) -> list[ReportLine]:
        async with self._sessions() as session:
            return await reports_by_reporter(session, aad_object_id=reporter.identity)

    async def language_of(self, reporter: Reporter) -> str | None:
        async with self._sessions() as session:
            return await organisation.language_of(session, aad_object_id=reporter.identity)

    async def choose_language(self, reporter: Reporter, language: str) -> None:
        async with self._sessions() as session, session.begin():
            await organisation.choose_language(
                session, aad_object_id=reporter.identity, name=reporter.name, language=language
            )
