"""«HMS i små dosar» in Microsoft's Teams emulator, one Playground per person: Hanne (the HMS
adviser) writes a tip for Oppvekst, previews it and sends it; Liv and Ola, who lead Vossevangen
skule, get it and Siri (Helse og omsorg) does not; Liv finds it useful; Hanne's report card
shows 2 sent and 1 useful."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from domain.oslo_time import OSLO
from domain.working_time import WorkingCalendar, parse_weekdays
from tests.bot_process import BotProcess
from tests.chat import EN, NN
from tests.e2e.harness import (
    HANNE,
    LIV,
    SIRI,
    Message,
    Person,
    buttons,
    playground_for,
    require_playground,
)
from tests.e2e.test_leaders_in_playground import import_organisation

OLA = Person("ola", "Ola Nestleiar", "5b0d7c51-0a4e-4e8f-9f0a-00000000a007")
TITLE = "Meld nestenulukkene"
# Every hour of every day is working time for this bot: the test runs whenever CI does.
ALWAYS = {
    "AVVIK_WORKING_HOURS": "00:00-23:59",
    "AVVIK_WORKING_DAYS": "mon-sun",
    "AVVIK_DAYS_OFF": "",
    "AVVIK_SCHEDULER_SECONDS": "1",
}


def card_of(message: Message) -> dict[str, Any]:
    [card] = [a["content"] for a in message["attachments"]]
    return card  # type: ignore[no-any-return]


def submit_in_body(card: Any, action: str) -> list[dict[str, Any]]:
    """Submit buttons anywhere on a card (the votes sit in its body)."""
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if card.get("type") == "Action.Submit" and card["data"].get("action") == action:
            found.append(card["data"])
        for value in card.values():
            found += submit_in_body(value, action)
    elif isinstance(card, list):
        for value in card:
            found += submit_in_body(value, action)
    return found


def figures(message: Message) -> dict[str, str]:
    [fact_set] = [e for e in card_of(message)["body"] if e["type"] == "FactSet"]
    return {f["title"]: f["value"] for f in fact_set["facts"]}


async def test_a_tip_to_oppvekst_reaches_its_leaders_and_is_counted(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_playground()
    calendar = WorkingCalendar(weekdays=parse_weekdays("mon-sun"), days_off=())
    if calendar.is_public_holiday(datetime.now(OSLO).date()):
        pytest.skip("today is a Norwegian public holiday: no tip goes out")
    import_organisation(sqlite_url)
    bot = BotProcess(sqlite_url, extra_env=ALWAYS)
    await bot.start()
    try:
        async with (
            playground_for(HANNE, bot.url, tmp_path) as hanne,
            playground_for(LIV, bot.url, tmp_path) as liv,
            playground_for(OLA, bot.url, tmp_path) as ola,
            playground_for(SIRI, bot.url, tmp_path) as siri,
        ):
            for person in (hanne, liv, ola, siri):
                await person.install(until=EN("help.definition"))
                await person.say("språk nynorsk", until=NN("language.switched"))

            [form] = await hanne.say("nytt tips", until=NN("tips.compose_title"))
            [audience] = [e for e in card_of(form)["body"] if e.get("id") == "tip_audience"]
            [oppvekst] = [c["value"] for c in audience["choices"] if c["title"] == "Oppvekst"]
            inputs = {
                "tip_title": TITLE,
                "tip_news": "Eit avvik er også det som kunne ha gått gale.",
                "tip_reflection": "Kva «det gjekk jo bra»-hending har de aldri meldt?",
                "tip_links": "Arbeidstilsynet | https://www.arbeidstilsynet.no",
                "tip_audience": oppvekst,
                "tip_when": "now",
            }
            preview = await hanne.press(
                form, buttons(form)["tip.compose"], inputs, until=NN("tips.preview_title")
            )
            assert TITLE in str(card_of(preview[0]))  # the tip as the leaders will see it
            info = preview[-1]
            assert NN("tips.preview_count", count=2, reachable=2) in str(card_of(info))
            sent = await hanne.press(
                info, buttons(info)["tip.send"], {}, until=NN("tips.sending", count=2)
            )
            assert sent

            [to_liv] = await liv.replies(until=TITLE)
            [to_ola] = await ola.replies(until=TITLE)
            assert card_of(to_liv) == card_of(to_ola)
            with pytest.raises(TimeoutError):
                await siri.replies(until=TITLE, seconds=3)

            [useful, _not_useful] = submit_in_body(card_of(to_liv), "tip.vote")
            await liv.press(to_liv, useful, {}, until=NN("tips.thanks"))

            [report] = await hanne.replies(until=NN("tips.report_recipients"))
            async with asyncio.timeout(20):
                while True:
                    latest = await hanne.updated_to(report["messageId"], TITLE)
                    shown = figures(latest)
                    if shown[NN("tips.useful")] == "1":
                        break
                    hanne.updated.remove(latest)
            assert shown[NN("tips.report_sent")] == "2"
            assert shown[NN("tips.report_recipients")] == "2"
    finally:
        bot.stop()
