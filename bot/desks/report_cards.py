"""Reporting by card: send the form, take a submitted form, show «mine avvik».

The card is checked like typed answers (`bot.desks.report_form`); its id is the report's submission
key, so a double click, a retry, or the same card submitted again stores one report.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.cards import Card
from bot.cards.my_reports import my_reports_card
from bot.cards.receipt import receipt_card, sent_form_card
from bot.cards.report_form import report_form_card
from bot.desks.report_desk import SqlReportDesk
from bot.desks.report_form import FieldProblem, read_report_form
from dialogs.turn import Clock, Reporter
from domain.answers import Problem
from domain.i18n import Texts
from domain.sensitive import SENSITIVE, describe
from storage.reports import ForeignSubmission

logger = logging.getLogger(__name__)


def problem_text(texts: Texts, problem: Problem) -> str:
    if problem.key == SENSITIVE:  # «Det ser ut som eit fødselsnummer.»
        kinds = problem.values["kinds"]
        assert isinstance(kinds, tuple | list)
        return describe(texts, kinds)
    return texts(f"problem.{problem.key}", **problem.values)


def problems_text(
    texts: Texts, problems: list[FieldProblem], *, can_keep_sensitive: bool = False
) -> str:
    """One line per field, in the order of the card, in the user's language. When a field
    looks like it holds personal data, a last paragraph says why that matters and, where the
    card has the «keep as written» switch, how to keep it anyway."""
    whole = [problem_text(texts, p.problem) for p in problems if not p.field]
    if whole:
        return "\n\n".join(whole)
    lines = [
        texts(
            "card.problem_line",
            field=texts(f"field.{p.field}"),
            problem=problem_text(texts, p.problem),
        )
        for p in problems
    ]
    if any(p.problem.key == SENSITIVE for p in problems):
        advice = texts("sensitive.advice")
        lines.append(f"{advice} {texts('sensitive.card_keep')}" if can_keep_sensitive else advice)
    return "\n\n".join([texts("card.problems"), *lines])


def card_message(card: Card, *, summary: str) -> Activity:
    # Teams shows the summary in notifications and the chat list, where a card has no text.
    message: Activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    message.summary = summary
    return message


class ReportCards:
    def __init__(self, desk: SqlReportDesk, clock: Clock) -> None:
        self._desk = desk
        self._clock = clock

    async def send_form(self, turn_context: TurnContext, texts: Texts, reporter: Reporter) -> None:
        own = await self._desk.unit_of(reporter)
        card = report_form_card(
            texts,
            card_id=uuid.uuid4().hex,
            conversation_id=turn_context.activity.conversation.id,
            now=self._clock(),
            own_unit=own.name if own else None,
            categories=await self._desk.categories(),
        )
        await turn_context.send_activity(card_message(card, summary=texts("card.form_title")))

    async def send_my_reports(
        self, turn_context: TurnContext, texts: Texts, reporter: Reporter
    ) -> None:
        lines = await self._desk.reports_of(reporter)
        card = my_reports_card(texts, lines, await self._desk.categories())
        await turn_context.send_activity(card_message(card, summary=texts("mine.card_title")))

    async def take_submitted(
        self, turn_context: TurnContext, texts: Texts, reporter: Reporter, value: Any
    ) -> None:
        categories = await self._desk.categories()
        read = read_report_form(
            value,
            conversation_id=turn_context.activity.conversation.id,
            now=self._clock(),
            categories=categories,
        )
        if isinstance(read, list):
            # Nothing is stored; a look-alike of personal data can be kept with the switch.
            await turn_context.send_activity(problems_text(texts, read, can_keep_sensitive=True))
            return
        draft = read
        assert draft.unit_name is not None
        known = await self._desk.find_unit(draft.unit_name)
        if known:
            draft.unit_id, draft.unit_name = known.id, known.name
        try:
            receipt = await self._desk.submit(draft, reporter, texts.language)
        except ForeignSubmission:
            await turn_context.send_activity(texts("problem.form_foreign"))
            return
        if not receipt.created:
            await turn_context.send_activity(
                texts("report.already_submitted", case=receipt.case_number)
            )
            return
        card = receipt_card(
            texts,
            case_number=receipt.case_number,
            draft=draft,
            categories=categories,
            first=receipt.first,
        )
        message = card_message(card, summary=texts("card.receipt_title", case=receipt.case_number))
        await turn_context.send_activity(message)
        sent = sent_form_card(texts, case_number=receipt.case_number, draft=draft)
        await self._retire_form(turn_context, CardFactory.adaptive_card(sent))

    @staticmethod
    async def _retire_form(turn_context: TurnContext, receipt: Any) -> None:
        """Replace the filled-in form with what was sent, so the chat keeps the reporter's words
        and the form cannot be sent again. The submission key already makes a resend harmless."""
        form_id = turn_context.activity.reply_to_id
        if not form_id:
            return
        replacement = Activity(type=ActivityTypes.message, id=form_id, attachments=[receipt])
        try:
            await turn_context.update_activity(replacement)
        except (HttpOperationError, ClientRequestError):
            logger.warning("could not replace the submitted form %s", form_id, exc_info=True)
