"""Two bot processes on one PostgreSQL, as a production with two replicas runs: each message of
a report may reach either, and a double tap on «Send inn» reaches both at once. The user gets
one report and one answer, never an apology; the log says so at INFO, without a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.bot_process import BotProcess
from tests.chat import NN
from tests.fake_connector import FakeConnector
from tests.faults.store import stored_reports
from tests.faults.talk import SEND, TYPED_REPORT, TeamsUser, asked

pytestmark = pytest.mark.postgres

DOUBLE_TAPS = 6


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[tuple[BotProcess, BotProcess]]:
    first, second = BotProcess(postgres_url), BotProcess(postgres_url)
    await asyncio.gather(first.start(), second.start())
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def apologies(replies: list[str]) -> list[str]:
    sorry = (NN("problem.turn_error"), NN("problem.database_down"))
    return [reply for reply in replies if reply in sorry]


async def test_every_other_message_to_the_other_replica_and_a_double_tap_to_both(
    replicas: tuple[BotProcess, BotProcess], connector: FakeConnector, postgres_url: str
) -> None:
    first, second = replicas
    for n in range(DOUBLE_TAPS):
        kari = TeamsUser(connector, name=f"kari{n}")
        for i, step in enumerate(TYPED_REPORT):
            replies = await kari.say((first, second)[i % 2].url, step.answer)
            assert asked(replies, step.asks), (step.answer, replies)
        # One tap, two activities, one to each replica, at the same moment.
        statuses = await asyncio.gather(kari.post(first.url, SEND), kari.post(second.url, SEND))
        assert statuses == [201, 201]
        answers = connector.take_texts(kari.conversation_id)
        assert apologies(answers) == [], answers
        assert len(answers) == 1, answers
        receipt = NN("report.receipt", case="\x00").split("\x00")[0]
        already = NN("report.already_submitted", case="\x00").split("\x00")[0]
        assert answers[0].startswith((receipt, already)), answers
    reports = await stored_reports(postgres_url)
    assert len(reports) == DOUBLE_TAPS
    assert len({r.submission_key for r in reports}) == DOUBLE_TAPS
    logs = first.log() + second.log()
    assert "Traceback" not in logs
    assert "StateConflict" not in logs
