"""kill -9 during «Send inn»: the report is stored whole or not at all, and sending again after
the restart gives exactly one report, never two, never one without its `created` event.

Two ways to hit the submit: PostgreSQL hold points (the bot's transaction waits at a known
statement, then the process is killed: deterministic), and SIGKILL after varying delays while
several «Send inn» are in flight at once (both backends: breadth, and the races between them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import aiohttp
import pytest

from domain.oslo_time import OSLO
from tests.bot_process import BotProcess
from tests.chat import NN, first_receipt
from tests.conftest import POSTGRES_URL
from tests.fake_connector import FakeConnector
from tests.faults.pg_holds import (
    SUBMIT_POINTS,
    HoldPoint,
    Holds,
    bot_database_url,
    schema_with_holds,
    wait_until_backends_end,
)
from tests.faults.store import (
    StoredReport,
    assert_case_numbers_have_no_gaps,
    assert_reports_whole,
    empty_postgres,
    stored_reports,
)
from tests.faults.talk import RECEIPT_STARTS, SEND, TYPED_REPORT, TeamsUser

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _case(sequence: int) -> str:
    return f"{datetime.now(OSLO).year}-{sequence:04d}"  # the process runs on the real clock


# ---- PostgreSQL: killed at a known statement of the submit ----------------------------------


@pytest.fixture(scope="module")
def _held_schema(_postgres_schema: str) -> Iterator[str]:
    with schema_with_holds(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def holds(_held_schema: str) -> Holds:
    empty_postgres(_held_schema)
    return Holds(_held_schema)


@pytest.mark.postgres
@pytest.mark.parametrize("point", SUBMIT_POINTS, ids=str)
async def test_kill_9_at_a_point_of_the_submit_then_send_again(
    point: HoldPoint, holds: Holds, connector: FakeConnector
) -> None:
    kari = TeamsUser(connector)
    url, application_name = bot_database_url(holds.database_url)
    first = BotProcess(url)
    await first.start()
    try:
        await kari.answer(first.url, TYPED_REPORT)
        async with holds.holding(point):
            sending = asyncio.create_task(kari.post(first.url, SEND))
            await holds.wait_until_waiting(point)
            first.kill()
            with pytest.raises(aiohttp.ClientError):
                await sending
    finally:
        first.kill()
    await wait_until_backends_end(holds.database_url, application_name)

    before = await stored_reports(holds.database_url)
    assert_reports_whole(before)
    assert len(before) == (1 if point.stored else 0)
    # Replies wait for the state to be saved: killed before that, the bot has said nothing,
    # not even at the last point, after the report's commit.
    assert connector.take_texts(kari.conversation_id) == []

    second = BotProcess(bot_database_url(holds.database_url)[0])
    await second.start()
    try:
        receipt = await kari.say(second.url, SEND)
    finally:
        second.stop()
    assert receipt == [first_receipt(_case(1))]
    after = await stored_reports(holds.database_url)
    assert_reports_whole(after)
    assert len(after) == 1
    if before:
        assert after == before  # the same report, found again by its submission key


# ---- both backends: killed after varying delays, several submits in flight ------------------

ROUNDS = (0.0, 0.5, 0.7, 0.85, 1.0, 1.1, 1.2, 1.35, 1.5, 1.8)  # × one submit's duration
AT_ONCE = 2  # «Send inn» from this many people in each round, at the same moment


async def _send_and_kill(bot: BotProcess, users: list[TeamsUser], delay: float) -> int:
    """«Send inn» from each user at once, SIGKILL after the delay; how many were cut off."""
    sending = [asyncio.create_task(user.post(bot.url, SEND)) for user in users]
    await asyncio.sleep(delay)
    bot.kill()
    outcomes = await asyncio.gather(*sending, return_exceptions=True)
    for outcome in outcomes:
        assert outcome == 201 or isinstance(outcome, aiohttp.ClientError), outcome
    return sum(isinstance(outcome, aiohttp.ClientError) for outcome in outcomes)


async def _after_the_kill(database_url: str, application_name: str | None) -> list[StoredReport]:
    if application_name:
        await wait_until_backends_end(database_url, application_name)
    reports = await stored_reports(database_url)
    assert_reports_whole(reports)
    assert_case_numbers_have_no_gaps(reports)
    return reports


@pytest.mark.parametrize("backend", BACKENDS)
async def test_kill_9_while_send_inn_is_in_flight_then_send_again(
    backend: str, connector: FakeConnector, request: pytest.FixtureRequest
) -> None:
    database_url: str = request.getfixturevalue(f"{backend}_url")
    postgres = backend == "postgres"

    def process() -> tuple[BotProcess, str | None]:
        if not postgres:
            return BotProcess(database_url), None
        url, application_name = bot_database_url(database_url)
        return BotProcess(url), application_name

    users = [TeamsUser(connector, name=f"user{n}") for n in range(len(ROUNDS) * AT_ONCE)]
    timer = TeamsUser(connector, name="timer")
    typist, application_name = process()
    await typist.start()
    try:
        await asyncio.gather(*(u.answer(typist.url, TYPED_REPORT) for u in [*users, timer]))
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await timer.say(typist.url, SEND) == [first_receipt(_case(1))]
        one_submit = loop.time() - started
    finally:
        typist.kill()
    await _after_the_kill(database_url, application_name)

    cut_off = 0
    for round_number, share in enumerate(ROUNDS):
        bot, application_name = process()
        await bot.start()
        try:
            # Warm: a pooled database connection and a connector client, as in a running bot.
            await TeamsUser(connector, name="warm").say(bot.url, "hei")
            these = users[round_number * AT_ONCE : (round_number + 1) * AT_ONCE]
            cut_off += await _send_and_kill(bot, these, share * one_submit)
        finally:
            bot.kill()
        await _after_the_kill(database_url, application_name)
    assert cut_off > 0, "no kill landed while a submit was in flight"

    before = {r.reporter: r for r in await stored_reports(database_url)}
    last, _ = process()
    await last.start()
    try:
        for user in users:
            connector.take_texts(user.conversation_id)  # what the killed rounds sent
            replies = await user.say(last.url, SEND)
            stored = before.get(f"aad-{user.name}")
            if stored is not None and not replies[0].startswith(RECEIPT_STARTS):
                # The turn that stored it also saved the dialog's end: now it is just a message.
                assert replies == [NN("menu.not_understood")], replies
            elif stored is not None:
                assert replies == [first_receipt(stored.case_number)]
            else:
                [receipt] = replies
                assert receipt.startswith(RECEIPT_STARTS), receipt
    finally:
        last.stop()

    after = await stored_reports(database_url)
    assert_reports_whole(after)
    assert_case_numbers_have_no_gaps(after)
    assert sorted(r.reporter or "" for r in after) == sorted(
        f"aad-{u.name}" for u in [*users, timer]
    )
    for reporter, report in before.items():
        assert next(r for r in after if r.reporter == reporter) == report
