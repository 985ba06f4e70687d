"""A crash mid-report loses nothing: kill -9 the bot process, start it again, finish."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
import pytest

from bot.oslo_time import OSLO
from tests.bot_process import BotProcess
from tests.chat import NN
from tests.fake_connector import FakeConnector, teams_message


async def say(bot: BotProcess, connector: FakeConnector, text: str, sequence: int) -> list[str]:
    activity: dict[str, Any] = teams_message(text, service_url=connector.url, sequence=sequence)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bot.url}/api/messages", json=activity) as response,
    ):
        assert response.status == 201
    return connector.take_texts("a:1kari-personal")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_kill_9_mid_report_then_finish_it(
    backend: str, connector: FakeConnector, request: pytest.FixtureRequest
) -> None:
    database_url: str = request.getfixturevalue(f"{backend}_url")
    first = BotProcess(database_url)
    await first.start()
    try:
        await say(first, connector, "meld avvik", 1)
        await say(first, connector, "Vasskran lak i garderoben, golvet var glatt.", 2)
        await say(first, connector, "Nestenulukke", 3)
        assert NN("report.ask_severity") in "\n".join(await say(first, connector, "7", 4))
    finally:
        first.kill()

    second = BotProcess(database_url)
    await second.start()
    try:
        assert NN("report.ask_unit") in await say(second, connector, "Låg", 5)
        for sequence, answer in enumerate(
            ["Voss symjehall", "Garderoben", "no nettopp", "Sette ut skilt", "Hopp over"], 6
        ):
            replies = await say(second, connector, answer, sequence)
        summary = "\n".join(replies)
        assert "Vasskran lak i garderoben" in summary
        assert NN("category.indoor_building") in summary
        receipt = await say(second, connector, "Send inn", 11)
        assert len(receipt) == 1
        this_year = datetime.now(OSLO).year  # the process runs on the real clock
        assert receipt == [NN("report.receipt", case=f"{this_year}-0001")]
    finally:
        second.stop()
