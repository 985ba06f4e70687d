"""What each kind of outbox row says, drawn when it is sent: the leader's card for a new
report, a card redrawn in place, the outcome to the reporter, the monthly nudge, and the word
to the HMS adviser that someone cannot be reached."""

from __future__ import annotations

from collections.abc import Callable

from botbuilder.core import MessageFactory
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desks.leader_desk import LeaderDesk
from bot.proactive.nudges import NUDGE, nudge_message
from bot.proactive.outbox_sender import Drawn, NotYet, Unreachable
from bot.proactive.reminder_messages import STEP_OF_KIND, ReminderMessages
from bot.proactive.reminders import KIND
from bot.proactive.tips import TipMessages
from dialogs.turn import Clock
from domain.access import may_view
from domain.i18n import Catalogues, Texts
from domain.reminders import ReminderRules, Step
from storage import handling, organisation, outbox
from storage.conversations import ConversationAddress
from storage.handling import CARD_UPDATE, NEW_REPORT, OUTCOME
from storage.outbox import NOT_INSTALLED, OutboxItem
from storage.tips import TIP, TIP_REPORT
from storage.under_reporting import mark_nudge_sent

UNREACHABLE = "unreachable"
# The kinds that go to leaders: when one of them cannot be delivered, the adviser is told.
_TO_LEADERS = frozenset(
    {NEW_REPORT, CARD_UPDATE, NUDGE}
    | {
        KIND[step]
        for step in (Step.REMIND, Step.MEASURE_SOON, Step.MEASURE_OVERDUE, Step.DUTY, Step.DIGEST)
    }
)


class OutboxMessages:
    def __init__(
        self,
        leaders: LeaderDesk,
        catalogues: Catalogues,
        clock: Clock,
        default_language: str,
        rules: ReminderRules | None = None,
    ) -> None:
        self._leaders = leaders
        self._catalogues = catalogues
        self._clock = clock
        self._default_language = default_language
        self._calendar = (rules or ReminderRules()).calendar
        self._reminders = ReminderMessages(
            leaders, catalogues, clock, default_language, rules or ReminderRules()
        )
        self._tips = TipMessages(catalogues, default_language)

    async def draw(
        self, session: AsyncSession, item: OutboxItem
    ) -> Drawn | Unreachable | NotYet | None:
        payload = item.payload
        if item.kind in STEP_OF_KIND or item.kind == TIP:
            # Queued in working hours; one woken or retried after them waits for the morning.
            now = self._clock()
            if not self._calendar.is_working_moment(now):
                return NotYet(self._calendar.next_working_moment(now))
        if item.kind in STEP_OF_KIND:
            return await self._reminders.draw(session, item)
        if item.kind in (TIP, TIP_REPORT):
            return await self._tips.draw(session, item)
        if item.kind == NEW_REPORT:
            return await self._leaders.draw_new_report(
                session, item.person_id, payload["report_id"]
            )
        if item.kind == CARD_UPDATE:
            return await self._leaders.draw_card_update(
                session, item.person_id, payload["report_id"], payload["card_id"]
            )
        if item.kind == OUTCOME:
            return await self._leaders.draw_outcome(session, item.person_id, payload["report_id"])
        if item.kind == NUDGE:
            return await self._text(
                session,
                item,
                lambda texts: nudge_message(
                    texts, unit_name=payload["unit_name"], month=payload["month"]
                ),
            )
        if item.kind == UNREACHABLE:
            name = await organisation.name_of(session, person_id=payload["person_id"])
            return await self._text(
                session, item, lambda texts: texts("outbox.unreachable", name=name or "?")
            )
        return None

    async def delivered(
        self,
        session: AsyncSession,
        item: OutboxItem,
        address: ConversationAddress,
        activity_id: str,
    ) -> None:
        if item.kind == NEW_REPORT or await self._showed_report_card(session, item):
            # A card that shows the report: kept to be redrawn, and a read in its history.
            await self._leaders.new_report_delivered(
                session, item.person_id, item.payload["report_id"], address, activity_id
            )
        elif item.kind == TIP_REPORT:
            await self._tips.delivered(session, item, address, activity_id)
        elif item.kind == NUDGE:
            await mark_nudge_sent(session, nudge_id=item.payload["nudge_id"], now=self._clock())

    def records_delivery(self, item: OutboxItem) -> bool:
        return item.kind in (NEW_REPORT, NUDGE, TIP_REPORT) or item.kind in _REPORT_CARD_STEPS

    async def _showed_report_card(self, session: AsyncSession, item: OutboxItem) -> bool:
        """A reminder drawn as the report's card: every one but the plain line a measure's
        owner gets when they may not read the report (bot/proactive/reminder_messages.py)."""
        if item.kind not in _REPORT_CARD_STEPS:
            return False
        if not item.payload.get("owner"):
            return True
        reader = await handling.person_by_id(session, person_id=item.person_id)
        if reader is None:
            return False
        try:
            view = await handling.handling_view(session, report_id=item.payload["report_id"])
        except handling.ReportNotFound:
            return False
        actor = await handling.actor_of(session, aad_object_id=reader.aad_object_id)
        return may_view(actor, view.scope)

    async def unreachable(self, session: AsyncSession, item: OutboxItem, reason: str) -> None:
        """Each adviser hears once of each leader the bot cannot write to."""
        if item.kind not in _TO_LEADERS:
            return
        for adviser in await organisation.adviser_ids(session):
            if adviser == item.person_id:
                continue
            await outbox.enqueue(
                session,
                person_id=adviser,
                kind=UNREACHABLE,
                payload={"person_id": item.person_id},
                dedupe_key=f"{UNREACHABLE}:{item.person_id}:{adviser}",
                now=self._clock(),
            )

    async def _text(
        self, session: AsyncSession, item: OutboxItem, say: Callable[[Texts], str]
    ) -> Drawn | Unreachable | None:
        recipient = await handling.person_by_id(session, person_id=item.person_id)
        if recipient is None:
            return None
        if recipient.address is None:
            return Unreachable(NOT_INSTALLED)
        texts = self._catalogues[recipient.language or self._default_language]
        return Drawn(recipient.address, MessageFactory.text(say(texts)))


# Reminders drawn as the report's handling card with a line above it.
_REPORT_CARD_STEPS = frozenset(
    KIND[step]
    for step in (Step.REMIND, Step.ESCALATE, Step.MEASURE_SOON, Step.MEASURE_OVERDUE, Step.DUTY)
)
