"""The database away for 30 seconds mid-report: friendly answers, nothing lost, back by itself.

A TCP proxy (tests/tcp_proxy.py) stands between the bot process and PostgreSQL. The test cuts
it mid-report: live connections are dropped, new ones refused, later accepted and dropped at
once. Every message in that window must get a 2xx (a 5xx makes the Bot Connector retry) and the
«not saved, send it again» answer in the user's language, never a stack trace. When the proxy
is back, the same process carries on: no restart, the report is finished and stored once.

Also: a database that accepts connections and never answers (told within Teams' 15 seconds),
and the connection lost in the middle of «Send inn», before and during COMMIT.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import aiohttp
import pytest

from domain.oslo_time import OSLO
from tests.bot_process import BotProcess
from tests.chat import EN, NN, first_receipt
from tests.conftest import POSTGRES_URL
from tests.fake_connector import FakeConnector
from tests.faults.pg_holds import (
    COMMIT,
    REPORT_ROW,
    HoldPoint,
    Holds,
    bot_database_url,
    schema_with_holds,
    wait_until_backends_end,
)
from tests.faults.store import assert_reports_whole, empty_postgres, stored_reports
from tests.faults.talk import (
    RECEIPT_STARTS,
    SEND,
    STORED,
    SUMMARY_SHOWS,
    TYPED_REPORT,
    TeamsUser,
    asked,
)
from tests.tcp_proxy import Outage, TcpProxy

pytestmark = pytest.mark.postgres

OUTAGE_SECONDS = 30.0
ASK_AGAIN_EVERY = 4.0  # seconds between the messages sent while the database is away


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    tcp = TcpProxy.to_database(postgres_url)
    await tcp.start()
    yield tcp
    await tcp.stop()


async def _health(bot: BotProcess) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/healthz") as response:
        return response.status


async def test_database_away_for_30_seconds_mid_report(
    proxy: TcpProxy, postgres_url: str, connector: FakeConnector
) -> None:
    kari = TeamsUser(connector)
    ola = TeamsUser(connector, name="ola", locale="en-US")
    bot = BotProcess(proxy.url_for(postgres_url))
    await bot.start()
    try:
        await kari.answer(bot.url, TYPED_REPORT[:4])  # the bot asks how serious it was
        severity = TYPED_REPORT[4]

        await proxy.cut(Outage.REFUSE)
        loop = asyncio.get_running_loop()
        back_at = loop.time() + OUTAGE_SECONDS
        tries = 0
        while loop.time() < back_at - 1.0:
            if loop.time() > back_at - OUTAGE_SECONDS / 2:
                await proxy.cut(Outage.RESET)  # the second half: accepted, then dropped
            assert await kari.say(bot.url, severity.answer) == [NN("problem.database_down")]
            assert await ola.say(bot.url, "report incident") == [EN("problem.database_down")]
            assert await _health(bot) == 503
            tries += 1
            await asyncio.sleep(min(ASK_AGAIN_EVERY, max(back_at - loop.time() - 1.0, 0)))
        await asyncio.sleep(max(back_at - loop.time(), 0))
        await proxy.restore()
        assert tries >= OUTAGE_SECONDS // ASK_AGAIN_EVERY

        # Back by itself: the same process, the same step, every earlier answer kept.
        assert await _health(bot) == 200
        assert asked(await kari.say(bot.url, severity.answer), severity.asks)
        summary = "\n".join(await kari.answer(bot.url, TYPED_REPORT[5:]))
        for answer in SUMMARY_SHOWS:
            assert answer in summary
        [receipt] = await kari.say(bot.url, SEND)
        assert receipt.startswith(RECEIPT_STARTS)
    finally:
        bot.stop()

    [report] = await stored_reports(postgres_url)
    assert_reports_whole([report])
    assert {name: report.fields[name] for name in STORED} == STORED
    assert report.case_number in receipt


TEAMS_WAITS_SECONDS = 15.0  # then Teams gives up on the bot and sends the activity again


async def test_a_database_that_never_answers_is_told_within_teams_patience(
    proxy: TcpProxy, postgres_url: str, connector: FakeConnector
) -> None:
    """A host gone behind a firewall: connections are accepted and never answered. Without a
    connect timeout the turn would wait for ever and Teams would send the message again."""
    kari = TeamsUser(connector)
    bot = BotProcess(proxy.url_for(postgres_url))
    await bot.start()
    try:
        await kari.answer(bot.url, TYPED_REPORT[:2])
        harm = TYPED_REPORT[2]
        await proxy.cut(Outage.HANG)
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await kari.say(bot.url, harm.answer) == [NN("problem.database_down")]
        assert loop.time() - started < TEAMS_WAITS_SECONDS
        await proxy.restore()
        assert asked(await kari.say(bot.url, harm.answer), harm.asks)
    finally:
        bot.stop()


# ---- the connection lost in the middle of «Send inn» ----------------------------------------


@pytest.fixture(scope="module")
def _held_schema(_postgres_schema: str) -> Iterator[str]:
    with schema_with_holds(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def holds(_held_schema: str) -> Holds:
    empty_postgres(_held_schema)
    return Holds(_held_schema)


@pytest.mark.parametrize("point", [REPORT_ROW, COMMIT], ids=str)
async def test_connection_lost_during_send_inn_then_send_again(
    point: HoldPoint, holds: Holds, connector: FakeConnector
) -> None:
    """Lost before COMMIT: nothing stored. Lost while the server commits: stored, though the
    bot could not know. Either way the user is asked to send again, and that gives one report."""
    tcp = TcpProxy.to_database(holds.database_url)
    await tcp.start()
    url, application_name = bot_database_url(holds.database_url)
    bot = BotProcess(tcp.url_for(url))
    kari = TeamsUser(connector)
    try:
        await bot.start()
        await kari.answer(bot.url, TYPED_REPORT)
        async with holds.holding(point):
            sending = asyncio.create_task(kari.post(bot.url, SEND))
            await holds.wait_until_waiting(point)
            await tcp.cut(Outage.RESET)
            assert await sending == 201
        assert connector.take_texts(kari.conversation_id) == [NN("problem.database_down")]
        await wait_until_backends_end(holds.database_url, application_name)
        assert len(await stored_reports(holds.database_url)) == (1 if point.stored else 0)

        await tcp.restore()
        case = f"{datetime.now(OSLO).year}-0001"
        assert await kari.say(bot.url, SEND) == [first_receipt(case)]
    finally:
        bot.stop()
        await tcp.stop()
    reports = await stored_reports(holds.database_url)
    assert_reports_whole(reports)
    assert [r.case_number for r in reports] == [case]
