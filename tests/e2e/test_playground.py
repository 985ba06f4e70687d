"""End to end through Microsoft's own Teams emulator, the Agents Playground.

The bot runs as a real process; the Playground posts Teams activities to it and mocks the
connector. We speak as the Playground's user over its HTTP API and read the bot's replies
from the Playground's conversation stream, as its web chat does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.cli.playground import CONFIG, CONVERSATION_ID
from domain.oslo_time import OSLO
from storage.db import create_async_db_engine, session_factory
from storage.models import Person as PersonRow
from storage.models import Report
from tests.bot_process import BotProcess
from tests.categories import category
from tests.chat import EN, NN, first_receipt
from tests.e2e.harness import (
    KARI,
    Person,
    PlaygroundUser,
    playground_for,
    require_playground,
    words,
)

# Kari as `make run` shows her: the committed e2e/.m365agentsplayground.yml.
KARI_AS_IN_MAKE_RUN = Person(
    "kari", KARI.name, KARI.aad_object_id, user_id="user-id-0", chat_id=CONVERSATION_ID
)


@pytest.fixture
async def teams(sqlite_url: str, tmp_path: Path) -> AsyncIterator[PlaygroundUser]:
    require_playground()
    bot = BotProcess(sqlite_url)
    await bot.start()
    try:
        async with playground_for(KARI_AS_IN_MAKE_RUN, bot.url, tmp_path, config=CONFIG) as kari:
            yield kari
    finally:
        bot.stop()


async def reporters(sqlite_url: str) -> dict[str, str]:
    """Case number -> the reporter's Entra object id, as stored."""
    engine = create_async_db_engine(sqlite_url)
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(col(Report.case_number), col(PersonRow.aad_object_id)).join(
                PersonRow, col(PersonRow.id) == col(Report.reporter_id)
            )
        )
        found = {row.case_number: row.aad_object_id for row in rows}
    await engine.dispose()
    return found


async def test_typed_and_card_reports_in_the_playground(
    teams: PlaygroundUser, sqlite_url: str
) -> None:
    # The Playground's user has an English Teams client (it sends locale en-US). Teams
    # announces an install twice; the welcome comes once.
    [welcome] = await teams.install(until=EN("help.definition"))
    assert EN("menu.what_now") in words(welcome)
    assert await teams.says("hei", until="HMS") == [
        f"{EN('menu.greeting')}\n\n{EN('menu.what_now')}"
    ]
    assert await teams.says("språk nynorsk", until="nynorsk") == [NN("language.switched")]

    # A whole report, typed.
    await teams.say("meld avvik", until=NN("report.ask_description"))
    steps = [
        ("Tilsett vart lugga og klora av elev i friminuttet.", "report.ask_harm"),
        ("Skade", "report.ask_category"),
        ("vald", "report.ask_severity"),
        ("Middels", "report.ask_unit"),
        ("Vossevangen skule", "report.ask_location"),
        ("Skuleplassen", "report.ask_when"),
        ("no nettopp", "report.ask_immediate_action"),
        ("Kollega tok over eleven.", "report.ask_suggested_measure"),
        ("Hopp over", "report.summary_title"),
    ]
    for text, expected in steps:
        await teams.say(text, until=NN(expected))
    year = datetime.now(OSLO).year
    typed, by_card = f"{year}-0001", f"{year}-0002"
    assert await teams.says("Send inn", until="saksnummer") == [first_receipt(typed)]

    # A whole report, by card: ask for the form, fill it in, press «Send inn».
    [form] = await teams.say("skjema", until=NN("card.form_title"))
    today = datetime.now(OSLO).date().isoformat()
    inputs = {
        "description": "Glatt golv i gangen etter vask, ingen skilt. Tilsett skli men fall ikkje.",
        "harm": "near_miss",
        "category": "fall_accident",
        "severity": "low",
        "unit": "Vossevangen skule",
        "location": "Gangen ved gymsalen",
        "date": today,
        "time": "",
        "immediate_action": "Sette opp skilt.",
        "suggested_measure": "Vask etter skuletid.",
    }
    submit = form["attachments"][0]["content"]["actions"][0]["data"]
    [receipt] = await teams.press(form, submit, inputs, until=by_card)
    assert NN("card.receipt_title", case=by_card) in words(receipt)
    # Pressed again (a double click, or a retry): still one report, and the user is told.
    [again] = await teams.press(form, submit, inputs, until=by_card)
    assert again["text"] == NN("report.already_submitted", case=by_card)

    # «Mine avvik» lists both, with status.
    [mine] = await teams.say("mine avvik", until=typed)
    listing = words(mine)
    for case in (typed, by_card):
        assert f"{case} · {NN('status.new')}" in listing
    assert category("violence_threats").label("nn") in listing
    assert category("fall_accident").label("nn") in listing

    # Both are Kari's by her Entra object id from the Playground's config, not by her name.
    assert await reporters(sqlite_url) == {typed: KARI.aad_object_id, by_card: KARI.aad_object_id}
    # The filled-in form was replaced by the receipt in the chat.
    assert any(
        m.get("messageId") == form["messageId"] and by_card in words(m) for m in teams.updated
    )
