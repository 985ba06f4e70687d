"""«opplæring»: the training modules in the chat (domain.training, docs/training.md).

Everyone sees the modules in their language with their own progress, and goes through a
module a card at a time; a check question is answered on the card and the feedback comes at
once. A press counts only on the card the person is at (storage.training.advance), so an
answer sent twice, a button on an old card, or a module not started is a friendly word and
the card they are at, never a second count. «opplæring oversikt» shows leaders their units'
completion and the adviser every unit's and department's: counts and shares only.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext

from bot.cards.training import (
    completion_card,
    done_card,
    feedback_card,
    modules_card,
    practice_card,
    step_card,
)
from bot.desks.handling import guarded_text
from bot.desks.report_cards import card_message, problems_text
from bot.desks.report_form import FieldProblem
from bot.desks.tips_desk import TipsDesk, may_write_tips
from dialogs.turn import Clock, Reporter
from domain.access import statistics_scope
from domain.i18n import Texts
from domain.training import Module
from domain.vocabulary import DESCRIPTION_MAX, DESCRIPTION_MIN, SHORT_TEXT_MAX, SHORT_TEXT_MIN
from storage import handling, training
from storage.db import SessionFactory

_OPS = ("list", "start", "show", "next", "answer", "practice", "done", "tip")


class TrainingDesk:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        modules: dict[str, tuple[Module, ...]],
        tips: TipsDesk,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._modules = modules
        # The adviser sends a module to an audience as a tip, through the tips' outbox.
        self._tips = tips

    def _in(self, texts: Texts) -> tuple[Module, ...]:
        return self._modules.get(texts.language) or self._modules["nn"]

    def _module(self, texts: Texts, module_id: object) -> Module | None:
        return next((m for m in self._in(texts) if m.id == module_id), None)

    async def _person(self, who: Reporter) -> int | None:
        async with self._sessions() as session:
            return (await handling.actor_of(session, aad_object_id=who.identity)).person_id

    async def send_list(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> None:
        person = await self._person(who)
        progress: dict[str, training.Progress] = {}
        if person is not None:
            async with self._sessions() as session:
                progress = await training.progress_of(session, person_id=person)
        card = modules_card(texts, self._in(texts), progress)
        await turn_context.send_activity(card_message(card, summary=texts("training.title")))

    async def act(self, turn_context: TurnContext, texts: Texts, who: Reporter, value: Any) -> None:
        op = value.get("op") if isinstance(value, dict) else None
        if op not in _OPS:
            await turn_context.send_activity(texts("problem.form_stale"))
            return
        if op == "list":
            await self.send_list(turn_context, texts, who)
            return
        module = self._module(texts, value.get("module"))
        step = value.get("step")
        if module is None or not isinstance(step, int) or isinstance(step, bool):
            await turn_context.send_activity(texts("training.unknown_module"))
            await self.send_list(turn_context, texts, who)
            return
        if op == "tip":
            await self._tips.draft_from_module(turn_context, texts, who, module)
            return
        person = await self._person(who)
        if person is None:
            await turn_context.send_activity(texts("training.unknown_person"))
            return
        now = self._clock()
        if op == "start":
            async with self._sessions() as session, session.begin():
                at = await training.start(
                    session, person_id=person, module=module.id, cards=len(module.cards), now=now
                )
            await self._show(turn_context, texts, module, at, person)
            return
        async with self._sessions() as session:
            progress = (await training.progress_of(session, person_id=person)).get(module.id)
        if progress is None:
            await turn_context.send_activity(texts("training.not_begun", module=module.title))
            await self.send_list(turn_context, texts, who)
            return
        if progress.step >= len(module.cards) or op == "done":
            # Done (or past the end of a module that has since lost cards): nothing to move on.
            if progress.step >= len(module.cards) and not progress.completed:
                async with self._sessions() as session, session.begin():
                    await training.complete(session, person_id=person, module=module.id, now=now)
            await self._show(turn_context, texts, module, progress.step, person)
            return
        if op == "show" or step != progress.step:
            if op != "show":  # an answer twice, or a button on a card left behind
                await turn_context.send_activity(texts("training.moved_on"))
            await self._show(turn_context, texts, module, progress.step, person)
            return
        await self._move_on(turn_context, texts, module, person, value, progress)

    async def _move_on(
        self,
        turn_context: TurnContext,
        texts: Texts,
        module: Module,
        person: int,
        value: dict[str, Any],
        progress: training.Progress,
    ) -> None:
        step = progress.step
        current = module.cards[step]
        if current.practice:
            await self._practice(turn_context, texts, module, person, value, step)
            return
        question = current.question
        chosen: int | None = None
        if value.get("op") == "practice":
            await turn_context.send_activity(texts("training.moved_on"))
            await self._show(turn_context, texts, module, step, person)
            return
        if question is not None:
            raw = value.get("training_answer")
            if (
                not isinstance(raw, str)
                or not (raw.isascii() and raw.isdecimal() and len(raw) <= 2)
                or int(raw) >= len(question.options)
            ):
                await turn_context.send_activity(texts("training.choose"))
                return
            chosen = int(raw)
        elif value.get("op") == "answer":
            await turn_context.send_activity(texts("training.moved_on"))
            await self._show(turn_context, texts, module, step, person)
            return
        right = None if question is None else chosen == question.right
        if not await self._advance(turn_context, texts, module, person, step, right):
            return
        if question is not None and chosen is not None:
            card = feedback_card(texts, module, step, chosen)
            await turn_context.send_activity(card_message(card, summary=module.title))
            return
        await self._show(turn_context, texts, module, step + 1, person)

    async def _advance(
        self,
        turn_context: TurnContext,
        texts: Texts,
        module: Module,
        person: int,
        step: int,
        right: bool | None,
    ) -> bool:
        """On from card `step`; False, with a word, when another press got there first."""
        async with self._sessions() as session, session.begin():
            moved = await training.advance(
                session,
                person_id=person,
                module=module.id,
                step=step,
                cards=len(module.cards),
                now=self._clock(),
                right=right,
            )
        if not moved:
            await turn_context.send_activity(texts("training.moved_on"))
            async with self._sessions() as session:
                now_at = (await training.progress_of(session, person_id=person)).get(module.id)
            await self._show(turn_context, texts, module, now_at.step if now_at else 0, person)
        return moved

    async def _practice(
        self,
        turn_context: TurnContext,
        texts: Texts,
        module: Module,
        person: int,
        value: dict[str, Any],
        step: int,
    ) -> None:
        """A practice report, checked as a real one is (length, and the guard against personal
        data) and answered as a leader would read it; stored nowhere, counted as a card done."""
        if value.get("op") != "practice":
            await self._show(turn_context, texts, module, step, person)
            return
        problems: list[FieldProblem] = []
        # Checked as the real report's fields are: length, and no personal data.
        what = guarded_text(value, "practice_what", DESCRIPTION_MIN, DESCRIPTION_MAX, problems)
        where = guarded_text(value, "practice_where", SHORT_TEXT_MIN, SHORT_TEXT_MAX, problems)
        if problems or what is None or where is None:
            await turn_context.send_activity(problems_text(texts, problems))
            return
        if not await self._advance(turn_context, texts, module, person, step, None):
            return
        card = practice_card(texts, module, step, what, where)
        await turn_context.send_activity(card_message(card, summary=module.title))

    async def _show(
        self, turn_context: TurnContext, texts: Texts, module: Module, step: int, person: int
    ) -> None:
        """Card `step` of the module, or past its end the module's completion."""
        if step >= len(module.cards):
            async with self._sessions() as session:
                progress = (await training.progress_of(session, person_id=person)).get(module.id)
            card = done_card(texts, module, progress)
        else:
            card = step_card(texts, module, step)
        await turn_context.send_activity(card_message(card, summary=module.title))

    async def send_completion(self, turn_context: TurnContext, texts: Texts, who: Reporter) -> None:
        async with self._sessions() as session:
            actor = await handling.actor_of(session, aad_object_id=who.identity)
            scope = statistics_scope(actor)
            if scope is None:
                await turn_context.send_activity(texts("training.completion_not_allowed"))
                return
            modules = self._in(texts)
            units = await training.completion(
                session,
                unit_ids=None if scope.everything else sorted(scope.unit_ids or ()),
                modules=[m.id for m in modules],
            )
        card = completion_card(
            texts, modules, units, whole=scope.everything, as_tips=may_write_tips(actor)
        )
        await turn_context.send_activity(
            card_message(card, summary=texts("training.completion_title"))
        )
