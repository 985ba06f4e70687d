"""End to end through Microsoft's own Teams emulator, the Agents Playground.

The bot runs as a real process; the Playground posts Teams activities to it and mocks the
connector. We speak as the Playground's user over its HTTP API and read the bot's replies
from the Playground's conversation stream, as its web chat does.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, select

from bot.oslo_time import OSLO
from bot.playground import (
    CONVERSATION_ID,
    PlaygroundMissing,
    PlaygroundOptions,
    playground_command,
    start_playground,
    stop_process,
)
from storage.db import create_async_db_engine, session_factory
from storage.models import Person, Report
from tests.bot_process import BotProcess, free_port
from tests.chat import EN, NN

CONVERSATION = CONVERSATION_ID  # the personal chat in e2e/.m365agentsplayground.yml
USER = "user-id-0"  # Kari Nordmann there, the Playground's current user
KARI_AAD = "5b0d7c51-0a4e-4e8f-9f0a-00000000a001"

Message = dict[str, Any]


def words(message: Message) -> str:
    """A message's text and the texts of its cards, to search in."""
    cards = [a.get("content") for a in message.get("attachments") or []]
    return " ".join(
        [message.get("text") or "", *(json.dumps(c, ensure_ascii=False) for c in cards)]
    )


def _require_playground() -> None:
    try:
        playground_command()
    except PlaygroundMissing as missing:
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so the Agents Playground cannot run here")
        raise AssertionError(f"{missing} (npm is here, so `make test` installs it)") from None


async def _wait_for_port(port: int, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the Playground did not listen on {port}")


@dataclass
class PlaygroundUser:
    """Kari in the Playground: types, presses card buttons, reads what the chat shows."""

    http: aiohttp.ClientSession
    stream: aiohttp.ClientWebSocketResponse
    base: str
    updated: list[Message] = field(default_factory=list)

    async def say(self, text: str, *, until: str, seconds: float = 15.0) -> list[Message]:
        """Send as the Teams user; the bot's messages up to one that shows `until`."""
        await self._post(
            f"/_conversation/v1/conversations/{CONVERSATION}/messages",
            {"from": {"id": USER}, "text": text, "textFormat": "plain"},
        )
        return await self._replies(until, seconds)

    async def says(self, text: str, *, until: str) -> list[str]:
        return [m.get("text") or "" for m in await self.say(text, until=until)]

    async def install(self, *, until: str) -> list[str]:
        """Add the app to the personal chat, as Teams does on install (two events)."""
        await self._post(f"/_debug/conversation/{CONVERSATION}/installation", {})
        return [m.get("text") or "" for m in await self._replies(until, 15.0)]

    async def press_submit(
        self, card_message: Message, inputs: dict[str, str], *, until: str
    ) -> list[Message]:
        """Press the card's submit button, as the Playground's web chat does."""
        [card] = [a["content"] for a in card_message["attachments"]]
        value = {**card["actions"][0]["data"], **inputs}
        await self._post(
            "/_conversation/v1/submit",
            {
                "conversation": {"id": CONVERSATION},
                "from": {"id": USER},
                "replyToId": card_message["messageId"],
                "value": value,
            },
        )
        return await self._replies(until, 15.0)

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        async with self.http.post(f"{self.base}{path}", json=body) as response:
            assert response.status == 200, await response.text()

    async def _replies(self, until: str, seconds: float) -> list[Message]:
        replies: list[Message] = []
        async with asyncio.timeout(seconds):
            while not any(until in words(reply) for reply in replies):
                event: dict[str, Any] = json.loads((await self.stream.receive()).data)
                message = event.get("message", {})
                if message.get("from", {}).get("id") == USER:
                    continue
                if event.get("action") == "createMessage":
                    replies.append(message)
                elif event.get("action") == "updateMessage":
                    self.updated.append(message)
        return replies


@pytest.fixture
async def teams(sqlite_url: str) -> AsyncIterator[PlaygroundUser]:
    _require_playground()
    bot = BotProcess(sqlite_url)
    await bot.start()
    port = free_port()
    playground = start_playground(
        PlaygroundOptions(
            bot_url=f"{bot.url}/api/messages", port=port, conversation_id=CONVERSATION
        )
    )
    try:
        await _wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{base}/_ws_conversation/v1/conversations/stream") as stream,
        ):
            yield PlaygroundUser(http, stream, base)
    finally:
        stop_process(playground)
        bot.stop()


async def reporters(sqlite_url: str) -> dict[str, str]:
    """Case number -> the reporter's Entra object id, as stored."""
    engine = create_async_db_engine(sqlite_url)
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(col(Report.case_number), col(Person.aad_object_id)).join(
                Person, col(Person.id) == col(Report.reporter_id)
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
    assert EN("menu.what_now") in welcome
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
    assert await teams.says("Send inn", until="saksnummer") == [NN("report.receipt", case=typed)]

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
    [receipt] = await teams.press_submit(form, inputs, until=by_card)
    assert NN("card.receipt_title", case=by_card) in words(receipt)
    # Pressed again (a double click, or a retry): still one report, and the user is told.
    [again] = await teams.press_submit(form, inputs, until=by_card)
    assert again["text"] == NN("report.already_submitted", case=by_card)

    # «Mine avvik» lists both, with status.
    [mine] = await teams.say("mine avvik", until=typed)
    listing = words(mine)
    for case in (typed, by_card):
        assert f"{case} · {NN('status.new')}" in listing
    assert NN("category.violence_threats") in listing
    assert NN("category.fall_accident") in listing

    # Both are Kari's by her Entra object id from the Playground's config, not by her name.
    assert await reporters(sqlite_url) == {typed: KARI_AAD, by_card: KARI_AAD}
    # The filled-in form was replaced by the receipt in the chat.
    assert any(
        m.get("messageId") == form["messageId"] and by_card in words(m) for m in teams.updated
    )
