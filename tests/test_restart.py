"""A crash mid-report loses nothing: kill -9 the bot at any step, start it again, finish.

Each run kills the process (SIGKILL: no shutdown hooks) after the bot asked a different
question of the typed report, starts a new process on the same database, and checks that the
next answer is taken as the answer to that question, that the summary and the stored report
hold every earlier answer, and that «Send inn» stores exactly one report.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.oslo_time import OSLO
from tests.bot_process import BotProcess
from tests.chat import first_receipt
from tests.fake_connector import FakeConnector
from tests.faults.store import assert_reports_whole, stored_reports
from tests.faults.talk import SEND, STORED, SUMMARY_SHOWS, TYPED_REPORT, TeamsUser

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Killed once the bot has asked question `step`: 1 is «what happened», 10 the summary.
STEPS = range(1, len(TYPED_REPORT) + 1)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("backend", BACKENDS)
async def test_kill_9_mid_report_then_finish_it(
    backend: str, step: int, connector: FakeConnector, request: pytest.FixtureRequest
) -> None:
    database_url: str = request.getfixturevalue(f"{backend}_url")
    kari = TeamsUser(connector)
    first = BotProcess(database_url)
    await first.start()
    try:
        replies = await kari.answer(first.url, TYPED_REPORT[:step])
    finally:
        first.kill()

    second = BotProcess(database_url)
    await second.start()
    try:
        # The first answer after the restart is taken at the step the bot died at.
        replies = await kari.answer(second.url, TYPED_REPORT[step:]) or replies
        summary = "\n".join(replies)
        for answer in SUMMARY_SHOWS:
            assert answer in summary
        receipt = await kari.say(second.url, SEND)
    finally:
        second.stop()

    this_year = datetime.now(OSLO).year  # the process runs on the real clock
    assert receipt == [first_receipt(f"{this_year}-0001")]
    [report] = await stored_reports(database_url)
    assert_reports_whole([report])
    assert {name: report.fields[name] for name in STORED} == STORED
