"""«risikovurdering»: a unit's leader goes through the shared risk-assessment frame in Teams,
and the HMS adviser follows every unit (domain.risk, storage.risk, docs/risk.md).

Every press is checked again here: only the unit's own leaders change or sign its
assessment, a signed one is changed only through a new revision, and an answer is taken from
the card as it stands in the database now (an old card's button cannot undo a signature).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from botbuilder.core import TurnContext

from bot.cards.risk import (
    AssessmentLinks,
    FrameOverview,
    assessment_card,
    factor_card,
    link_card,
    list_card,
    overview_card,
)
from bot.desks.report_cards import card_message
from bot.statistics.links import LinkKind, LinkSigner, StatsLink
from bot.statistics.risk_files import ratings_of, render_matrix, risk_pdf, risk_xlsx, view_matrix
from dialogs.turn import Clock, Reporter
from domain.access import (
    Actor,
    may_edit_assessment,
    may_handle,
    may_publish_frames,
    may_see_assessment,
    statistics_scope,
)
from domain.i18n import Catalogues, Texts
from domain.risk import (
    LOCAL_PREFIX,
    Answer,
    Decision,
    Level,
    Problem,
    check_answer,
    check_local,
    check_sign_off,
    level,
    matrix,
    rating,
)
from storage import handling, risk
from storage.db import SessionFactory
from storage.handling import ReportNotFound
from storage.models import ReportEvent
from storage.risk import AssessmentView

_OPS = (
    "show",
    "factor",
    "next",
    "answer",
    "local",
    "remove_local",
    "sign",
    "revise",
    "link_form",
    "link",
)
ADJUSTED_SHOWN = 5
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


_LARGEST_ID = 2**31 - 1  # an INTEGER column: a larger one from a forged card finds nothing


def _id(value: dict[str, Any], key: str) -> int | None:
    found = value.get(key)
    if isinstance(found, int) and not isinstance(found, bool) and 0 < found <= _LARGEST_ID:
        return found
    return None


class RiskDesk:
    def __init__(
        self,
        sessions: SessionFactory,
        catalogues: Catalogues,
        clock: Clock,
        signer: LinkSigner,
        public_url: str | None,
    ) -> None:
        self._sessions = sessions
        self._catalogues = catalogues
        self._clock = clock
        self._signer = signer
        self._public_url = public_url.rstrip("/") if public_url else None

    # --- what a person asks for -------------------------------------------------------------

    async def send_mine(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> None:
        """A leader's own units' assessments; the adviser's overview; a verneombod's area."""
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            scope = statistics_scope(actor)
            # Their own units (led, and a verneombod's area); an adviser who leads none gets
            # the overview.
            units = actor.led_units | (scope.unit_ids or frozenset() if scope else frozenset())
            if not units and may_publish_frames(actor):
                await self._send_overview(turn_context, texts, actor)
                return
            if not units:
                await turn_context.send_activity(texts("risk.not_allowed"))
                return
            views = await risk.current_for_units(session, sorted(units))
        if not views:
            await turn_context.send_activity(texts("risk.none_for_units"))
        elif len(views) == 1:
            await self._send_card(turn_context, texts, actor, views[0])
        else:
            await turn_context.send_activity(
                card_message(list_card(texts, views), summary=texts("risk.list_title"))
            )

    async def send_overview(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> None:
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
        if not may_publish_frames(actor):
            await turn_context.send_activity(texts("risk.overview_not_allowed"))
            return
        await self._send_overview(turn_context, texts, actor)

    async def _send_overview(self, turn_context: TurnContext, texts: Texts, actor: Actor) -> None:
        overviews = []
        async with self._sessions() as session:
            for frame in await risk.current_frames(session):
                views = await risk.assessments_of_frame(session, frame.id)
                links = await risk.frame_links(session, frame.title)
                overviews.append(self._overview(frame, views, links, actor, texts))
        card = overview_card(texts, overviews)
        await turn_context.send_activity(card_message(card, summary=texts("risk.overview_title")))

    def _overview(
        self,
        frame: risk.FrameInfo,
        views: list[AssessmentView],
        links: Counter[tuple[int, str]],
        actor: Actor,
        texts: Texts,
    ) -> FrameOverview:
        adjusted: Counter[str] = Counter()
        not_relevant: Counter[str] = Counter()
        for view in views:
            for answer in view.answers.values():
                if answer.decision is Decision.ADJUST:
                    adjusted[answer.key] += 1
                elif answer.decision is Decision.NOT_RELEVANT:
                    not_relevant[answer.key] += 1
        factors = views[0].factors if views else ()
        ranked = sorted(
            (f for f in factors if adjusted[f.key] or not_relevant[f.key]),
            key=lambda f: (-(adjusted[f.key] + not_relevant[f.key]), f.key),
        )[:ADJUSTED_SHOWN]
        shared = {f.key: f.situation for f in factors}
        # A local factor's key is its unit's own: «lokal-1» in two units is two factors.
        situations = {
            (v.unit_id, a.key): f"{a.situation} ({v.unit})" for v in views for a in v.local
        }
        levels: Counter[Level] = Counter()
        for view in views:
            for p_c in ratings_of(view):
                levels[level(*p_c)] += 1
        return FrameOverview(
            frame,
            views,
            [(f, adjusted[f.key], not_relevant[f.key]) for f in ranked],
            [
                (situations.get((unit, key)) or shared.get(key) or key, n)
                for (unit, key), n in _by_factor(links).most_common()
            ],
            self._url(actor, LinkKind.RISK_FRAME_MATRIX, frame.id, texts.language),
            dict(levels),
        )

    def _url(self, actor: Actor, kind: LinkKind, item: int, language: str) -> str | None:
        if self._public_url is None or actor.person_id is None:
            return None
        now = self._clock()
        link = self._signer.make(
            person_id=actor.person_id,
            kind=kind,
            year=now.year,
            language=language,
            now=now,
            item=item,
        )
        return self._signer.url(self._public_url, link)

    def _links(
        self, actor: Actor, view: AssessmentView, binder: AssessmentView, texts: Texts
    ) -> AssessmentLinks | None:
        """The matrix of the assessment shown; the files of `binder`: the last signed one, or
        this draft when none is signed yet."""
        matrix_url = self._url(actor, LinkKind.RISK_MATRIX, view.id, texts.language)
        pdf = self._url(actor, LinkKind.RISK_PDF, binder.id, texts.language)
        xlsx = self._url(actor, LinkKind.RISK_XLSX, binder.id, texts.language)
        if matrix_url is None or pdf is None or xlsx is None:
            return None
        return AssessmentLinks(matrix_url, pdf, xlsx, binder.signed_at, binder.revision)

    async def _send_card(
        self,
        turn_context: TurnContext,
        texts: Texts,
        actor: Actor,
        view: AssessmentView,
        note: str | None = None,
    ) -> None:
        async with self._sessions() as session:
            signed = await risk.latest_signed(session, unit_id=view.unit_id, title=view.frame.title)
        binder = view if view.signed_at is not None or signed is None else signed
        card = assessment_card(
            texts,
            view,
            can_edit=may_edit_assessment(actor, view.unit_id),
            links=self._links(actor, view, binder, texts),
            note=note,
        )
        summary = texts("risk.title", frame=view.frame.title, unit=view.unit)
        await turn_context.send_activity(card_message(card, summary=summary))

    # --- presses on the cards ---------------------------------------------------------------

    async def act(self, turn_context: TurnContext, texts: Texts, who: Reporter, value: Any) -> None:
        op = value.get("op") if isinstance(value, dict) else None
        assessment_id = _id(value, "assessment") if isinstance(value, dict) else None
        if op not in _OPS:
            await turn_context.send_activity(texts("problem.form_stale"))
            return
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
        if op == "link_form":
            await self._link_form(turn_context, texts, actor, value)
            return
        view = await self._load(assessment_id)
        if view is None or not may_see_assessment(actor, view.unit_id):
            # One answer for «no such» and «not yours»: a card reveals nothing.
            await turn_context.send_activity(texts("risk.unknown"))
            return
        if op == "show":
            await self._send_card(turn_context, texts, actor, view)
            return
        if op == "link":
            await self._link(turn_context, texts, actor, view, value)
            return
        if not may_edit_assessment(actor, view.unit_id):
            await turn_context.send_activity(texts("risk.not_yours"))
            return
        if not view.current:
            await self._send_current(turn_context, texts, actor, view)
            return
        if op == "revise":
            await self._revise(turn_context, texts, actor, view)
        elif view.signed_at is not None:
            await self._send_card(turn_context, texts, actor, view, texts("risk.signed_already"))
        elif op in ("factor", "next"):
            await self._factor(turn_context, texts, actor, view, value.get("key"))
        elif op == "answer":
            await self._answer(turn_context, texts, actor, view, value)
        elif op == "local":
            await self._local(turn_context, texts, actor, view, value)
        elif op == "remove_local":
            await self._remove_local(turn_context, texts, actor, view, value.get("key"))
        else:
            await self._sign(turn_context, texts, actor, view, value)

    async def _load(self, assessment_id: int | None) -> AssessmentView | None:
        if assessment_id is None:
            return None
        async with self._sessions() as session:
            return await risk.load(session, assessment_id)

    async def _send_current(
        self, turn_context: TurnContext, texts: Texts, actor: Actor, view: AssessmentView
    ) -> None:
        """The unit's assessment on the frame's current version, for a press on an old one."""
        async with self._sessions() as session:
            found = [
                v
                for v in await risk.current_for_units(session, [view.unit_id])
                if v.frame.title == view.frame.title
            ]
        if found:
            await turn_context.send_activity(texts("risk.not_current"))
            await self._send_card(turn_context, texts, actor, found[0])
        else:
            await turn_context.send_activity(texts("risk.no_longer", unit=view.unit))

    async def _factor(
        self,
        turn_context: TurnContext,
        texts: Texts,
        actor: Actor,
        view: AssessmentView,
        key: object,
    ) -> None:
        factor = view.factor(key) if isinstance(key, str) else None
        if factor is None:
            waiting = [f for f in view.factors if f.key not in view.answers]
            if not waiting:
                await self._send_card(turn_context, texts, actor, view, texts("risk.all_answered"))
                return
            factor = waiting[0]
        card = factor_card(texts, view, factor)
        await turn_context.send_activity(card_message(card, summary=factor.situation))

    async def _answer(
        self,
        turn_context: TurnContext,
        texts: Texts,
        actor: Actor,
        view: AssessmentView,
        value: dict[str, Any],
    ) -> None:
        key = value.get("key")
        factor = view.factor(key) if isinstance(key, str) else None
        if factor is None:
            await turn_context.send_activity(texts("risk.unknown_factor"))
            await self._send_card(turn_context, texts, actor, view)
            return
        # The card was filled in with where the factor stands for the unit now.
        shown = rating(factor, view.answers.get(factor.key))
        checked = check_answer(factor, value, shown=shown)
        if isinstance(checked, list):
            await turn_context.send_activity(_problems(texts, checked))
            return
        saved = await self._store(view, checked, actor)
        view = await self._load(view.id) or view
        if not saved:  # signed by another leader of the unit in the meantime
            await self._send_card(turn_context, texts, actor, view, texts("risk.signed_already"))
            return
        await turn_context.send_activity(texts("risk.saved", situation=factor.situation))
        await self._factor(turn_context, texts, actor, view, None)

    async def _store(self, view: AssessmentView, answer: Answer, actor: Actor) -> bool:
        """The answer saved, a local factor under the next free key; False once signed."""
        by, now = actor.person_id, self._clock()
        async with self._sessions() as session, session.begin():
            if answer.decision is Decision.LOCAL:
                added = await risk.add_local(
                    session, assessment_id=view.id, answer=answer, by=by, now=now
                )
                return added is not None
            return await risk.save_answer(
                session, assessment_id=view.id, answer=answer, by=by, now=now
            )

    async def _local(
        self,
        turn_context: TurnContext,
        texts: Texts,
        actor: Actor,
        view: AssessmentView,
        value: dict[str, Any],
    ) -> None:
        checked = check_local("", value)  # its key is given when it is stored
        if isinstance(checked, list):
            await turn_context.send_activity(_problems(texts, checked))
            return
        added = await self._store(view, checked, actor)
        view = await self._load(view.id) or view
        if not added:
            note = texts("risk.signed_already")
        else:
            note = texts("risk.local_added", situation=checked.situation)
        await self._send_card(turn_context, texts, actor, view, note)

    async def _remove_local(
        self, turn_context: TurnContext, texts: Texts, actor: Actor, view: AssessmentView, key: Any
    ) -> None:
        local = view.answers.get(key) if isinstance(key, str) else None
        if local is None or local.decision is not Decision.LOCAL:
            await turn_context.send_activity(texts("risk.unknown_factor"))
            await self._send_card(turn_context, texts, actor, view)
            return
        if view.linked.get(local.key):
            # A report tied to it would point at nothing: it stays, and can still be changed.
            await turn_context.send_activity(texts("risk.remove_tied", situation=local.situation))
            return
        async with self._sessions() as session, session.begin():
            removed = await risk.remove_local(session, assessment_id=view.id, key=local.key)
        view = await self._load(view.id) or view
        note = texts(
            "risk.removed" if removed else "risk.signed_already", situation=local.situation
        )
        await self._send_card(turn_context, texts, actor, view, note)

    async def _sign(
        self,
        turn_context: TurnContext,
        texts: Texts,
        actor: Actor,
        view: AssessmentView,
        value: dict[str, Any],
    ) -> None:
        checked = check_sign_off(view.factors, view.answers, value.get("risk_verneombod"))
        if isinstance(checked, list):
            waiting = [f.situation for f in view.factors if f.key not in view.answers]
            lines = [_problem(texts, p, waiting) for p in checked]
            await turn_context.send_activity("\n\n".join(lines))
            return
        async with self._sessions() as session, session.begin():
            signed = await risk.sign(
                session,
                assessment_id=view.id,
                verneombod=checked,
                by=actor.person_id,
                now=self._clock(),
            )
        view = await self._load(view.id) or view
        note = texts("risk.signed_now" if signed else "risk.signed_already")
        await self._send_card(turn_context, texts, actor, view, note)

    async def _revise(
        self, turn_context: TurnContext, texts: Texts, actor: Actor, view: AssessmentView
    ) -> None:
        if view.signed_at is None:
            await self._send_card(turn_context, texts, actor, view)
            return
        async with self._sessions() as session, session.begin():
            revision = await risk.new_revision(session, view=view, now=self._clock())
        opened = await self._load(revision)
        if opened is not None:
            note = texts("risk.revised", revision=opened.revision, signed=view.revision)
            await self._send_card(turn_context, texts, actor, opened, note)

    # --- the link back from a «vald og truslar» report ---------------------------------------

    async def _report(
        self, turn_context: TurnContext, texts: Texts, actor: Actor, value: dict[str, Any]
    ) -> handling.HandlingView | None:
        report_id = _id(value, "report")
        try:
            async with self._sessions() as session:
                report = await handling.handling_view(session, report_id=report_id or 0)
        except ReportNotFound:
            report = None
        if report is None or not may_handle(actor, report.scope, ignore_status=True):
            await turn_context.send_activity(texts("risk.unknown"))
            return None
        return report

    async def _link_form(
        self, turn_context: TurnContext, texts: Texts, actor: Actor, value: dict[str, Any]
    ) -> None:
        report = await self._report(turn_context, texts, actor, value)
        if report is None:
            return
        views: list[AssessmentView] = []
        linked = None
        async with self._sessions() as session:
            if report.unit_id is not None:
                views = await risk.current_for_units(session, [report.unit_id])
            linked = await risk.linked_factor(session, report.id)
        if not views:
            await turn_context.send_activity(texts("risk.none_for_report"))
            return
        # The frame it is tied to already, when the unit has several.
        view = next((v for v in views if linked and v.frame.title == linked[0]), views[0])
        keys = {f.key for f in view.factors} | {a.key for a in view.local}
        chosen = linked[1] if linked and linked[1] in keys else None
        card = link_card(
            texts, view, report_id=report.id, case_number=report.case_number, chosen=chosen
        )
        await turn_context.send_activity(
            card_message(card, summary=texts("risk.link_title", case=report.case_number))
        )

    async def _link(
        self,
        turn_context: TurnContext,
        texts: Texts,
        actor: Actor,
        view: AssessmentView,
        value: dict[str, Any],
    ) -> None:
        if not view.current:  # a form left from before a new version or revision
            await turn_context.send_activity(texts("risk.not_current"))
            await self._link_form(turn_context, texts, actor, value)
            return
        report = await self._report(turn_context, texts, actor, value)
        if report is None:
            return
        key = value.get("risk_factor")
        situation = None
        if isinstance(key, str):
            factor = view.factor(key)
            local = view.answers.get(key)
            situation = (
                factor.situation
                if factor
                else (local.situation if local and local.decision is Decision.LOCAL else None)
            )
        if report.unit_id != view.unit_id or situation is None:
            await turn_context.send_activity(texts("risk.problem_factor"))
            return
        assert isinstance(key, str)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await risk.link_report(
                session,
                report_id=report.id,
                assessment_id=view.id,
                key=key,
                by=actor.person_id,
                now=now,
            )
            session.add(
                ReportEvent(
                    report_id=report.id,
                    kind="risk_linked",
                    actor_id=actor.person_id,
                    detail=json.dumps({"assessment": view.id, "factor": key}),
                    at=now,
                )
            )
        await turn_context.send_activity(
            texts("risk.linked", case=report.case_number, situation=situation, unit=view.unit)
        )

    # --- the files behind the links ----------------------------------------------------------

    async def download(self, link: StatsLink) -> tuple[bytes, str, bool] | None:
        """(body, content type, attachment?) of a risk link, with the reader's rights now."""
        if link.item is None:
            return None
        texts = self._catalogues[link.language]
        async with self._sessions() as session:
            person = await handling.person_by_id(session, person_id=link.person_id)
            if person is None:
                return None  # forgotten since
            actor = await handling.actor_of(session, aad_object_id=person.aad_object_id)
            if link.kind is LinkKind.RISK_FRAME_MATRIX:
                frames = {f.id: f for f in await risk.current_frames(session)}
                if not may_publish_frames(actor) or link.item not in frames:
                    return None
                views = await risk.assessments_of_frame(session, link.item)
                title = texts(
                    "risk.frame_matrix_title", frame=frames[link.item].title, units=len(views)
                )
                cells = matrix(p_c for v in views for p_c in ratings_of(v))
                png = await asyncio.to_thread(render_matrix, cells, title, texts)
                return png, "image/png", False
            view = await risk.load(session, link.item)
        if view is None or not may_see_assessment(actor, view.unit_id):
            return None
        if link.kind is LinkKind.RISK_MATRIX:
            png = await asyncio.to_thread(render_matrix, view_matrix(view), view.unit, texts)
            return png, "image/png", False
        if link.kind is LinkKind.RISK_PDF:
            return await asyncio.to_thread(risk_pdf, view, texts), "application/pdf", True
        return await asyncio.to_thread(risk_xlsx, view, texts), XLSX, True


def _by_factor(links: Counter[tuple[int, str]]) -> Counter[tuple[int, str]]:
    """The frame's own factors counted over every unit (unit 0); a local one stays its unit's."""
    found: Counter[tuple[int, str]] = Counter()
    for (unit, key), n in links.items():
        found[(unit if key.startswith(LOCAL_PREFIX) else 0, key)] += n
    return found


def _problem(texts: Texts, problem: Problem, waiting: list[str] | None = None) -> str:
    if problem is Problem.UNANSWERED and waiting is not None:
        return texts("risk.problem_unanswered", count=len(waiting), first=waiting[0])
    return texts(f"risk.problem_{problem.value}")


def _problems(texts: Texts, problems: list[Problem]) -> str:
    return "\n\n".join(_problem(texts, p) for p in problems)
