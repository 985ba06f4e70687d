"""What a reminder says, drawn when the outbox sends it — and whether it still should: a
report acknowledged, snoozed or closed since, a measure done, or a leader who no longer leads
the unit, and the reminder is dropped, not sent (the scheduler queues it for whoever leads the
unit now)."""

from __future__ import annotations

from botbuilder.core import MessageFactory
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.reminders import digest_card
from bot.desks.leader_desk import LeaderDesk
from bot.desks.report_cards import card_message
from bot.proactive.outbox_sender import Drawn, Unreachable
from bot.proactive.reminders import KIND
from dialogs.turn import Clock
from domain.access import Actor
from domain.categories import Categories
from domain.duties import Duty, open_duties
from domain.i18n import Catalogues, Texts
from domain.oslo_time import format_date, to_oslo
from domain.reminders import ReminderRules, Step
from domain.vocabulary import Status
from storage import handling, reminders
from storage.handling import HandlingView
from storage.handling_stats import handling_section, unit_refs
from storage.outbox import NOT_INSTALLED, OutboxItem
from storage.reminders import ReminderSubject

STEP_OF_KIND = {kind: step for step, kind in KIND.items()}


class ReminderMessages:
    def __init__(
        self,
        leaders: LeaderDesk,
        catalogues: Catalogues,
        clock: Clock,
        default_language: str,
        rules: ReminderRules,
    ) -> None:
        self._leaders = leaders
        self._catalogues = catalogues
        self._clock = clock
        self._default_language = default_language
        self._rules = rules

    async def draw(self, session: AsyncSession, item: OutboxItem) -> Drawn | Unreachable | None:
        step = STEP_OF_KIND[item.kind]
        if step is Step.DIGEST:
            return await self._digest(session, item.person_id)
        if step is Step.DUTY:
            return await self._duty(session, item)
        report_id = int(item.payload["report_id"])
        measure_id = item.payload.get("measure_id")
        subject = await reminders.subject(
            session, report_id=report_id, measure_id=int(measure_id) if measure_id else None
        )
        if subject is None or not self._still_due(step, subject):
            return None
        days = self._rules.escalate_days if step is Step.ESCALATE else self._rules.acknowledge_days

        def text(texts: Texts, view: HandlingView) -> str:
            return _says(texts, step, subject, days)

        drawn = await self._leaders.draw_report_card(
            session,
            item.person_id,
            report_id,
            summary=lambda texts, view: texts("reminder.summary", case=view.case_number),
            text=text,
        )
        if drawn is not None or subject.measure_description is None:
            return drawn
        if not item.payload.get("owner"):
            return None  # a leader who no longer leads the unit: dropped
        # The measure's owner, who may not read the report: what to do and by when, no more.
        owner = await handling.person_by_id(session, person_id=item.person_id)
        if owner is None:
            return None
        if owner.address is None:
            return Unreachable(NOT_INSTALLED)
        texts = self._texts(owner.language)
        return Drawn(owner.address, MessageFactory.text(_says(texts, step, subject, days)))

    def _still_due(self, step: Step, subject: ReminderSubject) -> bool:
        today = to_oslo(self._clock()).date()
        snoozed = subject.snoozed_until is not None and today < subject.snoozed_until
        if step is Step.ESCALATE:
            return subject.status is Status.NEW
        if step is Step.REMIND:
            return subject.status is Status.NEW and not snoozed
        return subject.status is not Status.CLOSED and not subject.measure_done and not snoozed

    async def _duty(self, session: AsyncSession, item: OutboxItem) -> Drawn | Unreachable | None:
        """The card with the duties that wait above it; dropped when they were answered (or no
        longer apply: a judgement changed the report), or the report was closed or snoozed."""
        report_id = int(item.payload["report_id"])
        try:
            view = await handling.handling_view(session, report_id=report_id)
        except handling.ReportNotFound:
            return None
        today = to_oslo(self._clock()).date()
        snoozed = view.snoozed_until is not None and today < view.snoozed_until

        def due(duty: Duty) -> bool:
            answer = view.answers.get(duty)
            return answer is None or answer.later_until is None or answer.later_until <= today

        waiting = [d for d in open_duties(view.duties, view.answers) if due(d)]
        if view.status is Status.CLOSED or snoozed or not waiting:
            return None
        return await self._leaders.draw_report_card(
            session,
            item.person_id,
            report_id,
            summary=lambda texts, view: texts("reminder.summary", case=view.case_number),
            text=lambda texts, view: texts(
                "reminder.duty",
                case=view.case_number,
                unit=view.unit_name or "–",
                duty="; ".join(texts(f"duty.{d.value}") for d in waiting),
            ),
        )

    async def _digest(self, session: AsyncSession, person_id: int) -> Drawn | Unreachable | None:
        leader = await handling.person_by_id(session, person_id=person_id)
        if leader is None:
            return None
        actor = await handling.actor_of(session, aad_object_id=leader.aad_object_id)
        # The leader's own units only: an adviser who also leads a unit gets that unit's digest.
        lines = await handling.open_reports(
            session, actor=Actor(actor.person_id, led_units=actor.led_units)
        )
        if not lines or not actor.led_units:
            return None
        if leader.address is None:
            return Unreachable(NOT_INSTALLED)
        texts = self._texts(leader.language)
        now = self._clock()
        # How the leader's units have handled this year's avvik, so far.
        year = to_oslo(now).year
        handled = await handling_section(
            session,
            months=(year * 100 + 1, year * 100 + 12),
            units=await unit_refs(session, actor.led_units),
            everything=False,
            end=now,
            calendar=self._rules.calendar,
            category_list=Categories(()),
            cause_list=Categories(()),
        )
        card = digest_card(texts, lines, handled.everything)
        return Drawn(leader.address, card_message(card, summary=texts("digest.summary")))

    def _texts(self, language: str | None) -> Texts:
        return self._catalogues[language or self._default_language]


def _says(texts: Texts, step: Step, subject: ReminderSubject, days: int) -> str:
    unit = subject.unit_name or "–"
    if step in (Step.REMIND, Step.ESCALATE):
        return texts(
            f"reminder.{step.value}",
            case=subject.case_number,
            unit=unit,
            date=format_date(subject.reported_at),
            days=days,
        )
    due = subject.measure_due.strftime("%d.%m.%Y") if subject.measure_due else "–"
    return texts(
        f"reminder.{step.value}",
        case=subject.case_number,
        unit=unit,
        what=subject.measure_description or "",
        due=due,
    )
