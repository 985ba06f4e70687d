"""The adviser's tips on their way: the scheduler starts a sending when its time comes (in
working hours; a series plans its next occurrence then), and keeps the adviser's report card
up to date; the outbox draws each tip for its reader and the report for the adviser."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.tips import report_card, tip_card
from bot.desks.report_cards import card_message
from bot.desks.tips_desk import moment_text
from bot.proactive.outbox_sender import Drawn, Unreachable
from dialogs.turn import Clock
from domain.i18n import Catalogues
from domain.tips import When
from domain.working_time import WorkingCalendar
from storage import handling, outbox, tips
from storage.conversations import ConversationAddress
from storage.db import SessionFactory
from storage.outbox import NOT_INSTALLED, OutboxItem
from storage.tips import TIP, TIP_REPORT

logger = logging.getLogger(__name__)

REPORT_DAYS = 14  # the report card follows the votes for two weeks after a sending
_CARD_SECONDS = 10.0
_CARDS_KEPT = 100


class TipMessages:
    def __init__(self, catalogues: Catalogues, default_language: str) -> None:
        self._catalogues = catalogues
        self._default_language = default_language
        # A sending's card, drawn once for its thousands of rows: the content of a tip that is
        # being sent does not change (stopping it fails its rows in the outbox instead).
        self._cards: dict[int, tuple[float, Activity]] = {}

    async def draw(self, session: AsyncSession, item: OutboxItem) -> Drawn | Unreachable | None:
        delivery_id = int(item.payload["delivery_id"])
        if item.kind == TIP:
            reader = await handling.person_by_id(session, person_id=item.person_id)
            if reader is None:
                return None
            if reader.address is None:
                return Unreachable(NOT_INSTALLED)
            message = await self._tip_message(session, delivery_id)
            return Drawn(reader.address, message) if message is not None else None
        delivery = await tips.delivery(session, delivery_id)
        if delivery is None:
            return None
        stored = await tips.get_tip(session, delivery.tip_id)
        reader = await handling.person_by_id(session, person_id=item.person_id)
        if stored is None or reader is None:
            return None
        texts = self._catalogues[reader.language or self._default_language]
        figures = await tips.figures(session, delivery_id=delivery.id)
        card = report_card(
            texts,
            stored,
            figures,
            started=moment_text(texts, delivery.due_at),
            stoppable=figures.queued > 0 and stored.status == tips.ACTIVE,
        )
        message = card_message(card, summary=texts("tips.report_title", title=stored.tip.title))
        if reader.address is None:
            return Unreachable(NOT_INSTALLED)
        same_chat = delivery.report_conversation_id == reader.address.conversation_id
        if delivery.report_activity_id and same_chat:
            return Drawn(reader.address, message, replaces=delivery.report_activity_id)
        return Drawn(reader.address, message)

    async def _tip_message(self, session: AsyncSession, delivery_id: int) -> Activity | None:
        now = time.monotonic()
        cached = self._cards.get(delivery_id)
        if cached is not None and cached[0] > now:
            return copy.deepcopy(cached[1])
        delivery = await tips.delivery(session, delivery_id)
        stored = await tips.get_tip(session, delivery.tip_id) if delivery else None
        if delivery is None or stored is None or stored.status == tips.CANCELLED:
            return None
        texts = self._catalogues[stored.tip.language]
        card = tip_card(texts, stored.tip, delivery_id=delivery.id)
        message = card_message(card, summary=stored.tip.title)
        if len(self._cards) > _CARDS_KEPT:
            self._cards.clear()
        self._cards[delivery_id] = (now + _CARD_SECONDS, message)
        return copy.deepcopy(message)

    async def delivered(
        self,
        session: AsyncSession,
        item: OutboxItem,
        address: ConversationAddress,
        activity_id: str,
    ) -> None:
        if item.kind != TIP_REPORT or not activity_id:
            return
        delivery = await tips.delivery(session, int(item.payload["delivery_id"]))
        if delivery is not None and delivery.report_activity_id != activity_id:
            await tips.record_report_card(
                session,
                delivery_id=delivery.id,
                conversation_id=address.conversation_id,
                activity_id=activity_id,
            )


class TipsScheduler:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        calendar: WorkingCalendar,
        *,
        ring: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._calendar = calendar
        self._ring = ring

    async def queue_due(self) -> int:
        """Start what is due (in working hours), and redraw the report of every sending whose
        figures moved; how many rows were queued."""
        now = self._clock()
        queued = 0
        if self._calendar.is_working_moment(now):
            async with self._sessions() as session, session.begin():
                for delivery_id in await tips.due_deliveries(session, now=now):
                    queued += await tips.start_delivery(session, delivery_id=delivery_id, now=now)
                    await tips.plan_next(
                        session, delivery_id=delivery_id, now=now, calendar=self._calendar
                    )
        async with self._sessions() as session, session.begin():
            for delivery in await tips.sending(session):
                if delivery.due_at < now - timedelta(days=REPORT_DAYS):
                    continue
                stored = await tips.get_tip(session, delivery.tip_id)
                if stored is None or stored.created_by_id is None:
                    continue
                figures = await tips.figures(session, delivery_id=delivery.id)
                number, shown = await tips.last_report(session, delivery_id=delivery.id)
                if figures.key != shown:
                    queued += await outbox.enqueue(
                        session,
                        person_id=stored.created_by_id,
                        kind=TIP_REPORT,
                        payload={"delivery_id": delivery.id},
                        dedupe_key=f"{TIP_REPORT}:{delivery.id}:{number + 1}:{figures.key}",
                        now=now,
                    )
                if figures.queued == 0 and stored.schedule.when is not When.SERIES:
                    await tips.mark_done(session, tip_id=stored.id)
        if queued:
            self._ring()
        return queued
