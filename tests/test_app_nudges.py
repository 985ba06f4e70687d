"""The monthly nudge as the running service sends it: started with the app, through the real
connector path, once; and not at all where it is switched off (dev mode, the default there)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.app import create_app
from bot.config import Settings, load_settings
from bot.proactive.nudges import nudge_message
from storage.conversations import ConversationAddress, remember_conversation
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.migrate import upgrade
from tests.chat import NN
from tests.fake_connector import FakeConnector
from tests.test_http import ClientMaker
from tests.test_nudges import DAY, DUE
from tests.test_under_reporting import add_reports
from tests.voss_org import make_voss


async def _town(url: str, connector: FakeConnector) -> None:
    """Vossevangen skule has been quiet for 100 days; Liv and Lars lead it and have the bot."""
    upgrade(url)
    engine = create_async_db_engine(url)
    sessions: SessionFactory = session_factory(engine)
    voss = await make_voss(sessions)
    await add_reports(sessions, voss.school, DUE - 100 * DAY)
    await add_reports(sessions, voss.home, DUE - 7 * DAY)
    async with sessions() as session, session.begin():
        for name in ("liv", "lars", "siri"):
            address = ConversationAddress(
                f"a:1{name}-personal",
                "personal",
                f"aad-{name}",
                "msteams",
                connector.url,
                "tenant-voss",
                "28:avviksboten",
            )
            await remember_conversation(session, address)
    await engine.dispose()


async def _inbox(connector: FakeConnector, name: str, *, within: float) -> list[str]:
    for _ in range(int(within / 0.05)):
        if connector.sent[f"a:1{name}-personal"]:
            break
        await asyncio.sleep(0.05)
    return connector.take_texts(f"a:1{name}-personal")


async def test_the_service_nudges_the_leaders_of_a_quiet_unit_once(
    aiohttp_client: ClientMaker,
    connector: FakeConnector,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.proactive.nudges")
    await _town(sqlite_url, connector)
    settings = Settings(dev_mode=True, database_url=sqlite_url, nudges=True)
    client = await aiohttp_client(create_app(settings, clock=lambda: DUE))
    expected = nudge_message(NN, unit_name="Vossevangen skule", month=202611)
    assert await _inbox(connector, "liv", within=10) == [expected]
    assert await _inbox(connector, "lars", within=2) == [expected]
    assert connector.take_texts("a:1siri-personal") == []  # her unit reports
    await client.close()
    # A restart the same day looks again, finds the unit still quiet, and sends nothing.
    caplog.clear()
    await aiohttp_client(create_app(settings, clock=lambda: DUE))
    for _ in range(200):
        if any("0 nudge(s) queued" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.05)
    assert any("1 unit(s) flagged, 0 nudge(s) queued" in r.getMessage() for r in caplog.records)
    assert connector.take_texts("a:1liv-personal") == []


async def test_no_nudges_where_they_are_off(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    await _town(sqlite_url, connector)
    settings = Settings(dev_mode=True, database_url=sqlite_url)
    await aiohttp_client(create_app(settings, clock=lambda: DUE))
    assert await _inbox(connector, "liv", within=1) == []


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({"MicrosoftAppId": "id", "MicrosoftAppPassword": "pw"}, True),
        ({"MicrosoftAppId": "id", "MicrosoftAppPassword": "pw", "AVVIK_NUDGES": "0"}, False),
        ({"AVVIK_DEV_MODE": "1"}, False),
        ({"AVVIK_DEV_MODE": "1", "AVVIK_NUDGES": "1"}, True),
    ],
)
def test_nudges_are_on_when_serving_for_real(env: dict[str, str], on: bool) -> None:
    assert load_settings(env).nudges is on
