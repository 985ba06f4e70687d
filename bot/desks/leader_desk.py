"""The leader's side: told of new reports, «opne avvik», and the handling card's buttons.

Every button press is checked again here, whatever the card says: who presses (`domain.access`),
the report's state now (`bot.desks.handling.next_status`) and the card's version (a stale card
changes nothing). After a change every copy of the card is redrawn in place, in each
reader's language and with what each may do, through the outbox (bot.proactive.outbox_sender):
the rows are written in the same transaction as the change. Every card that shows a report to
someone other than its reporter is a read, kept in the report's history (`storage.audit`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Card
from bot.cards.handling import handling_card
from bot.cards.open_reports import open_reports_card
from bot.cards.reminders import overdue_card
from bot.desks.handling import (
    HandlingRequest,
    Op,
    Refusal,
    next_status,
    read_request,
)
from bot.desks.report_cards import card_message, problems_text
from bot.desks.report_form import FieldProblem
from bot.proactive.conversation_book import address_of
from bot.proactive.outbox_sender import Drawn, Unreachable
from dialogs.turn import Clock, Reporter
from domain.access import Actor, may_handle, may_see_reporter, may_view
from domain.answers import Problem
from domain.categories import Categories
from domain.duties import is_serious
from domain.i18n import Catalogues, Texts
from domain.oslo_time import to_oslo
from domain.reminders import ReminderRules
from domain.vocabulary import Status
from storage import audit, handling, reminders
from storage.categories import load_categories, load_causes
from storage.conversations import ConversationAddress
from storage.db import SessionFactory
from storage.handling import (
    Changes,
    HandlingView,
    NewMeasure,
    Recipient,
    ReportNotFound,
    StaleReport,
)
from storage.outbox import NOT_INSTALLED

logger = logging.getLogger(__name__)

# The event each move records; also the key of what the leader is told (`handling.<kind>`).
_KIND = {
    Op.ACKNOWLEDGE: "acknowledged",
    Op.START: "started",
    Op.MEASURE: "measure_added",
    Op.JUDGE: "judged",
    Op.CAUSE: "cause_set",
    Op.DUTIES: "duties_answered",
    Op.CLOSE: "closed",
    Op.SNOOZE: "snoozed",
}


class LeaderDesk:
    def __init__(
        self,
        sessions: SessionFactory,
        catalogues: Catalogues,
        clock: Clock,
        default_language: str,
        *,
        rules: ReminderRules | None = None,
        ring: Callable[[], None] = lambda: None,
    ) -> None:
        self._rules = rules or ReminderRules()
        self._sessions = sessions
        self._catalogues = catalogues
        self._clock = clock
        self._default_language = default_language
        # Tells the outbox's sender that something was queued (bot.proactive.outbox_sender).
        self._ring = ring

    # --- what the outbox sends (drawn when it is sent, for the reader as they are then) ---

    async def draw_new_report(
        self, session: AsyncSession, person_id: int, report_id: int
    ) -> Drawn | Unreachable | None:
        return await self.draw_report_card(
            session,
            person_id,
            report_id,
            summary=lambda texts, view: texts(
                "handling.new_serious"
                if is_serious(view.harm, view.severity)
                else "handling.new_for_leader",
                case=view.case_number,
            ),
        )

    async def draw_report_card(
        self,
        session: AsyncSession,
        person_id: int,
        report_id: int,
        *,
        summary: Callable[[Texts, HandlingView], str],
        text: Callable[[Texts, HandlingView], str] | None = None,
    ) -> Drawn | Unreachable | None:
        """The report's card for a reader, as they may see it now, with a line above it (a
        reminder); None when it is no longer theirs to read (they left the unit)."""
        reader = await handling.person_by_id(session, person_id=person_id)
        try:
            view = await handling.handling_view(session, report_id=report_id)
        except ReportNotFound:
            return None
        if reader is None:
            return None
        if not await self._may_view(session, reader, view):
            return None
        if reader.address is None:
            return Unreachable(NOT_INSTALLED)
        texts = self._texts(reader.language)
        card = await self._card_for(session, reader, view, texts)
        message = card_message(card, summary=summary(texts, view))
        if text is not None:
            message.text = text(texts, view)
        return Drawn(reader.address, message)

    async def new_report_delivered(
        self,
        session: AsyncSession,
        person_id: int,
        report_id: int,
        address: ConversationAddress,
        activity_id: str,
    ) -> None:
        """Keep the card (in the chat it went to) to redraw it later, and the delivery as a
        read of the report."""
        now = self._clock()
        if activity_id:
            await handling.record_card(
                session,
                report_id=report_id,
                person_id=person_id,
                conversation_id=address.conversation_id,
                activity_id=activity_id,
                now=now,
            )
        view = await handling.handling_view(session, report_id=report_id)
        if person_id != view.reporter_id:
            await audit.record_read(
                session, report_id=report_id, reader_id=person_id, via=audit.DELIVERED, now=now
            )

    async def draw_card_update(
        self, session: AsyncSession, person_id: int, report_id: int, card_id: int
    ) -> Drawn | Unreachable | None:
        copy = await handling.card_copy(session, card_id=card_id)
        reader = await handling.person_by_id(session, person_id=person_id)
        if copy is None or reader is None:
            return None
        try:
            view = await handling.handling_view(session, report_id=report_id)
        except ReportNotFound:
            return None
        if not await self._may_view(session, reader, view):
            return None
        texts = self._texts(reader.language)
        card = await self._card_for(session, reader, view, texts)
        summary = texts("handling.summary", case=view.case_number)
        return Drawn(copy.address, card_message(card, summary=summary), replaces=copy.activity_id)

    async def draw_outcome(
        self, session: AsyncSession, person_id: int, report_id: int
    ) -> Drawn | Unreachable | None:
        reporter = await handling.person_by_id(session, person_id=person_id)
        if reporter is None:
            return None
        if reporter.address is None:
            return Unreachable(NOT_INSTALLED)
        try:
            view = await handling.handling_view(session, report_id=report_id)
        except ReportNotFound:
            return None
        note = await handling.closing_note(session, report_id=report_id)
        texts = self._texts(reporter.language)
        text = texts("handling.outcome", case=view.case_number, note=note)
        return Drawn(reporter.address, MessageFactory.text(text))

    # --- «opne avvik» and «vis» -----------------------------------------------------------

    async def send_open(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> None:
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            if not actor.follows_reports:
                await turn_context.send_activity(texts("open.not_a_leader"))
                return
            lines = await handling.open_reports(session, actor=actor)
            categories = await load_categories(session)
        card = open_reports_card(texts, lines, categories)
        await turn_context.send_activity(
            card_message(card, summary=texts("open.title", count=len(lines)))
        )

    async def send_overdue(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> None:
        """The adviser's «forfalne»: reports not acknowledged after the reminder's working days
        (those the scheduler reminds of) and measures past their deadline, across the
        organisation."""
        now = self._clock()
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            if not actor.is_adviser:
                await turn_context.send_activity(texts("overdue.not_adviser"))
                return
            found = await reminders.overdue(session, today=to_oslo(now).date(), acknowledge_by=now)
        calendar, days = self._rules.calendar, self._rules.acknowledge_days
        late = [
            r
            for r in found.not_acknowledged
            if calendar.add_working_days(r.reported_at, days) <= now
        ]
        card = overdue_card(texts, replace(found, not_acknowledged=late), acknowledge_days=days)
        await turn_context.send_activity(card_message(card, summary=texts("overdue.title")))

    async def show(
        self, turn_context: TurnContext, texts: Texts, who: Reporter, value: Any
    ) -> None:
        report_id = value.get("report") if isinstance(value, dict) else None
        if not isinstance(report_id, int) or isinstance(report_id, bool):
            await turn_context.send_activity(texts("problem.form_stale"))
            return
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            categories = await load_categories(session)
            causes = await load_causes(session)
            try:
                view = await handling.handling_view(session, report_id=report_id)
            except ReportNotFound:
                view = None
        if view is None or not may_view(actor, view.scope):
            # The same answer for «not there» and «not yours»: a card id reveals nothing.
            await turn_context.send_activity(texts("handling.not_found"))
            return
        card = self._card(actor, view, texts, categories, causes)
        response = await turn_context.send_activity(
            card_message(card, summary=texts("handling.summary", case=view.case_number))
        )
        address = address_of(turn_context.activity)
        if response and response.id and actor.person_id is not None and address:
            await self._remember_card(view.id, actor.person_id, address, response.id)
        if actor.person_id is not None:
            await self._record_read(view, actor.person_id, audit.SHOWN)

    # --- a button on the handling card ----------------------------------------------------

    async def act(self, turn_context: TurnContext, texts: Texts, who: Reporter, value: Any) -> None:
        today = to_oslo(self._clock()).date()
        request = read_request(value, today=today)
        if isinstance(request, list):
            await turn_context.send_activity(problems_text(texts, request))
            return
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            try:
                view = await handling.handling_view(session, report_id=request.report_id)
            except ReportNotFound:
                view = None
            lists = (await load_categories(session), await load_causes(session))
        if view is None or not may_view(actor, view.scope):
            await turn_context.send_activity(texts("handling.not_found"))
            return
        moved = self._decide(actor, view, request)
        wrong = [] if isinstance(moved, Refusal) else _against_lists(view, request, *lists)
        if wrong:
            await turn_context.send_activity(problems_text(texts, wrong))
            return
        applied = (
            moved if isinstance(moved, Refusal) else await self._apply(actor, view, request, moved)
        )
        if isinstance(applied, Refusal):
            await turn_context.send_activity(texts(f"handling.refused_{applied.value}"))
            if applied is Refusal.STALE:
                await self._redraw(request.report_id)
            return
        done = texts(f"handling.{_KIND[request.op]}")
        if request.op is Op.CLOSE and not applied:
            done = texts("handling.closed_not_told")
        if request.op is Op.SNOOZE and request.snooze_until is not None:
            done = texts(
                "handling.snoozed",
                case=view.case_number,
                date=request.snooze_until.strftime("%d.%m.%Y"),
            )
        await turn_context.send_activity(done)
        if request.op is Op.JUDGE and request.judgement is not None:
            judged = request.judgement
            if is_serious(view.harm, judged.severity) and not is_serious(view.harm, view.severity):
                await turn_context.send_activity(texts("handling.judged_serious"))

    @staticmethod
    def _decide(actor: Actor, view: HandlingView, request: HandlingRequest) -> Status | Refusal:
        """Where the report moves, or why it does not."""
        if not may_handle(actor, view.scope, ignore_status=True):
            return Refusal.NOT_ALLOWED
        moved = next_status(request.op, view.status)
        if not isinstance(moved, Refusal) and view.version != request.version:
            return Refusal.STALE
        return moved

    async def _apply(
        self, actor: Actor, view: HandlingView, request: HandlingRequest, moved: Status
    ) -> Refusal | bool:
        """The change, with what the outbox sends about it; True when the reporter will be
        told at once (closing), False when they cannot be reached yet."""
        detail: dict[str, object] = {"from": view.status.value, "to": moved.value}
        measure = None
        if request.measure is not None:
            measure = NewMeasure(
                request.measure.description, request.measure.owner, request.measure.due
            )
            detail["measure"] = request.measure.description
        if request.note is not None:
            detail["note"] = request.note
        if request.snooze_until is not None:
            detail["until"] = request.snooze_until.isoformat()
        # Only what the leader changed; a judgement's reason is kept in the history.
        judged, cause = request.judgement, request.cause
        severity = judged.severity if judged and judged.severity != view.severity else None
        category = judged.category if judged and judged.category != view.category else None
        if judged is not None:
            if severity is not None:
                detail |= {"severity_from": view.severity, "severity_to": severity}
            if category is not None:
                detail |= {"category_from": view.category, "category_to": category}
            detail["why"] = judged.reason
        if cause is not None:
            detail["cause"] = cause.code
            if cause.text:
                detail["text"] = cause.text
        if request.duties:
            detail["duties"] = {a.duty.value: a.answer.value for a in request.duties}
            later = next((a.later_until for a in request.duties if a.later_until), None)
            if later is not None:
                detail["until"] = later.isoformat()
        changes = Changes(
            snooze_until=request.snooze_until,
            severity=severity,
            category=category,
            cause=(cause.code, cause.text) if cause is not None else None,
            duty_answers=request.duties,
        )
        now = self._clock()
        try:
            async with self._sessions() as session, session.begin():
                version = await handling.change_report(
                    session,
                    report_id=view.id,
                    version=request.version,
                    status=moved,
                    actor_id=actor.person_id,
                    kind=_KIND[request.op],
                    now=now,
                    detail=detail,
                    measure=measure,
                    changes=changes,
                )
                # In the same transaction: every copy redrawn, and on closing the reporter told.
                await handling.enqueue_card_updates(
                    session, report_id=view.id, version=version, now=now
                )
                if changes.severity is not None:
                    # Raised to a serious injury (or to high): whoever must now be told, is;
                    # those told before are not told twice (the outbox's keys).
                    await handling.enqueue_report_notices(session, report_id=view.id, now=now)
                told = request.op is Op.CLOSE and await handling.enqueue_outcome(
                    session, report_id=view.id, now=now
                )
        except StaleReport:
            return Refusal.STALE
        self._ring()
        return told

    async def _redraw(self, report_id: int) -> None:
        """Every copy of the report's card, as it stands now (a stale one was pressed)."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            view = await handling.handling_view(session, report_id=report_id)
            await handling.enqueue_card_updates(
                session,
                report_id=report_id,
                version=view.version,
                now=now,
                again=f":redraw:{now.isoformat()}",
            )
        self._ring()

    # --- helpers --------------------------------------------------------------------------

    def _texts(self, language: str | None) -> Texts:
        return self._catalogues[language or self._default_language]

    def _card(
        self,
        actor: Actor,
        view: HandlingView,
        texts: Texts,
        categories: Categories,
        causes: Categories,
    ) -> Card:
        return handling_card(
            texts,
            view,
            categories,
            show_reporter=may_see_reporter(actor, view.scope),
            can_handle=may_handle(actor, view.scope),
            today=to_oslo(self._clock()).date(),
            causes=causes,
        )

    @staticmethod
    async def _may_view(session: AsyncSession, reader: Recipient, view: HandlingView) -> bool:
        actor = await handling.actor_of(session, aad_object_id=reader.aad_object_id)
        return may_view(actor, view.scope)

    async def _card_for(
        self, session: AsyncSession, reader: Recipient, view: HandlingView, texts: Texts
    ) -> Card:
        """The card as this reader may see it now: their rights, their language."""
        actor = await handling.actor_of(session, aad_object_id=reader.aad_object_id)
        return self._card(
            actor, view, texts, await load_categories(session), await load_causes(session)
        )

    async def _record_read(self, view: HandlingView, reader_id: int, via: str) -> None:
        if reader_id == view.reporter_id:  # reading one's own report is no one else's business
            return
        async with self._sessions() as session, session.begin():
            await audit.record_read(
                session, report_id=view.id, reader_id=reader_id, via=via, now=self._clock()
            )

    async def _remember_card(
        self, report_id: int, person_id: int, address: ConversationAddress, activity_id: str
    ) -> None:
        if not activity_id:
            return
        async with self._sessions() as session, session.begin():
            await handling.record_card(
                session,
                report_id=report_id,
                person_id=person_id,
                conversation_id=address.conversation_id,
                activity_id=activity_id,
                now=self._clock(),
            )


def _against_lists(
    view: HandlingView, request: HandlingRequest, categories: Categories, causes: Categories
) -> list[FieldProblem]:
    """What the municipality's lists say of the codes the card sent: a category or cause it
    offers (or the report's own, kept even when retired), a cause before closing, and a
    judgement that changes something."""
    problems: list[FieldProblem] = []
    judged = request.judgement
    if judged is not None:
        category = categories.get(judged.category)
        if judged.category != view.category and (category is None or not category.active):
            problems.append(FieldProblem("judge_category", Problem("form_choice")))
        elif (judged.severity, judged.category) == (view.severity, view.category):
            problems.append(FieldProblem(None, Problem("judge_unchanged")))
    cause = request.cause
    field = "close_cause" if request.op is Op.CLOSE else "cause"
    if cause is not None:
        known = causes.get(cause.code)
        if cause.code != view.cause and (known is None or not known.active):
            problems.append(FieldProblem(field, Problem("form_choice")))
    if request.op is Op.CLOSE and cause is None and view.cause is None:
        problems.append(FieldProblem(field, Problem("cause_needed")))
    return problems
