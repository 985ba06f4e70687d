"""A turn's replies go out only after its dialog state is saved (bot/edge/held_replies.py):
when the save fails, the user never sees the next question while the bot still waits for the
answer to this one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.edge.turn_errors import make_turn_error_handler
from storage.bot_state import SqlStorage
from storage.db import SessionFactory
from tests.chat import NN, Chat, make_bot

DESCRIPTION = "Ein SFO-tilsett skli på glatt skuleplass som ikkje var strødd, og slo seg."


async def test_a_failed_save_shows_no_next_question(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = make_bot(sessions)
    chat = Chat(bot)
    chat.adapter.on_turn_error = make_turn_error_handler(bot.texts_for_locale)  # as bot.app does
    assert NN("report.ask_description") in await chat.says("meld avvik")

    real_write = SqlStorage.write
    failing = {"writes": 1}

    async def write(self: SqlStorage, changes: Any) -> None:
        if failing["writes"]:
            failing["writes"] -= 1
            raise OperationalError("UPDATE bot_state", {}, Exception("the database went away"))
        await real_write(self, changes)

    monkeypatch.setattr(SqlStorage, "write", write)
    answer = await chat.says(DESCRIPTION)
    assert NN("report.ask_harm") not in answer  # the bot still waits for the description
    assert answer == NN("problem.database_down")

    # The same answer again, now that the database is back: the dialog goes on from there.
    assert NN("report.ask_harm") in await chat.says(DESCRIPTION)
    assert NN("report.ask_category") in await chat.says(NN("harm.injury"))


async def test_a_card_press_still_answers_at_once(sessions: SessionFactory) -> None:
    """Replies to a card are not held: the form card arrives as before."""
    chat = Chat(make_bot(sessions))
    [form] = await chat.say("skjema")
    assert form.attachments
