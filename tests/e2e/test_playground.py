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

from bot.oslo_time import OSLO
from bot.playground import (
    PlaygroundMissing,
    PlaygroundOptions,
    playground_command,
    start_playground,
    stop_process,
)
from tests.bot_process import BotProcess, free_port
from tests.chat import EN, NN

CONVERSATION = "e2e-personal"
USER = "user-id-0"  # the Playground's default user


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
    http: aiohttp.ClientSession
    stream: aiohttp.ClientWebSocketResponse
    base: str
    seen: list[str] = field(default_factory=list)

    async def say(self, text: str, *, until: str, seconds: float = 15.0) -> list[str]:
        """Send as the Teams user; return the bot's messages up to one containing `until`."""
        async with self.http.post(
            f"{self.base}/_conversation/v1/conversations/{CONVERSATION}/messages",
            json={"from": {"id": USER}, "text": text, "textFormat": "plain"},
        ) as response:
            assert response.status == 200, await response.text()
        replies: list[str] = []
        async with asyncio.timeout(seconds):
            while not any(until in reply for reply in replies):
                frame = await self.stream.receive()
                event: dict[str, Any] = json.loads(frame.data)
                message = event.get("message", {})
                if (
                    event.get("action") == "createMessage"
                    and message.get("from", {}).get("id") != USER
                ):
                    replies.append(message.get("text") or "")
        self.seen += replies
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


async def test_a_typed_report_in_the_playground(teams: PlaygroundUser) -> None:
    # The Playground's user has an English Teams client (it sends locale en-US).
    assert await teams.say("hei", until="HMS") == [
        f"{EN('menu.greeting')}\n\n{EN('menu.what_now')}"
    ]
    assert await teams.say("språk nynorsk", until="nynorsk") == [NN("language.switched")]
    assert NN("report.ask_description") in await teams.say(
        "meld avvik", until=NN("report.ask_description")
    )
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
    case = f"{datetime.now(OSLO).year}-0001"
    assert await teams.say("Send inn", until="saksnummer") == [NN("report.receipt", case=case)]
    listing = "\n".join(await teams.say("mine avvik", until=case))
    assert NN("category.violence_threats") in listing
    assert NN("status.new") in listing
