"""«Statistikk» in Teams, and the charts and downloads its card links to.

Who sees what is decided by `domain.access.statistics_scope`, when the card is made and again
when a link is used (`bot.statistics.links`): the figures are counts, never reports, but a
leader sees their own units only. Charts and spreadsheets are drawn in a worker thread:
matplotlib and openpyxl take tens of milliseconds that the event loop must not wait for.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Protocol

from botbuilder.core import TurnContext

from bot.cards.amu import amu_card
from bot.cards.statistics import StatsLinks, scope_title, statistics_card
from bot.cards.under_reporting import under_reporting_card
from bot.desks.report_cards import card_message
from bot.statistics.amu import amu_pdf, amu_xlsx, gather_amu, intro, scope_name
from bot.statistics.charts import Chart, render_chart
from bot.statistics.export import stats_csv, stats_xlsx
from bot.statistics.links import RISK_KINDS, LinkKind, LinkSigner, StatsLink
from dialogs.turn import Clock, Reporter
from domain.access import EVERYTHING, Actor, Scope, may_see_under_reporting, statistics_scope
from domain.answers import normalise
from domain.i18n import Catalogues, Texts
from domain.oslo_time import to_oslo
from domain.quarters import QuarterPeriod, QuarterProblem, last_complete_quarter, parse_quarter
from domain.under_reporting import find_under_reporting
from domain.working_time import WorkingCalendar
from storage import handling
from storage.db import SessionFactory
from storage.stats import FIRST_YEAR, Statistics, UnknownDepartment, statistics
from storage.under_reporting import unit_figures

logger = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


@dataclass(frozen=True)
class Download:
    body: bytes
    content_type: str
    filename: str
    attachment: bool  # a file to save, not a picture to show


@dataclass(frozen=True)
class StatsRequest:
    year: int | None  # None: this year
    department: str | None  # as typed; matched to a department name later


def read_request(argument: str) -> StatsRequest:
    """«2025», «oppvekst», «oppvekst 2024»: a year and/or a department, in any order."""
    match = _YEAR.search(argument)
    year = int(match.group(1)) if match else None
    rest = _YEAR.sub(" ", argument) if match else argument
    department = normalise(rest) or None
    return StatsRequest(year, department)


class RiskFiles(Protocol):
    async def download(self, link: StatsLink) -> tuple[bytes, str, bool] | None: ...


class StatisticsDesk:
    def __init__(
        self,
        sessions: SessionFactory,
        catalogues: Catalogues,
        clock: Clock,
        signer: LinkSigner,
        public_url: str | None,
        *,
        calendar: WorkingCalendar | None = None,
        risk_files: RiskFiles | None = None,
    ) -> None:
        # The risk assessments' matrices and files share the signed links (bot.desks.risk_desk).
        self._risk_files = risk_files
        # Working days for the handling times: the municipality's hours and days off.
        self._calendar = calendar or WorkingCalendar()
        self._sessions = sessions
        self._catalogues = catalogues
        self._clock = clock
        self._signer = signer
        self._public_url = public_url.rstrip("/") if public_url else None

    # --- the card -------------------------------------------------------------------------

    async def send_statistics(
        self, turn_context: TurnContext, texts: Texts, who: Reporter, request: StatsRequest
    ) -> None:
        current = to_oslo(self._clock()).year
        year = request.year if request.year is not None else current
        if not FIRST_YEAR <= year <= current:
            await turn_context.send_activity(texts("stats.bad_year", current=current))
            return
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            scope = statistics_scope(actor)
            if scope is None or actor.person_id is None:
                await turn_context.send_activity(texts("stats.not_allowed"))
                return
            if request.department is not None:
                if not scope.everything:
                    await turn_context.send_activity(texts("stats.department_not_allowed"))
                    return
                scope = Scope(department=request.department)
            try:
                document = await statistics(
                    session, year=year, scope=scope, now=self._clock(), calendar=self._calendar
                )
            except UnknownDepartment as unknown:
                await turn_context.send_activity(
                    texts(
                        "stats.unknown_department",
                        name=request.department,
                        known=", ".join(unknown.known),
                    )
                )
                return
        card = statistics_card(
            texts,
            document,
            scope_title=scope_title(texts, document.scope),
            links=self._links(actor, texts, year, document.scope.department),
            can_see_under_reporting=may_see_under_reporting(actor),
        )
        await turn_context.send_activity(
            card_message(card, summary=texts("stats.summary", year=year))
        )

    def _links(
        self, actor: Actor, texts: Texts, year: int, department: str | None
    ) -> StatsLinks | None:
        if self._public_url is None or actor.person_id is None:
            return None
        now, public_url = self._clock(), self._public_url

        def url(kind: LinkKind, chart: str | None = None) -> str:
            link = self._signer.make(
                person_id=actor.person_id or 0,
                kind=kind,
                year=year,
                language=texts.language,
                now=now,
                chart=chart,
                department=department,
            )
            return self._signer.url(public_url, link)

        return StatsLinks(
            charts={chart.value: url(LinkKind.CHART, chart.value) for chart in Chart},
            csv=url(LinkKind.CSV),
            xlsx=url(LinkKind.XLSX),
        )

    # --- «underrapportering» -------------------------------------------------------------

    async def send_under_reporting(
        self, turn_context: TurnContext, texts: Texts, who: Reporter
    ) -> None:
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            if not may_see_under_reporting(actor):
                await turn_context.send_activity(texts("stats.under_reporting_not_allowed"))
                return
            figures = await unit_figures(session, now=self._clock())
        flagged = find_under_reporting(figures)
        card = under_reporting_card(texts, flagged)
        await turn_context.send_activity(
            card_message(card, summary=texts("under_reporting.title", count=len(flagged)))
        )

    # --- «AMU-rapport [kvartal]» -----------------------------------------------------------

    async def send_amu(
        self, turn_context: TurnContext, texts: Texts, who: Reporter, text: str
    ) -> None:
        """The adviser's quarterly report for the AMU: the last complete quarter unless one is
        named, the whole municipality; the PDF and XLSX behind signed links."""
        now = self._clock()
        named = text.strip()
        period = parse_quarter(named, now=now) if named else last_complete_quarter(now)
        if isinstance(period, QuarterProblem):
            await turn_context.send_activity(texts(f"amu.problem_{period.value}"))
            return
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            if not may_see_under_reporting(actor) or actor.person_id is None:
                await turn_context.send_activity(texts("amu.not_allowed"))
                return
            report = await gather_amu(
                session, period=period, scope=EVERYTHING, now=now, calendar=self._calendar
            )
        title = texts(
            "amu.title", period=texts("chart.quarter", quarter=period.quarter, year=period.year)
        )
        links: dict[LinkKind, str | None] = {LinkKind.AMU_PDF: None, LinkKind.AMU_XLSX: None}
        if self._public_url is not None:
            for kind in links:
                link = self._signer.make(
                    person_id=actor.person_id,
                    kind=kind,
                    year=period.year,
                    language=texts.language,
                    now=now,
                    quarter=period.quarter,
                )
                links[kind] = self._signer.url(self._public_url, link)
        card = amu_card(
            texts,
            title=title,
            lines=intro(report, texts),
            pdf=links[LinkKind.AMU_PDF],
            xlsx=links[LinkKind.AMU_XLSX],
        )
        await turn_context.send_activity(card_message(card, summary=title))

    async def _amu_download(self, link: StatsLink) -> Download | None:
        """The AMU report behind a link: made now, for an adviser still."""
        if link.quarter is None or not 1 <= link.quarter <= 4:
            return None
        async with self._sessions() as session:
            person = await handling.person_by_id(session, person_id=link.person_id)
            if person is None:
                return None
            actor = await handling.actor_of(session, aad_object_id=person.aad_object_id)
            if not may_see_under_reporting(actor):
                return None
            report = await gather_amu(
                session,
                period=QuarterPeriod(link.year, link.quarter),
                scope=EVERYTHING,
                now=self._clock(),
                calendar=self._calendar,
            )
        texts = self._catalogues[link.language]
        if link.kind is LinkKind.AMU_PDF:
            name = scope_name(texts, EVERYTHING)
            body = await asyncio.to_thread(amu_pdf, report, texts, scope_name=name)
            return Download(body, "application/pdf", link.filename, attachment=True)
        body = await asyncio.to_thread(amu_xlsx, report, texts)
        return Download(body, XLSX, link.filename, attachment=True)

    # --- what the links fetch -------------------------------------------------------------

    async def download(self, token: str, filename: str) -> Download | None:
        """The chart or file behind a link, drawn now with the reader's rights now; None for
        a link that is not ours, expired, renamed, or whose reader may no longer see it."""
        link = self._signer.read(token, now=self._clock())
        if link is None or filename != link.filename:
            return None
        if link.kind in (LinkKind.AMU_PDF, LinkKind.AMU_XLSX):
            return await self._amu_download(link)
        if link.kind in RISK_KINDS:
            found = await self._risk_files.download(link) if self._risk_files else None
            return Download(found[0], found[1], link.filename, found[2]) if found else None
        document = await self._document_for(link)
        if document is None:
            return None
        texts = self._catalogues[link.language]
        if link.kind is LinkKind.CHART:
            if link.chart not in set(Chart):
                return None
            png = await asyncio.to_thread(render_chart, link.chart, document, texts)
            return Download(png, "image/png", link.filename, attachment=False)
        if link.kind is LinkKind.CSV:
            body = await asyncio.to_thread(stats_csv, document, texts)
            return Download(body, "text/csv; charset=utf-8", link.filename, attachment=True)
        body = await asyncio.to_thread(stats_xlsx, document, texts)
        return Download(body, XLSX, link.filename, attachment=True)

    async def _document_for(self, link: StatsLink) -> Statistics | None:
        async with self._sessions() as session:
            person = await handling.person_by_id(session, person_id=link.person_id)
            if person is None:
                return None  # forgotten since (python -m bot privacy forget)
            actor = await handling.actor_of(session, aad_object_id=person.aad_object_id)
            scope = statistics_scope(actor)
            if scope is None:
                return None
            if link.department is not None:
                if not scope.everything:
                    return None
                scope = Scope(department=link.department)
            try:
                return await statistics(
                    session,
                    year=link.year,
                    scope=scope,
                    now=self._clock(),
                    calendar=self._calendar,
                    with_handling=False,
                )
            except UnknownDepartment:
                return None  # renamed since the card was made
