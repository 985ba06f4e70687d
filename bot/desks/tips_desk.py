"""«nytt tips» and «tips» in Teams: the HMS adviser writes a tip on a card, sees it as the
leaders will with how many it reaches now, and sends it, schedules it, changes or drops it;
the library lists what was sent with its figures. Recipients vote «Nyttig» / «Ikkje nyttig».

Only an HMS adviser or an admin may write, send or stop a tip; every press of a tip card's
buttons is checked again here, whatever the card says.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from botbuilder.core import TurnContext

from bot.cards.tips import (
    AGAIN,
    CANCEL,
    COMPOSE,
    DISCARD,
    EDIT,
    INPUTS,
    SEND,
    VOTE,
    LibraryLine,
    Place,
    compose_card,
    library_card,
    preview_card,
    tip_card,
)
from bot.desks.report_cards import card_message
from dialogs.turn import Clock, Reporter
from domain.access import Actor
from domain.i18n import Catalogues, Texts
from domain.oslo_time import OSLO, to_oslo
from domain.tips import (
    SECTION_MAX,
    SECTIONS,
    Audience,
    AudienceKind,
    Schedule,
    Tip,
    TipProblem,
    When,
    allowed,
    card_size_problem,
    check_schedule,
    check_tip,
    first_time,
    read_links,
)
from domain.training import Module
from domain.vocabulary import Role
from domain.working_time import WorkingCalendar
from storage import handling, tips
from storage.db import SessionFactory

logger = logging.getLogger(__name__)
_DAYS = {
    "nn": ("måndag", "tysdag", "onsdag", "torsdag", "fredag", "laurdag", "søndag"),
    "nb": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def may_write_tips(actor: Actor) -> bool:
    return actor.is_adviser or Role.ADMIN in actor.roles


def moment_text(texts: Texts, moment: datetime) -> str:
    local = to_oslo(moment)
    weekday = _DAYS.get(texts.language, _DAYS["en"])[local.weekday()]
    return texts(
        "tips.moment",
        weekday=weekday,
        date=local.strftime("%d.%m.%Y"),
        time=local.strftime("%H:%M"),
    )


class TipsDesk:
    def __init__(
        self,
        sessions: SessionFactory,
        catalogues: Catalogues,
        clock: Clock,
        calendar: WorkingCalendar,
        *,
        ring: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._catalogues = catalogues
        self._clock = clock
        self._calendar = calendar
        self._ring = ring

    # --- «nytt tips» and «tips» -------------------------------------------------------------

    async def compose(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> None:
        if await self._refused(turn_context, texts, who):
            return
        card = compose_card(texts, await self._places())
        await turn_context.send_activity(card_message(card, summary=texts("tips.compose_title")))

    async def library(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> None:
        if await self._refused(turn_context, texts, who):
            return
        lines = []
        async with self._sessions() as session:
            for stored in await tips.latest_tips(session):
                deliveries = await tips.deliveries_of(session, stored.id)
                sent = useful = not_useful = 0
                for delivery in deliveries:
                    figures = await tips.figures(session, delivery_id=delivery.id)
                    sent, useful = sent + figures.sent, useful + figures.useful
                    not_useful += figures.not_useful
                when = moment_text(texts, deliveries[-1].due_at) if deliveries else "–"
                lines.append(
                    LibraryLine(
                        stored,
                        when,
                        sent,
                        useful,
                        not_useful,
                        cancellable=stored.status == tips.ACTIVE,
                    )
                )
        card = library_card(texts, lines)
        await turn_context.send_activity(card_message(card, summary=texts("tips.library_title")))

    # --- a button on a tip card ---------------------------------------------------------------

    async def act(self, turn_context: TurnContext, texts: Texts, who: Reporter, value: Any) -> None:
        action = value.get("action") if isinstance(value, Mapping) else None
        if action == VOTE:
            await self._vote(turn_context, texts, who, value)
            return
        if await self._refused(turn_context, texts, who):
            return
        tip_id = _int(value.get("tip"))
        if action == COMPOSE:
            await self._preview_from_form(turn_context, texts, who, value, tip_id)
            return
        async with self._sessions() as session:
            stored = await tips.get_tip(session, tip_id) if tip_id else None
        if stored is None:
            await turn_context.send_activity(texts("tips.gone"))
            return
        if action in (SEND, EDIT, DISCARD) and _int(value.get("version")) != stored.version:
            await turn_context.send_activity(texts("tips.stale"))
            return
        if action == SEND:
            await self._send(turn_context, texts, stored)
        elif action == EDIT:
            if stored.status not in (tips.DRAFT, tips.ACTIVE) or await self._started(stored.id):
                await turn_context.send_activity(texts("tips.not_editable"))
                return
            card = compose_card(texts, await self._places(), stored)
            await turn_context.send_activity(card_message(card, summary=stored.tip.title))
        elif action == DISCARD:
            async with self._sessions() as session, session.begin():
                dropped = await tips.discard_draft(session, tip_id=stored.id)
            await turn_context.send_activity(
                texts("tips.discarded" if dropped else "tips.not_a_draft")
            )
        elif action == CANCEL:
            await self._cancel(turn_context, texts, stored)
        elif action == AGAIN:
            await self._again(turn_context, texts, who, stored)

    # --- the steps --------------------------------------------------------------------------

    async def _preview_from_form(
        self,
        turn_context: TurnContext,
        texts: Texts,
        who: Reporter,
        value: Mapping[str, Any],
        tip_id: int | None,
    ) -> None:
        read = read_form(value, language=texts.language)
        if isinstance(read, list):
            await turn_context.send_activity(problems_text(texts, read))
            return
        tip, audience, schedule = read
        now = self._clock()
        if tip_id is not None:
            # A module's tip, changed: it still invites to the module (the form has no field).
            async with self._sessions() as session:
                before = await tips.get_tip(session, tip_id)
            if before is not None and before.tip.training:
                tip = replace(tip, training=before.tip.training)
        problems = [
            *check_tip(tip),
            *check_schedule(schedule, now, self._calendar),
        ]
        size = card_size_problem(tip_card(self._catalogues[tip.language], tip, delivery_id=1))
        if size:
            problems.append(size)
        if problems:
            await turn_context.send_activity(problems_text(texts, problems))
            return
        async with self._sessions() as session, session.begin():
            author = await handling.actor_of(session, aad_object_id=who.identity)
            stored_id = await tips.save_draft(
                session,
                tip=tip,
                audience=audience,
                schedule=schedule,
                author_id=author.person_id,
                now=now,
                tip_id=tip_id,
            )
        await self._show_preview(turn_context, texts, stored_id)

    async def draft_from_module(
        self, turn_context: TurnContext, texts: Texts, who: Reporter, module: Module
    ) -> None:
        """A training module as a tip to everyone, kept as a draft and previewed like any: the
        adviser sends it, changes its audience or time («Endre»), or drops it."""
        if await self._refused(turn_context, texts, who):
            return
        first = next((c for c in module.cards if c.text), None)
        tip = Tip(
            module.title,
            {"news": first.text[:SECTION_MAX]} if first else {},
            language=module.language,
            training=module.id,
        )
        now = self._clock()
        async with self._sessions() as session, session.begin():
            author = await handling.actor_of(session, aad_object_id=who.identity)
            stored_id = await tips.save_draft(
                session,
                tip=tip,
                audience=Audience(AudienceKind.EVERYONE),
                schedule=Schedule(),
                author_id=author.person_id,
                now=now,
            )
        await self._show_preview(turn_context, texts, stored_id)

    async def _show_preview(self, turn_context: TurnContext, texts: Texts, tip_id: int) -> None:
        now = self._clock()
        async with self._sessions() as session:
            stored = await tips.get_tip(session, tip_id)
            assert stored is not None
            people = await tips.audience_ids(session, stored.audience)
            reachable = await tips.reachable_count(session, people)
        planned = first_time(stored.schedule, now, self._calendar)
        due = allowed(planned, self._calendar)
        when = texts("tips.now") if due <= now else moment_text(texts, due)
        moved = None
        if due > planned:
            moved = texts(
                "tips.moved", planned=moment_text(texts, planned), due=moment_text(texts, due)
            )
        reader_texts = self._catalogues[stored.tip.language]
        await turn_context.send_activity(
            card_message(
                tip_card(reader_texts, stored.tip, delivery_id=0), summary=stored.tip.title
            )
        )
        card = preview_card(
            texts, stored, recipients=len(people), reachable=reachable, when=when, moved=moved
        )
        await turn_context.send_activity(card_message(card, summary=texts("tips.preview_title")))

    async def _send(self, turn_context: TurnContext, texts: Texts, stored: tips.StoredTip) -> None:
        if stored.status != tips.DRAFT:
            await turn_context.send_activity(texts("tips.already_sent"))
            return
        now = self._clock()
        planned = first_time(stored.schedule, now, self._calendar)
        due = allowed(planned, self._calendar)
        problems = check_schedule(stored.schedule, now, self._calendar)
        if problems:
            await turn_context.send_activity(problems_text(texts, problems))
            return
        try:
            async with self._sessions() as session, session.begin():
                people = await tips.audience_ids(session, stored.audience)
                if not people:
                    await turn_context.send_activity(texts("tips.problem_nobody"))
                    return
                delivery = await tips.send_draft(
                    session,
                    tip_id=stored.id,
                    version=stored.version,
                    planned_at=planned,
                    due_at=due,
                )
                started = 0
                if due <= now:
                    started = await tips.start_delivery(session, delivery_id=delivery, now=now)
                    await tips.plan_next(
                        session, delivery_id=delivery, now=now, calendar=self._calendar
                    )
        except tips.NotADraft:
            await turn_context.send_activity(texts("tips.already_sent"))
            return
        if started:
            self._ring()
            await turn_context.send_activity(texts("tips.sending", count=started))
        else:
            await turn_context.send_activity(texts("tips.scheduled", when=moment_text(texts, due)))

    async def _cancel(
        self, turn_context: TurnContext, texts: Texts, stored: tips.StoredTip
    ) -> None:
        if stored.status != tips.ACTIVE:
            await turn_context.send_activity(texts("tips.not_active"))
            return
        async with self._sessions() as session, session.begin():
            stopped = await tips.cancel(session, tip_id=stored.id)
            reached = 0
            for delivery in await tips.deliveries_of(session, stored.id):
                reached += (await tips.figures(session, delivery_id=delivery.id)).sent
        await turn_context.send_activity(texts("tips.cancelled", stopped=stopped, reached=reached))

    async def _again(
        self, turn_context: TurnContext, texts: Texts, who: Reporter, stored: tips.StoredTip
    ) -> None:
        async with self._sessions() as session, session.begin():
            author = await handling.actor_of(session, aad_object_id=who.identity)
            copy = await tips.save_draft(
                session,
                tip=stored.tip,
                audience=stored.audience,
                schedule=Schedule(),
                author_id=author.person_id,
                now=self._clock(),
            )
        await self._show_preview(turn_context, texts, copy)

    async def _vote(
        self, turn_context: TurnContext, texts: Texts, who: Reporter, value: Mapping[str, Any]
    ) -> None:
        delivery = _int(value.get("delivery"))
        useful = value.get("useful")
        if delivery == 0 and isinstance(useful, bool):
            await turn_context.send_activity(texts("tips.vote_preview"))
            return
        if delivery is None or not isinstance(useful, bool):
            await turn_context.send_activity(texts("problem.form_stale"))
            return
        async with self._sessions() as session, session.begin():
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            counted = actor.person_id is not None and await tips.vote(
                session,
                delivery_id=delivery,
                person_id=actor.person_id,
                useful=useful,
                now=self._clock(),
            )
        await turn_context.send_activity(texts("tips.thanks" if counted else "tips.vote_not_yours"))

    # --- helpers ------------------------------------------------------------------------------

    async def _refused(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> bool:
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
        if may_write_tips(actor):
            return False
        await turn_context.send_activity(texts("tips.not_allowed"))
        return True

    async def _places(self) -> list[Place]:
        async with self._sessions() as session:
            departments, units = await tips.places(session)
        by_name = sorted(departments.items(), key=lambda d: d[1].casefold())
        return [Place(f"dep:{d}", name) for d, name in by_name] + [
            Place(f"unit:{u}", name)
            for u, name in sorted(units.items(), key=lambda u: u[1].casefold())
        ]

    async def _started(self, tip_id: int) -> bool:
        async with self._sessions() as session:
            deliveries = await tips.deliveries_of(session, tip_id)
        return any(d.status != tips.SCHEDULED for d in deliveries)


_SMALL_NUMBER = re.compile(r"[0-9]{1,9}")


def _int(value: Any) -> int | None:
    """A small whole number from untrusted card data, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer() and 0 <= value < 10**9:
        value = int(value)
    if isinstance(value, str) and _SMALL_NUMBER.fullmatch(value.strip()):
        value = int(value.strip())
    return value if isinstance(value, int) and 0 <= value < 10**9 else None


def read_form(
    value: Mapping[str, Any], *, language: str
) -> tuple[Tip, Audience, Schedule] | list[TipProblem]:
    """The tip card's inputs, read like any answer: types, dates, times, numbers, links."""
    problems: list[TipProblem] = []
    unknown = sorted(str(k) for k in value if k not in INPUTS and k not in ("action", "tip"))
    if unknown:
        return [TipProblem("fields", {"fields": ", ".join(unknown)})]

    def text(name: str) -> str:
        raw = value.get(name)
        if raw is None:
            return ""
        if not isinstance(raw, str):
            problems.append(TipProblem("type", {"field": name}))
            return ""
        return raw.strip()

    links, link_problems = read_links(text("tip_links"))
    problems += link_problems
    tip = Tip(
        text("tip_title"),
        {name: text(f"tip_{name}") for name in SECTIONS if text(f"tip_{name}")},
        tuple(links),
        language,
    )
    audience = _audience(text("tip_audience"), problems)
    schedule = _schedule(value, text, problems)
    if problems:
        return problems
    return tip, audience, schedule


def _audience(raw: str, problems: list[TipProblem]) -> Audience:
    chosen = {v.strip() for v in raw.split(",") if v.strip()}
    if AudienceKind.EVERYONE.value in chosen:
        return Audience(AudienceKind.EVERYONE)
    roles = [v.partition(":")[2] for v in chosen if v.startswith("role:")]
    if roles:
        if roles[0] not in Role._value2member_map_:
            problems.append(TipProblem("audience"))
            return Audience()
        return Audience(AudienceKind.ROLE, role=Role(roles[0]))
    departments: list[int] = []
    units: list[int] = []
    for choice in chosen:
        kind, _, number = choice.partition(":")
        if kind in ("dep", "unit") and _SMALL_NUMBER.fullmatch(number):
            (departments if kind == "dep" else units).append(int(number))
        elif choice != AudienceKind.LEADERS.value:
            problems.append(TipProblem("audience"))
    if departments or units:
        return Audience(AudienceKind.PLACES, tuple(sorted(departments)), tuple(sorted(units)))
    return Audience(AudienceKind.LEADERS)


def _schedule(
    value: Mapping[str, Any], text: Callable[[str], str], problems: list[TipProblem]
) -> Schedule:
    when_text = text("tip_when") or When.NOW.value
    if when_text not in When._value2member_map_:
        problems.append(TipProblem("when_missing"))
        return Schedule()
    when = When(when_text)
    if when is When.NOW:
        return Schedule()

    def day(name: str) -> date | None:
        raw = text(name)
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError:
            problems.append(TipProblem("date", {"value": raw[:20]}))
            return None

    def number(name: str) -> int:
        raw = value.get(name)
        if raw in (None, ""):
            return 0
        found = _int(raw)
        if found is not None:
            return found
        try:
            return int(float(raw)) if 0 <= float(raw) < 10**9 else -1
        except (TypeError, ValueError, OverflowError):
            problems.append(TipProblem("number", {"value": str(raw)[:20]}))
            return 0

    if when is When.BEFORE_DEADLINE:
        return Schedule(
            when, deadline=day("tip_deadline_date"), days_before=number("tip_days_before")
        )
    first = day("tip_date")
    clock_text = text("tip_time") or "09:00"
    try:
        at_time = time.fromisoformat(clock_text)
    except ValueError:
        problems.append(TipProblem("time", {"value": clock_text[:10]}))
        at_time = time(9, 0)
    at = datetime.combine(first, at_time, OSLO) if first else None
    every = number("tip_every") if when is When.SERIES else 0
    return Schedule(when, at=at, every_weeks=every)


def problems_text(texts: Texts, problems: list[TipProblem]) -> str:
    lines = [texts("tips.problems")]
    for problem in problems:
        values = dict(problem.values)
        if "section" in values:
            values["section"] = texts(f"tips.section_{values['section']}")
        lines.append("- " + texts(f"tips.problem_{problem.key}", **values))
    return "\n".join(lines)
