"""The report dialog: a short conversation that ends in a stored avvik with a case number.

Read top to bottom, the waterfall is the conversation (diagram: `report_flow.mmd`):
what happened → harm or near miss → category → severity → unit → place → when →
done straight away → suggested measure → summary (send / change a field / cancel).

Each step records the answer to the previous question in a typed `ReportDraft`, skips its own
question when the draft already has the answer (so "change a field" re-runs the waterfall and
asks only that field), and asks. «hjelp», «avbryt» and «start på nytt» work at every step.
Everything lives in dialog state, which the SQL storage keeps: a restart resumes the step.

The free-text answers (what happened, place, done straight away, suggested measure) pass the
sensitive-data guard (`domain.sensitive`): an answer that looks like it holds a fødselsnummer,
D-number, phone number or e-mail address is held back and the same prompt asks once more —
«Ja, behald» keeps it as written, «Nei, skriv på nytt» asks the question again, and a new
answer is checked like the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogTurnResult,
    DialogTurnStatus,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.choices import Choice, FindChoicesOptions, ListStyle
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions
from botbuilder.schema import ActionTypes, Activity, CardAction, SuggestedActions

from dialogs.report_desk import ReportDesk
from dialogs.report_draft import FIELDS, ReportDraft
from dialogs.turn import Clock, reporter_of, texts_of
from domain.answers import Problem, WhenPhrases, clean_text, normalise, parse_when
from domain.commands import CommandParser, Intent
from domain.i18n import Catalogues, Texts
from domain.sensitive import describe, find_sensitive, kinds_in
from domain.vocabulary import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    OPTIONAL_TEXT_MAX,
    SHORT_TEXT_MAX,
    SHORT_TEXT_MIN,
    Harm,
    Severity,
)

FLOW = "report_flow"
CANCEL_FLOW = "cancel_flow"
OWN_UNIT, OTHER_UNIT = "own", "other"
SUBMIT, EDIT, CANCEL = "submit", "edit", "cancel"
# Typed, not a button (Teams shows three): the summary's question says how.
SUBMIT_ANONYMOUS = "submit_anonymous"
YES, NO = "yes", "no"
# In a text prompt's state: the answer held back by the sensitive-data guard.
HELD = "held_answer"


def _im_back(title: str) -> CardAction:
    return CardAction(type=ActionTypes.im_back, title=title, value=title)


def _with_quick_replies(text: str, titles: list[str]) -> Activity:
    activity = MessageFactory.text(text)
    if titles:
        activity.suggested_actions = SuggestedActions(actions=[_im_back(t) for t in titles])
    return activity


def numbered(titles: Iterable[str]) -> str:
    """A numbered list that reads the same in Teams on desktop and phone. Teams' markdown
    lists render only on desktop, so each option is its own paragraph with a bold number."""
    return "\n\n".join(f"**{n}** · {title}" for n, title in enumerate(titles, 1))


def _problem_text(texts: Texts, problem: Problem) -> str:
    return texts(f"problem.{problem.key}", **problem.values)


class ReportDialog(ComponentDialog):  # type: ignore[misc]  # the SDK is untyped
    def __init__(
        self, *, catalogues: Catalogues, desk: ReportDesk, commands: CommandParser, clock: Clock
    ) -> None:
        super().__init__(ReportDialog.__name__)
        self._catalogues = catalogues
        self._desk = desk
        self._commands = commands
        self._clock = clock
        self._when_phrases = WhenPhrases.of(
            *(
                [w for t in catalogues.all() for w in t.words(f"when.{group}_words")]
                for group in ("now", "today", "yesterday")
            )
        )
        self._skip_words = self._words("report.skip_words")
        self._keep_words = self._words("sensitive.keep", "sensitive.keep_words")
        self._rewrite_words = self._words("sensitive.rewrite", "sensitive.rewrite_words")

        self.add_dialog(
            WaterfallDialog(
                FLOW,
                [
                    self.ask_description,
                    self.ask_harm,
                    self.ask_category,
                    self.ask_severity,
                    self.ask_own_unit,
                    self.ask_unit_name,
                    self.ask_location,
                    self.ask_when,
                    self.ask_immediate_action,
                    self.ask_suggested_measure,
                    self.show_summary,
                    self.act_on_summary,
                    self.change_field_or_return,
                ],
            )
        )
        self.add_dialog(WaterfallDialog(CANCEL_FLOW, [self.ask_cancel, self.cancel_or_continue]))
        self.add_dialog(
            TextPrompt("description", self._text(DESCRIPTION_MIN, DESCRIPTION_MAX, guarded=True))
        )
        self.add_dialog(TextPrompt("unit", self._text(SHORT_TEXT_MIN, SHORT_TEXT_MAX)))
        self.add_dialog(
            TextPrompt("location", self._text(SHORT_TEXT_MIN, SHORT_TEXT_MAX, guarded=True))
        )
        self.add_dialog(TextPrompt("when", self._validate_when))
        for optional in ("immediate_action", "suggested_measure"):
            self.add_dialog(TextPrompt(optional, self._optional_text(OPTIONAL_TEXT_MAX)))
        for choice in (
            "harm",
            "severity",
            "unit_confirm",
            "confirm",
            "edit_field",
            "cancel_confirm",
        ):
            self.add_dialog(ChoicePrompt(choice))
        # Long category names: one word of a name («vald», «brann») is enough.
        category = ChoicePrompt("category")
        category.recognizer_options = FindChoicesOptions(allow_partial_matches=True)
        self.add_dialog(category)
        self.initial_dialog_id = FLOW

    # ---- the conversation ----------------------------------------------------------------

    async def ask_description(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options if isinstance(step.options, dict) else {}
        if "draft" in options:
            draft = ReportDraft.from_dict(options["draft"])
        else:
            draft = ReportDraft.new()
            await step.context.send_activity(texts_of(step.context)("report.start"))
        step.values["draft"] = draft.to_dict()
        if not draft.needs("description"):
            return await step.next(None)
        return await self._ask_text(step, "description", "report.ask_description")

    async def ask_harm(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        if not draft.needs("harm"):
            return await step.next(None)
        return await self._ask_choice(
            step, "harm", "report.ask_harm", self._coded("harm", Harm, texts_of(step.context))
        )

    async def ask_category(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        if not draft.needs("category"):
            return await step.next(None)
        texts = texts_of(step.context)
        # The municipality's own list as it is now: a retired category is not offered.
        choices = [
            Choice(
                category.code,
                action=_im_back(category.label(texts.language)),
                synonyms=sorted(set(category.names)),
            )
            for category in (await self._desk.categories()).active()
        ]
        return await self._ask_choice(
            step, "category", "report.ask_category", choices, style=ListStyle.none
        )

    async def ask_severity(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        if not draft.needs("severity"):
            return await step.next(None)
        return await self._ask_choice(
            step,
            "severity",
            "report.ask_severity",
            self._coded("severity", Severity, texts_of(step.context)),
        )

    async def ask_own_unit(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        if not draft.needs("unit"):
            return await step.next(None)
        own = await self._desk.unit_of(reporter_of(step.context))
        if own is None:
            return await step.next(None)  # unknown to the organisation: the unit is typed
        step.values["own_unit"] = {"id": own.id, "name": own.name}
        texts = texts_of(step.context)
        choices = [
            Choice(OWN_UNIT, action=_im_back(own.name)),
            self._choice(OTHER_UNIT, texts, "report.other_unit"),
        ]
        return await self._ask_choice(
            step, "unit_confirm", "report.ask_unit_confirm", choices, unit=own.name
        )

    async def ask_unit_name(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        if not draft.needs("unit"):
            return await step.next(None)
        return await self._ask_text(step, "unit", "report.ask_unit")

    async def ask_location(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = await self._record_unit_name(step)
        if not draft.needs("location"):
            return await step.next(None)
        return await self._ask_text(step, "location", "report.ask_location")

    async def ask_when(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        if not draft.needs("when"):
            return await step.next(None)
        texts = texts_of(step.context)
        quick = [texts("when.now"), texts("when.today"), texts("when.yesterday")]
        return await self._ask_text(step, "when", "report.ask_when", quick)

    async def ask_immediate_action(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        if not draft.needs("immediate_action"):
            return await step.next(None)
        skip = [texts_of(step.context)("report.skip")]
        return await self._ask_text(step, "immediate_action", "report.ask_immediate_action", skip)

    async def ask_suggested_measure(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        if not draft.needs("suggested_measure"):
            return await step.next(None)
        skip = [texts_of(step.context)("report.skip")]
        return await self._ask_text(step, "suggested_measure", "report.ask_suggested_measure", skip)

    async def show_summary(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = self._record(step)
        texts = texts_of(step.context)
        step.values["asking"] = "confirm"
        choices = [
            self._choice(SUBMIT, texts, "report.submit"),
            self._choice(EDIT, texts, "report.edit"),
            self._choice(CANCEL, texts, "report.cancel"),
            self._choice(SUBMIT_ANONYMOUS, texts, "report.submit_anonymous"),
        ]
        summary = draft.summary(texts, await self._desk.categories())
        prompt = f"{summary}\n\n{texts('report.ask_confirm')}"
        options = self._choice_options(texts, prompt, choices, style=ListStyle.none)
        # Three buttons, as many as Teams shows; «send anonymt» is typed, as the question says.
        options.prompt = _with_quick_replies(
            prompt, [texts(f"report.{c}") for c in (SUBMIT, EDIT, CANCEL)]
        )
        return await step.prompt("confirm", options)

    async def act_on_summary(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values.pop("asking", None)
        draft = ReportDraft.from_dict(step.values["draft"])
        texts = texts_of(step.context)
        if step.result.value in (SUBMIT, SUBMIT_ANONYMOUS):
            chosen = (await self._desk.categories()).get(draft.category or "")
            if chosen is None or not chosen.active:
                # Retired or removed by the admin since it was chosen: choose again.
                draft.category = None
                await step.context.send_activity(texts("report.category_gone"))
                return await step.replace_dialog(FLOW, {"draft": draft.to_dict()})
            draft.anonymous = step.result.value == SUBMIT_ANONYMOUS
            receipt = await self._desk.submit(draft, reporter_of(step.context), texts.language)
            told = texts("report.receipt", case=receipt.case_number)
            if draft.anonymous:
                told = f"{told} {texts('report.receipt_anonymous')}"
            if receipt.first:
                # Someone new: the same offer of the training as the card's receipt makes.
                told = f"{told}\n\n{texts('training.offer')}"
            await step.context.send_activity(told)
            return await step.end_dialog(receipt.case_number)
        if step.result.value == EDIT:
            choices = [self._choice(f, texts, f"field.{f}") for f in FIELDS]
            return await self._ask_choice(
                step, "edit_field", "report.ask_edit_field", choices, style=ListStyle.none
            )
        return await step.begin_dialog(CANCEL_FLOW)

    async def change_field_or_return(self, step: WaterfallStepContext) -> DialogTurnResult:
        draft = ReportDraft.from_dict(step.values["draft"])
        if step.values.pop("asking", None) == "edit_field":
            draft.editing = step.result.value
            if draft.editing == "unit":
                draft.forget_unit()
        # Run the waterfall again: it asks only what the draft lacks, then shows the summary.
        return await step.replace_dialog(FLOW, {"draft": draft.to_dict()})

    # ---- cancelling, after confirmation ----------------------------------------------------

    async def ask_cancel(self, step: WaterfallStepContext) -> DialogTurnResult:
        texts = texts_of(step.context)
        choices = [
            self._choice(YES, texts, "report.yes_cancel"),
            self._choice(NO, texts, "report.no_continue"),
        ]
        return await step.prompt(
            "cancel_confirm", self._choice_options(texts, texts("report.ask_cancel"), choices)
        )

    async def cancel_or_continue(self, step: WaterfallStepContext) -> DialogTurnResult:
        texts = texts_of(step.context)
        if step.result.value == YES:
            await step.context.send_activity(texts("report.cancelled"))
            return await step.cancel_all_dialogs()
        await step.context.send_activity(texts("report.continuing"))
        return await step.end_dialog(None)

    # ---- interruptions: «hjelp», «avbryt», «start på nytt» at any step ----------------------

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        intent = self._commands.interruption(inner_dc.context.activity.text)
        active = inner_dc.active_dialog.id if inner_dc.active_dialog else None
        texts = texts_of(inner_dc.context)
        if intent is Intent.REPORT:  # e.g. back the next day, not remembering the open report
            await inner_dc.context.send_activity(texts("report.already_started"))
            await inner_dc.reprompt_dialog()
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if intent is Intent.HELP:
            await inner_dc.context.send_activity(self._help(texts, active))
            await inner_dc.reprompt_dialog()
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if intent is Intent.CANCEL:
            if active == "cancel_confirm":  # «avbryt» again: that is a yes
                await inner_dc.context.send_activity(texts("report.cancelled"))
                return await inner_dc.cancel_all_dialogs()
            return await inner_dc.begin_dialog(CANCEL_FLOW)
        if intent is Intent.RESTART:
            await inner_dc.cancel_all_dialogs()
            await inner_dc.context.send_activity(texts("report.restarting"))
            return await inner_dc.begin_dialog(FLOW, {"draft": ReportDraft.new().to_dict()})
        return await super().on_continue_dialog(inner_dc)

    @staticmethod
    def _help(texts: Texts, step_id: str | None) -> str:
        parts = [texts(f"help.step.{step_id}")] if step_id in _STEP_HELP else []
        parts += [texts("help.definition"), texts("help.example"), texts("help.during_report")]
        return "\n\n".join(parts)

    # ---- asking and recording --------------------------------------------------------------

    def _record(self, step: WaterfallStepContext) -> ReportDraft:
        """Put the answer to the question asked in the previous step into the draft."""
        draft = ReportDraft.from_dict(step.values["draft"])
        asked = step.values.pop("asking", None)
        if asked in ("harm", "category", "severity"):
            draft.record(asked, step.result.value)
        elif asked == "unit_confirm":
            if step.result.value == OWN_UNIT:
                draft.record("unit", step.values["own_unit"])
            else:
                draft.forget_unit()
        elif asked is not None:
            draft.record(asked, step.result)
        step.values["draft"] = draft.to_dict()
        return draft

    async def _record_unit_name(self, step: WaterfallStepContext) -> ReportDraft:
        if step.values.get("asking") != "unit":
            return self._record(step)
        step.values.pop("asking")
        draft = ReportDraft.from_dict(step.values["draft"])
        typed: str = step.result
        known = await self._desk.find_unit(typed)
        draft.record(
            "unit", {"id": known.id, "name": known.name} if known else {"id": None, "name": typed}
        )
        step.values["draft"] = draft.to_dict()
        return draft

    async def _ask_text(
        self, step: WaterfallStepContext, field: str, key: str, quick: list[str] | None = None
    ) -> DialogTurnResult:
        step.values["asking"] = field
        prompt = _with_quick_replies(texts_of(step.context)(key), quick or [])
        return await step.prompt(field, PromptOptions(prompt=prompt))

    async def _ask_choice(
        self,
        step: WaterfallStepContext,
        field: str,
        key: str,
        choices: list[Choice],
        style: ListStyle = ListStyle.suggested_action,
        **values: object,
    ) -> DialogTurnResult:
        step.values["asking"] = field
        texts = texts_of(step.context)
        question = texts(key, **values)
        if style == ListStyle.none:  # long lists are numbered in the text, not as buttons
            question = f"{question}\n\n{numbered(c.action.title for c in choices)}"
        options = self._choice_options(texts, question, choices, style)
        return await step.prompt(field, options)

    @staticmethod
    def _choice_options(
        texts: Texts,
        prompt: str,
        choices: list[Choice],
        style: ListStyle = ListStyle.suggested_action,
    ) -> PromptOptions:
        return PromptOptions(
            prompt=MessageFactory.text(prompt),
            # The question again, so someone back after a while knows what is being asked.
            retry_prompt=MessageFactory.text(f"{texts('problem.choice')}\n\n{prompt}"),
            choices=choices,
            style=style,
        )

    def _choice(self, value: str, texts: Texts, button_key: str, *other_keys: str) -> Choice:
        # Every language's wording is a synonym, so «Høy» works for a Nynorsk reporter too.
        keys = (button_key, *other_keys)
        synonyms = sorted({t(key) for t in self._catalogues.all() for key in keys})
        return Choice(value, action=_im_back(texts(button_key)), synonyms=synonyms)

    def _coded(self, group: str, codes: Any, texts: Texts) -> list[Choice]:
        """Choices for stored codes; a button shows the short form where the catalogue has one
        (Teams cuts long button titles), and the full label is understood too."""
        choices = []
        for code in codes:
            full, short = f"{group}.{code.value}", f"{group}_short.{code.value}"
            keys = (short, full) if short in texts.messages else (full,)
            choices.append(self._choice(code.value, texts, *keys))
        return choices

    # ---- validators ------------------------------------------------------------------------

    def _words(self, *keys: str) -> set[str]:
        """What a user may type for these catalogue entries, in every language."""
        return {normalise(w) for t in self._catalogues.all() for key in keys for w in t.words(key)}

    def _text(self, min_length: int, max_length: int, *, guarded: bool = False) -> Any:
        async def validate(prompt: PromptValidatorContext) -> bool:
            raw = prompt.recognized.value if prompt.recognized.succeeded else None
            decided = self._decide_held(prompt, raw)
            if decided is not None:
                return decided
            checked = clean_text(raw, min_length=min_length, max_length=max_length)
            return self._accept(prompt, checked, guarded=guarded)

        return validate

    def _optional_text(self, max_length: int) -> Any:
        async def validate(prompt: PromptValidatorContext) -> bool:
            raw = prompt.recognized.value if prompt.recognized.succeeded else None
            decided = self._decide_held(prompt, raw)
            if decided is not None:
                return decided
            if raw is not None and normalise(raw) in self._skip_words:
                prompt.recognized.value = ""
                return True
            checked = clean_text(raw, min_length=SHORT_TEXT_MIN, max_length=max_length)
            return self._accept(prompt, checked, guarded=True)

        return validate

    async def _validate_when(self, prompt: PromptValidatorContext) -> bool:
        raw = prompt.recognized.value if prompt.recognized.succeeded else None
        parsed = parse_when(raw, now=self._clock(), phrases=self._when_phrases)
        if isinstance(parsed, Problem):
            return self._accept(prompt, parsed)
        prompt.recognized.value = {"at": parsed.at.isoformat(), "time_known": parsed.time_known}
        return True

    def _accept(
        self, prompt: PromptValidatorContext, result: str | Problem, *, guarded: bool = False
    ) -> bool:
        """Keep the cleaned answer, or set a retry that says what to fix (same quick replies)."""
        if isinstance(result, str):
            if guarded and find_sensitive(result):
                return self._hold(prompt, result)
            prompt.recognized.value = result
            return True
        context: TurnContext = prompt.context
        if result.key == "empty" and context.activity.attachments:
            result = Problem("attachment_only")
        original = prompt.options.prompt
        quick = (
            [a.title for a in original.suggested_actions.actions]
            if original.suggested_actions
            else []
        )
        prompt.options.retry_prompt = _with_quick_replies(
            _problem_text(texts_of(context), result), quick
        )
        return False

    # ---- the sensitive-data guard: write it again, or keep it -----------------------------

    @staticmethod
    def _hold(prompt: PromptValidatorContext, answer: str) -> bool:
        """Hold the answer back and ask, in the same prompt, whether to keep it as written."""
        prompt.state[HELD] = answer
        texts = texts_of(prompt.context)
        found = describe(texts, kinds_in(find_sensitive(answer)))
        question = f"{found} {texts('sensitive.advice')}\n\n{texts('sensitive.ask_keep')}"
        prompt.options.retry_prompt = _with_quick_replies(
            question, [texts("sensitive.keep"), texts("sensitive.rewrite")]
        )
        return False

    def _decide_held(self, prompt: PromptValidatorContext, raw: str | None) -> bool | None:
        """The reply to a held answer: «ja» keeps it, «nei» asks the question again; anything
        else (None) is a new answer, checked like the first."""
        held = prompt.state.pop(HELD, None)
        if held is None or raw is None:
            return None
        said = normalise(raw)
        if said in self._keep_words:
            prompt.recognized.value = held
            return True
        if said in self._rewrite_words:
            prompt.options.retry_prompt = prompt.options.prompt
            return False
        return None


_STEP_HELP = {
    "description",
    "harm",
    "category",
    "severity",
    "unit_confirm",
    "unit",
    "location",
    "when",
    "immediate_action",
    "suggested_measure",
    "confirm",
    "edit_field",
    "cancel_confirm",
}
