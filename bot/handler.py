"""The activity handler: works out who and which language, then routes. No logic of its own."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from botbuilder.core import (
    ActivityHandler,
    ConversationState,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.dialogs import DialogSet
from botbuilder.schema import (
    ActionTypes,
    Activity,
    ActivityTypes,
    CardAction,
    ChannelAccount,
    SuggestedActions,
    TextFormatTypes,
)

from bot.cards import SUBMIT_REPORT
from bot.cards.risk import RISK
from bot.cards.statistics import STATS, UNDER_REPORTING
from bot.cards.tips import ACTIONS as TIP_ACTIONS
from bot.cards.training import TRAINING
from bot.desks.handling import HANDLE, SHOW
from bot.desks.leader_desk import LeaderDesk
from bot.desks.replies import help_text, menu_buttons, welcome_text
from bot.desks.report_cards import ReportCards
from bot.desks.report_desk import SqlReportDesk
from bot.desks.risk_desk import RiskDesk
from bot.desks.statistics_desk import StatisticsDesk, StatsRequest, read_request
from bot.desks.tips_desk import TipsDesk
from bot.desks.training_desk import TrainingDesk
from bot.edge.held_replies import HeldReplies, release
from bot.edge.turn_locks import KeyedLocks
from bot.proactive.conversation_book import ConversationBook, address_of
from dialogs.report_dialog import ReportDialog
from dialogs.turn import REPORTER_KEY, TEXTS_KEY, Reporter
from domain.commands import CommandParser, Intent
from domain.i18n import Catalogues, Texts, resolve_language
from storage.bot_state import StateConflict

logger = logging.getLogger(__name__)


def reporter_from(activity: object) -> Reporter | None:
    """The Teams user behind an activity: the Entra ID object id, never the display name."""
    sender = getattr(activity, "from_property", None)
    if sender is None or not sender.id:
        return None
    identity = sender.aad_object_id or f"{getattr(activity, 'channel_id', '')}:{sender.id}"
    return Reporter(identity=identity, name=sender.name or "")


async def _as_markdown(
    _context: TurnContext, activities: list[Activity], send: Callable[[], Awaitable[Any]]
) -> Any:
    """Every text the bot writes is Teams markdown (bold, lists); say so, not leave it to
    the client's default."""
    for outgoing in activities:
        if outgoing.type == ActivityTypes.message and not outgoing.text_format:
            outgoing.text_format = TextFormatTypes.markdown
    return await send()


def remove_bot_mention(activity: Activity) -> None:
    """Take «@Avviksboten» out of the text: Teams puts it in every group chat or channel
    message to the bot. The SDK's `remove_recipient_mention` fails the turn on a message with
    a mention but no text, without a recipient, or with a mention it cannot read, and reads the
    bot's name as a regular expression; this does none of that."""
    bot_id = activity.recipient.id if activity.recipient else None
    if not isinstance(activity.text, str) or not bot_id:
        return
    for entity in activity.entities or []:
        extra = getattr(entity, "additional_properties", None) or {}
        mentioned, shown = extra.get("mentioned"), extra.get("text")
        if (
            str(getattr(entity, "type", "")).lower() == "mention"
            and isinstance(mentioned, dict)
            and mentioned.get("id") == bot_id
            and isinstance(shown, str)
            and shown
        ):
            activity.text = activity.text.replace(shown, "")


def _stats_request_of(value: dict[str, Any]) -> StatsRequest:
    """The «show another year» button's data; anything odd in it is simply left out."""
    year, department = value.get("year"), value.get("department")
    return StatsRequest(
        year if isinstance(year, int) and not isinstance(year, bool) else None,
        department if isinstance(department, str) and department else None,
    )


_CARD_ACTIONS = (SUBMIT_REPORT, HANDLE, SHOW, STATS, UNDER_REPORTING, TRAINING, RISK, *TIP_ACTIONS)
_PERSONAL_ONLY = (
    Intent.REPORT,
    Intent.RESTART,
    Intent.FORM,
    Intent.MINE,
    Intent.OPEN,
    # Figures per unit are for the people who follow the unit up, not for a shared channel.
    Intent.STATS,
    Intent.UNDER_REPORTING,
    Intent.OVERDUE,
    Intent.NEW_TIP,
    Intent.TIPS,
    Intent.AMU,
    Intent.TRAINING,
    Intent.TRAINING_STATUS,
    Intent.RISK,
    Intent.RISK_OVERVIEW,
)


# A turn that loses the e-tag race runs again on the fresh state, up to this many runs in all.
_RUNS = 3
# In the conversation's state: the last message whose turn changed it, to know a double tap.
_LAST_MESSAGE = "last_message"


def _holds_replies(activity: Activity) -> bool:
    """Messages that may move a dialog hold their replies until its state is saved. A card
    press stands on its own (no dialog state) and its replies go out at once: the leader's
    card needs the id Teams gives it."""
    if activity.type != ActivityTypes.message:
        return False
    value = activity.value
    return not (isinstance(value, dict) and value.get("action") in _CARD_ACTIONS)


def _fingerprint(activity: Activity) -> str:
    """The same for two taps of one button: who, what they wrote, what a card sent."""
    sender = activity.from_property.id if activity.from_property else ""
    value = json.dumps(activity.value, sort_keys=True, default=str)
    content = "\x1f".join((sender or "", activity.text or "", value))
    # surrogatepass: JSON may carry a lone surrogate (the fuzzer sent one), which is still text.
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


def _is_personal(activity: Activity) -> bool:
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind in (None, "personal")


class AvvikBot(ActivityHandler):  # type: ignore[misc]  # the SDK is untyped
    def __init__(
        self,
        *,
        conversation_state: ConversationState,
        report_dialog: ReportDialog,
        desk: SqlReportDesk,
        conversations: ConversationBook,
        cards: ReportCards,
        leaders: LeaderDesk,
        statistics: StatisticsDesk,
        tips: TipsDesk,
        training: TrainingDesk,
        risk: RiskDesk,
        catalogues: Catalogues,
        commands: CommandParser,
        default_language: str,
    ) -> None:
        super().__init__()
        self._conversation_state = conversation_state
        self._dialogs = DialogSet(conversation_state.create_property("DialogState"))
        self._dialogs.add(report_dialog)
        self._desk = desk
        self._conversations = conversations
        self._cards = cards
        self._leaders = leaders
        self._statistics = statistics
        self._tips = tips
        self._training = training
        self._risk = risk
        self._catalogues = catalogues
        self._commands = commands
        self._default_language = default_language
        self._turns = KeyedLocks()

    @property
    def statistics(self) -> StatisticsDesk:
        """For the app's download route: the charts and files behind a statistics card."""
        return self._statistics

    def texts_for_locale(self, locale: str | None) -> Texts:
        language = resolve_language(
            chosen=None, teams_locale=locale, default=self._default_language
        )
        return self._catalogues[language]

    async def on_turn(self, turn_context: TurnContext) -> None:
        turn_context.on_send_activities(_as_markdown)
        activity = turn_context.activity
        reporter = reporter_from(activity)
        if reporter is None:
            # Without a sender there is nobody to file a report for, nor a language to look up.
            if activity.type == ActivityTypes.message:
                texts = self.texts_for_locale(activity.locale)
                await turn_context.send_activity(texts("problem.missing_sender"))
            return
        async with self._turns.hold(activity.conversation.id):
            address = address_of(activity)
            if address is not None:
                await self._conversations.remember(address)
            chosen = await self._desk.language_of(reporter)
            language = resolve_language(
                chosen=chosen, teams_locale=activity.locale, default=self._default_language
            )
            turn_context.turn_state[TEXTS_KEY] = self._catalogues[language]
            turn_context.turn_state[REPORTER_KEY] = reporter
            if _holds_replies(activity):
                await self._turn_then_replies(turn_context)
            else:
                await super().on_turn(turn_context)
                await self._conversation_state.save_changes(turn_context)

    async def _turn_then_replies(self, turn_context: TurnContext) -> None:
        """Run the turn with its replies held; save its state; then say what it said. A turn
        that loses the e-tag race to another replica runs again on the state the winner
        saved; when the winner handled this very message (a double tap that reached both),
        it says nothing: the user has the winner's answer."""
        fingerprint = _fingerprint(turn_context.activity)
        for run in range(1, _RUNS + 1):
            with HeldReplies(turn_context) as replies:
                await super().on_turn(turn_context)
                held = replies.take()
                state = self._conversation_state.get_cached_state(turn_context)
                if state is not None and state.is_changed:
                    state.state[_LAST_MESSAGE] = fingerprint
                try:
                    await self._conversation_state.save_changes(turn_context)
                except StateConflict:
                    if run == _RUNS:
                        raise
                    await self._conversation_state.load(turn_context, force=True)
                    winner = self._conversation_state.get_cached_state(turn_context)
                    if winner is not None and winner.state.get(_LAST_MESSAGE) == fingerprint:
                        logger.info("another replica answered this message; saying nothing")
                        return
                    logger.info("another replica saved first; running the turn again")
                    continue
            await release(turn_context, held)
            return

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """No card of this bot uses Action.Execute (they submit as messages), and it has no
        sign-in, task modules or message extensions. Every invoke is answered «not implemented»,
        as the SDK answers most; its own reading of `adaptiveCard/action` fails the turn on an
        `action` that is not an object."""
        return InvokeResponse(status=int(HTTPStatus.NOT_IMPLEMENTED))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        personal = _is_personal(turn_context.activity)
        # A member list from outside may hold anything, a null included.
        added = {getattr(member, "id", None) for member in members_added}
        if personal or (bot_id is not None and bot_id in added):
            await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        """Once per conversation, though Teams announces an install more than once."""
        if not await self._conversations.claim_welcome(turn_context.activity.conversation.id):
            return
        texts: Texts = turn_context.turn_state[TEXTS_KEY]
        if _is_personal(turn_context.activity):
            await self._send_menu(turn_context, texts, welcome_text(texts))
        else:
            await turn_context.send_activity(texts("menu.welcome_shared"))

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        remove_bot_mention(turn_context.activity)
        texts: Texts = turn_context.turn_state[TEXTS_KEY]
        reporter: Reporter = turn_context.turn_state[REPORTER_KEY]
        personal = _is_personal(turn_context.activity)
        value = turn_context.activity.value
        card_action = value.get("action") if isinstance(value, dict) else None
        if card_action in _CARD_ACTIONS:
            # A card stands on its own: taken even while a typed report is open, which stays.
            if not personal:
                await turn_context.send_activity(texts("menu.personal_only"))
            elif card_action == SUBMIT_REPORT:
                await self._cards.take_submitted(turn_context, texts, reporter, value)
            elif card_action == HANDLE:
                await self._leaders.act(turn_context, texts, reporter, value)
            elif card_action == STATS:
                await self._statistics.send_statistics(
                    turn_context, texts, reporter, _stats_request_of(value)
                )
            elif card_action == UNDER_REPORTING:
                await self._statistics.send_under_reporting(turn_context, texts, reporter)
            elif card_action == TRAINING:
                await self._training.act(turn_context, texts, reporter, value)
            elif card_action == RISK:
                await self._risk.act(turn_context, texts, reporter, value)
            elif card_action in TIP_ACTIONS:
                await self._tips.act(turn_context, texts, reporter, value)
            else:
                await self._leaders.show(turn_context, texts, reporter, value)
            return

        dialog_context = await self._dialogs.create_context(turn_context)
        if dialog_context.active_dialog is not None:
            await dialog_context.continue_dialog()
            return

        text = (turn_context.activity.text or "").strip()
        if not text:
            problem = "attachment_only" if turn_context.activity.attachments else "empty"
            await self._send_menu(turn_context, texts, texts(f"problem.{problem}"))
            return

        command = self._commands.parse(text)
        if command.intent in _PERSONAL_ONLY and not personal:
            # Reports hold health data: never in a group chat or a channel.
            await turn_context.send_activity(texts("menu.personal_only"))
        elif command.intent in (Intent.REPORT, Intent.RESTART):
            await dialog_context.begin_dialog(ReportDialog.__name__)
        elif command.intent is Intent.FORM:
            await self._cards.send_form(turn_context, texts, reporter)
        elif command.intent is Intent.MINE:
            await self._cards.send_my_reports(turn_context, texts, reporter)
        elif command.intent is Intent.OPEN:
            await self._leaders.send_open(turn_context, texts, reporter)
        elif command.intent is Intent.STATS:
            await self._statistics.send_statistics(
                turn_context, texts, reporter, read_request(command.argument)
            )
        elif command.intent is Intent.UNDER_REPORTING:
            await self._statistics.send_under_reporting(turn_context, texts, reporter)
        elif command.intent is Intent.TRAINING:
            await self._training.send_list(turn_context, texts, reporter)
        elif command.intent is Intent.TRAINING_STATUS:
            await self._training.send_completion(turn_context, texts, reporter)
        elif command.intent is Intent.RISK:
            await self._risk.send_mine(turn_context, texts, reporter)
        elif command.intent is Intent.RISK_OVERVIEW:
            await self._risk.send_overview(turn_context, texts, reporter)
        elif command.intent is Intent.AMU:
            await self._statistics.send_amu(turn_context, texts, reporter, command.argument)
        elif command.intent is Intent.OVERDUE:
            await self._leaders.send_overdue(turn_context, texts, reporter)
        elif command.intent is Intent.NEW_TIP:
            await self._tips.compose(turn_context, texts, reporter)
        elif command.intent is Intent.TIPS:
            await self._tips.library(turn_context, texts, reporter)
        elif command.intent is Intent.HELP:
            await self._send_menu(turn_context, texts, help_text(texts))
        elif command.intent is Intent.LANGUAGE:
            await self._switch_language(turn_context, texts, command.language)
        elif command.intent is Intent.CANCEL:
            await turn_context.send_activity(texts("menu.nothing_to_cancel"))
        elif command.intent is Intent.GREETING:
            await self._send_menu(
                turn_context, texts, f"{texts('menu.greeting')}\n\n{texts('menu.what_now')}"
            )
        else:
            await self._send_menu(turn_context, texts, texts("menu.not_understood"))

    async def _switch_language(
        self, turn_context: TurnContext, texts: Texts, language: str | None
    ) -> None:
        if language is None:
            await turn_context.send_activity(texts("language.unknown"))
            return
        await self._desk.choose_language(turn_context.turn_state[REPORTER_KEY], language)
        turn_context.turn_state[TEXTS_KEY] = self._catalogues[language]
        await turn_context.send_activity(self._catalogues[language]("language.switched"))

    @staticmethod
    async def _send_menu(turn_context: TurnContext, texts: Texts, text: str) -> None:
        reply = MessageFactory.text(text)
        reply.suggested_actions = SuggestedActions(
            actions=[
                CardAction(type=ActionTypes.im_back, title=title, value=title)
                for title in menu_buttons(texts)
            ]
        )
        await turn_context.send_activity(reply)
