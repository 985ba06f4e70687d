"""The leader's side: told of new reports, «opne avvik», and the handling card's buttons.

Every button press is checked again here, whatever the card says: who presses (`domain.access`),
the report's state now (`bot.desks.handling.next_status`) and the card's version (a stale card
changes nothing). After a change every copy of the card is redrawn in place, in each
reader's language and with what each may do. Every card that shows a report to someone other
than its reporter is a read, kept in the report's history (`storage.audit`).
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Card
from bot.cards.handling import handling_card
from bot.cards.open_reports import open_reports_card
from bot.desks.handling import HandlingRequest, Op, Refusal, next_status, read_request
from bot.desks.report_cards import card_message, problems_text
from bot.proactive.conversation_book import address_of
from bot.proactive.messenger import DeliveryFailed, Messenger
from dialogs.turn import Clock, Reporter
from domain.access import Actor, may_handle, may_see_reporter, may_view
from domain.categories import Categories
from domain.i18n import Catalogues, Texts
from domain.oslo_time import to_oslo
from domain.vocabulary import Status
from storage import audit, handling
from storage.categories import load_categories
from storage.conversations import ConversationAddress
from storage.db import SessionFactory
from storage.handling import HandlingView, NewMeasure, Recipient, ReportNotFound, StaleReport

logger = logging.getLogger(__name__)

# The event each move records; also the key of what the leader is told (`handling.<kind>`).
_KIND = {Op.ACKNOWLEDGE: "acknowledged", Op.MEASURE: "measure_added", Op.CLOSE: "closed"}


class LeaderDesk:
    def __init__(
        self,
        sessions: SessionFactory,
        messenger: Messenger,
        catalogues: Catalogues,
        clock: Clock,
        default_language: str,
    ) -> None:
        self._sessions = sessions
        self._messenger = messenger
        self._catalogues = catalogues
        self._clock = clock
        self._default_language = default_language

    # --- told of a new report -------------------------------------------------------------

    async def report_submitted(self, report_id: int) -> None:
        """Send the handling card to the unit's leaders (and the advisers where due). The one
        place that sends it: the outbox will take its place."""
        async with self._sessions() as session:
            recipients = await handling.recipients_of_new_report(session, report_id=report_id)
            view = await handling.handling_view(session, report_id=report_id)
            actors = await self._actors(session, recipients)
            categories = await load_categories(session)
        for recipient in recipients:
            texts = self._texts(recipient.language)
            card = self._card(actors[recipient.person_id], view, texts, categories)
            summary = texts("handling.new_for_leader", case=view.case_number)
            activity_id = await self.notify(
                recipient, card_message(card, summary=summary), about=f"report {report_id}"
            )
            if activity_id is None or recipient.address is None:
                continue
            await self._remember_card(
                report_id, recipient.person_id, recipient.address, activity_id
            )
            await self._record_read(view, recipient.person_id, audit.DELIVERED)

    async def notify(
        self, recipient: Recipient, message: Activity, *, about: str = "a notice"
    ) -> str | None:
        """Send one message to a leader (or adviser) in their personal chat with the bot: the
        one way every leader notice goes out. Returns the new message's id ("" when Teams gave
        none), or None when it was not delivered: the bot is not installed for them, or Teams
        refused it. Either is logged, with `about` (e.g. "report 12") and the person's id."""
        if recipient.address is None:
            logger.warning("%s: the bot is not installed for person %s", about, recipient.person_id)
            return None
        try:
            return await self._messenger.send(recipient.address, message)
        except DeliveryFailed:
            logger.warning("%s: could not be delivered to person %s", about, recipient.person_id)
            return None

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
            try:
                view = await handling.handling_view(session, report_id=report_id)
            except ReportNotFound:
                view = None
        if view is None or not may_view(actor, view.scope):
            # The same answer for «not there» and «not yours»: a card id reveals nothing.
            await turn_context.send_activity(texts("handling.not_found"))
            return
        card = self._card(actor, view, texts, categories)
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
        if view is None or not may_view(actor, view.scope):
            await turn_context.send_activity(texts("handling.not_found"))
            return
        moved = self._decide(actor, view, request)
        if isinstance(moved, Refusal):
            refusal: Refusal | None = moved
        else:
            refusal = await self._apply(actor, view, request, moved)
        if refusal is not None:
            await turn_context.send_activity(texts(f"handling.refused_{refusal.value}"))
            if refusal is Refusal.STALE:
                await self.refresh_cards(request.report_id)
            return
        await self.refresh_cards(request.report_id)
        done = texts(f"handling.{_KIND[request.op]}")
        if request.op is Op.CLOSE and not await self._tell_reporter(request.report_id, request):
            done = texts("handling.closed_not_told")
        await turn_context.send_activity(done)

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
    ) -> Refusal | None:
        detail: dict[str, object] = {"from": view.status.value, "to": moved.value}
        measure = None
        if request.measure is not None:
            measure = NewMeasure(
                request.measure.description, request.measure.owner, request.measure.due
            )
            detail["measure"] = request.measure.description
        if request.note is not None:
            detail["note"] = request.note
        try:
            async with self._sessions() as session, session.begin():
                await handling.change_report(
                    session,
                    report_id=view.id,
                    version=request.version,
                    status=moved,
                    actor_id=actor.person_id,
                    kind=_KIND[request.op],
                    now=self._clock(),
                    detail=detail,
                    measure=measure,
                )
        except StaleReport:
            return Refusal.STALE
        return None

    async def refresh_cards(self, report_id: int) -> None:
        """Redraw every copy of the report's card, for each reader as they may see it."""
        async with self._sessions() as session:
            view = await handling.handling_view(session, report_id=report_id)
            copies = await handling.cards_of(session, report_id=report_id)
            readers = {
                copy.person_id: await handling.person_by_id(session, person_id=copy.person_id)
                for copy in copies
            }
            actors = await self._actors(session, [r for r in readers.values() if r])
            categories = await load_categories(session)
        for copy in copies:
            reader = readers[copy.person_id]
            if reader is None:
                continue
            texts = self._texts(reader.language)
            card = self._card(actors[reader.person_id], view, texts, categories)
            summary = texts("handling.summary", case=view.case_number)
            try:
                await self._messenger.update(
                    copy.address, copy.activity_id, card_message(card, summary=summary)
                )
            except DeliveryFailed:
                logger.warning("report %s: a card could not be updated", report_id)

    async def _tell_reporter(self, report_id: int, request: HandlingRequest) -> bool:
        async with self._sessions() as session:
            reporter = await handling.reporter_of(session, report_id=report_id)
            view = await handling.handling_view(session, report_id=report_id)
        if reporter is None or reporter.address is None:
            return False
        texts = self._texts(reporter.language)
        message = MessageFactory.text(
            texts("handling.outcome", case=view.case_number, note=request.note or "")
        )
        try:
            await self._messenger.send(reporter.address, message)
        except DeliveryFailed:
            return False
        return True

    # --- helpers --------------------------------------------------------------------------

    def _texts(self, language: str | None) -> Texts:
        return self._catalogues[language or self._default_language]

    def _card(self, actor: Actor, view: HandlingView, texts: Texts, categories: Categories) -> Card:
        return handling_card(
            texts,
            view,
            categories,
            show_reporter=may_see_reporter(actor, view.scope),
            can_handle=may_handle(actor, view.scope),
            today=to_oslo(self._clock()).date(),
        )

    @staticmethod
    async def _actors(session: AsyncSession, people: list[Recipient]) -> dict[int, Actor]:
        """What each reader may do, read once per reader."""
        return {
            person.person_id: await handling.actor_of(session, aad_object_id=person.aad_object_id)
            for person in people
        }

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
