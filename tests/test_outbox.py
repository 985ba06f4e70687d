"""The outbox and its sender (storage/outbox.py, bot/proactive/outbox_sender.py), against a
local fake of the Bot Connector, on SQLite and PostgreSQL: what is tried again and when, what
fails at once and why, who gets a row when two senders run, a sender that died, the
recipient's language at the moment of sending, and Teams' limits per conversation."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botbuilder.integration.aiohttp import CloudAdapter
from sqlalchemy import delete
from sqlmodel import col, select, update

from bot.app import build_adapter
from bot.cli.main import main
from bot.config import Settings
from bot.desks.leader_desk import LeaderDesk
from bot.proactive.app_install import AppInstaller
from bot.proactive.chat_opener import OpenerSettings, TeamsChatOpener
from bot.proactive.messenger import ONE_TRY, TeamsMessenger
from bot.proactive.nudges import NUDGE, nudge_message
from bot.proactive.outbox_messages import OutboxMessages
from bot.proactive.outbox_sender import (
    CONVERSATION_WINDOWS,
    ConversationWindows,
    OutboxSender,
    SenderSettings,
)
from storage import handling, outbox
from storage.db import SessionFactory
from storage.models import ConversationRef, OutboxRow, Person
from tests.chat import CATALOGUES, EN, NN
from tests.fake_connector import FakeConnector
from tests.test_nudges import opened_the_bot
from tests.test_statistics_teams import Clock
from tests.voss_org import make_voss

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
QUICK = SenderSettings(first_wait_seconds=1.0, longest_wait_seconds=60.0, max_attempts=4)


@dataclass
class Post:
    sessions: SessionFactory
    connector: FakeConnector
    adapter: CloudAdapter
    ids: dict[str, int]
    clock: Clock = field(default_factory=lambda: Clock(NOW))

    def sender(
        self,
        settings: SenderSettings = QUICK,
        owner: str | None = None,
        *,
        installer: AppInstaller | None = None,
        opener: OpenerSettings | None = None,
    ) -> OutboxSender:
        """A sender as the service wires it: it opens chats with people who have none (Teams,
        then `installer` if given) and sends through the fake connector."""
        messenger = TeamsMessenger(self.adapter, "", policy=ONE_TRY, limiter_factory=None)
        leaders = LeaderDesk(self.sessions, CATALOGUES, self.clock, "nn")
        drawer = OutboxMessages(leaders, CATALOGUES, self.clock, "nn")
        return OutboxSender(
            self.sessions,
            messenger,
            drawer,
            self.clock,
            settings,
            owner=owner,
            opener=TeamsChatOpener(self.sessions, messenger, opener or OpenerSettings(), installer),
        )

    async def queue(self, name: str, n: int = 1) -> None:
        """`n` messages to one person (a nudge is the plainest kind: one text)."""
        async with self.sessions() as session, session.begin():
            for i in range(n):
                await outbox.enqueue(
                    session,
                    person_id=self.ids[name],
                    kind=NUDGE,
                    payload={"nudge_id": 0, "unit_name": f"Eining {i}", "month": 202611},
                    dedupe_key=f"test:{name}:{i}",
                    now=self.clock(),
                )

    async def rows(self) -> list[OutboxRow]:
        async with self.sessions() as session:
            found = await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))
            return list(found)


@pytest.fixture
async def post(sessions: SessionFactory, connector: FakeConnector) -> AsyncIterator[Post]:
    async with voss_post(sessions, connector) as made:
        yield made


@contextlib.asynccontextmanager
async def voss_post(sessions: SessionFactory, connector: FakeConnector) -> AsyncIterator[Post]:
    """Voss, where Liv, Lars, Siri and Hanne have chats with the bot, and a connector."""
    await make_voss(sessions)
    await opened_the_bot(sessions, "liv", "lars", "siri", "hanne", service_url=connector.url)
    async with sessions() as session:
        people = await session.scalars(select(Person))
        ids = {p.aad_object_id[4:]: p.id for p in people if p.id is not None}
    adapter = build_adapter(Settings(dev_mode=True))
    yield Post(sessions, connector, adapter, ids)
    await adapter.bot_framework_authentication.close()


def liv(connector: FakeConnector) -> list[str]:
    return connector.texts("a:1liv-personal")


@pytest.mark.parametrize(
    ("answer", "waits_at_least"),
    [
        ((429, {"Retry-After": "7"}), 7.0),
        ((429, {}), 0.0),
        ((412, {}), 0.0),
        ((500, {}), 0.0),
        ((502, {}), 0.0),
        ((504, {}), 0.0),
        (None, 0.0),  # the connection closes without an answer
    ],
    ids=["429 Retry-After", "429", "412", "500", "502", "504", "connection closed"],
)
async def test_a_busy_answer_is_tried_again_later(
    post: Post, answer: tuple[int, dict[str, str]] | None, waits_at_least: float
) -> None:
    if answer is None:
        post.connector.dropped = 1
    else:
        post.connector.failures.append(answer)
    await post.queue("liv")
    await post.sender().drain()
    [row] = await post.rows()
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error == (str(answer[0]) + " Failed" if answer else row.last_error)
    assert row.not_before >= NOW + timedelta(seconds=waits_at_least)
    assert row.not_before <= NOW + timedelta(seconds=max(waits_at_least, 1.0))
    assert liv(post.connector) == []
    post.clock.now = row.not_before  # time passes
    await post.sender().drain()
    [row] = await post.rows()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(liv(post.connector)) == 1


async def test_it_gives_up_after_so_many_tries(post: Post) -> None:
    post.connector.failures.extend([(502, {})] * QUICK.max_attempts)
    await post.queue("liv")
    for _ in range(QUICK.max_attempts):
        await post.sender().drain()
        post.clock.now += timedelta(seconds=QUICK.longest_wait_seconds)
    [row] = await post.rows()
    assert row.status == "failed"
    assert row.last_error == f"gave up after {QUICK.max_attempts} tries: 502 Failed"


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_a_refusal_fails_at_once_with_the_reason(post: Post, status: int) -> None:
    post.connector.failures.append((status, {}))
    await post.queue("liv")
    await post.sender().drain()
    await post.queue("lars")
    await post.sender().drain()
    rows = {r.person_id: r for r in await post.rows()}
    refused, other = rows[post.ids["liv"]], rows[post.ids["lars"]]
    assert (refused.status, refused.last_error, refused.attempts) == (
        "failed",
        f"{status} Failed",
        1,
    )
    assert other.status == "sent"  # one refusal stops nobody else


async def test_writes_blocked_stops_every_message_to_that_person(post: Post) -> None:
    post.connector.blocked.add("a:1liv-personal")
    await post.queue("liv", 3)
    await post.queue("lars")
    await post.sender(SenderSettings(batch=1)).drain()
    statuses = [(r.person_id, r.status, r.last_error) for r in await post.rows()]
    blocked = "403 MessageWritesBlocked"
    assert statuses == [
        (post.ids["liv"], "failed", blocked),
        (post.ids["liv"], "failed", blocked),
        (post.ids["liv"], "failed", blocked),
        (post.ids["lars"], "sent", None),
    ]
    assert post.connector.requests == 2  # Liv's chat was asked once, not hammered


async def test_the_message_is_in_the_language_the_person_has_when_it_is_sent(post: Post) -> None:
    await post.queue("liv")
    async with post.sessions() as session, session.begin():
        await session.execute(
            update(Person).where(col(Person.aad_object_id) == "aad-liv").values(language="en")
        )
    await post.sender().drain()
    assert liv(post.connector) == [nudge_message(EN, unit_name="Eining 0", month=202611)]
    assert nudge_message(NN, unit_name="Eining 0", month=202611) not in liv(post.connector)


async def test_two_senders_at_once_send_each_row_once(post: Post) -> None:
    for name in ("liv", "lars", "siri", "hanne"):
        await post.queue(name, 15)
    settings = SenderSettings(batch=7)
    sent = await asyncio.gather(post.sender(settings).drain(), post.sender(settings).drain())
    assert sum(sent) == 60
    for name in ("liv", "lars", "siri", "hanne"):
        texts = post.connector.texts(f"a:1{name}-personal")
        assert sorted(texts) == sorted(
            nudge_message(NN, unit_name=f"Eining {i}", month=202611) for i in range(15)
        ), name
    assert {r.status for r in await post.rows()} == {"sent"}


async def test_rows_a_dead_sender_held_go_out_when_its_lease_ends(post: Post) -> None:
    await post.queue("liv", 2)
    async with post.sessions() as session, session.begin():
        taken = await outbox.claim_due(
            session, owner="killed", now=NOW, lease=QUICK.lease, limit=10
        )
    assert len(taken) == 2
    assert await post.sender().drain() == 0  # still held
    post.clock.now = NOW + QUICK.lease + timedelta(seconds=1)
    assert await post.sender().drain() == 2
    assert len(liv(post.connector)) == 2
    # The dead sender, had it lived, could no longer record them as its own.
    async with post.sessions() as session, session.begin():
        assert not await outbox.mark_sent(session, item_id=taken[0].id, owner="killed", now=NOW)


async def test_one_persons_messages_keep_their_order(post: Post) -> None:
    await post.queue("liv", 6)
    await post.sender().drain()
    assert liv(post.connector) == [
        nudge_message(NN, unit_name=f"Eining {i}", month=202611) for i in range(6)
    ]


def test_teams_limits_per_conversation() -> None:
    """100 messages to one chat at the same instant: never more than 7 in a second, 8 in two
    or 60 in thirty; another chat is not held up."""
    at = [0.0]
    windows = ConversationWindows(lambda: at[0])
    moments = [windows.reserve("a:1liv-personal") for _ in range(100)]
    assert moments == sorted(moments)
    for seconds, most in CONVERSATION_WINDOWS:
        for start in moments:
            assert sum(start <= m < start + seconds for m in moments) <= most, (seconds, start)
    assert windows.reserve("a:1lars-personal") == 0.0


async def test_outbox_status(
    post: Post, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    await post.queue("liv", 2)
    await post.queue("lars")
    post.connector.failures.append((404, {}))
    await post.sender().drain()
    async with post.sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            person_id=post.ids["siri"],
            kind=NUDGE,
            payload={"nudge_id": 0, "unit_name": "X", "month": 202611},
            dedupe_key="later",
            now=NOW,
            not_before=NOW + timedelta(days=1),
        )
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AVVIK_ENV_FILE", "/dev/null")
    monkeypatch.setenv("AVVIK_LOG_LEVEL", "WARNING")
    assert await asyncio.to_thread(main, ["outbox", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["sent"] == 2
    assert status["failed"] == {"404 Failed": 1}
    assert (status["queued"], status["unreachable"]) == (1, {})


async def test_who_can_be_reached_and_why_not(
    post: Post, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Liv and Siri have chats with the bot; Teams refused Siri's last message; Lars and the
    others never opened the bot, and Lars has a message waiting."""
    async with post.sessions() as session, session.begin():
        await session.execute(
            delete(ConversationRef).where(col(ConversationRef.person_aad_object_id) == "aad-lars")
        )
    post.connector.refused.add("a:1siri-personal")
    await post.queue("liv")
    await post.queue("lars")
    await post.queue("siri")
    await post.sender().drain()
    people = await reach_json(database_url, monkeypatch, capsys)
    assert people["Liv Leiar"]["reachable"] is True
    assert (people["Lars Nestleiar"]["reason"], people["Lars Nestleiar"]["waiting"]) == (
        "no chat with the bot: the app is not installed for them",
        1,
    )
    assert people["Siri Sjef"]["reason"] == "Teams refused: 403 Failed"
    assert people["Siri Sjef"]["reachable"] is False
    assert await asyncio.to_thread(main, ["reach"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("The bot can write to ")
    # Leaders first among those who cannot be reached.
    assert text[2].startswith("  Lars Nestleiar (leiar): no chat with the bot")


async def reach_json(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> dict[str, dict[str, Any]]:
    """`python -m bot reach --json`, by name, as the operator would run it."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AVVIK_ENV_FILE", "/dev/null")
    monkeypatch.setenv("AVVIK_LOG_LEVEL", "WARNING")
    assert await asyncio.to_thread(main, ["reach", "--json"]) == 0
    return {p["name"]: p for p in json.loads(capsys.readouterr().out)}


async def test_a_failure_after_teams_took_it_never_sends_it_again(
    post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording what a sent message means fails (the database hiccups): it stays sent once."""

    async def broken(*_args: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(OutboxMessages, "delivered", broken)
    await post.queue("liv")
    await post.sender().drain()
    post.clock.now += timedelta(hours=1)
    await post.sender().drain()
    assert len(liv(post.connector)) == 1
    assert [r.status for r in await post.rows()] == ["sent"]


async def test_a_leader_who_left_the_unit_is_not_sent_its_report(
    post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Liv's card waited; meanwhile she stopped leading the school: it is not sent to her."""
    from storage.models import Report, UnitLeader

    async with post.sessions() as session, session.begin():
        school = await session.scalar(
            select(col(UnitLeader.unit_id)).where(col(UnitLeader.person_id) == post.ids["liv"])
        )
        report = Report(
            case_number="2026-0001",
            submission_key="k" * 32,
            unit_id=school,
            location="Skuleplassen",
            occurred_at=NOW,
            reported_at=NOW,
            reported_month=202611,
            description="Ein elev sparka ein tilsett på leggen i gymsalen.",
            harm="injury",
            category="violence_threats",
            severity="medium",
        )
        session.add(report)
        await session.flush()
        await handling.enqueue_report_notices(session, report_id=report.id, now=NOW)
        await session.execute(
            delete(UnitLeader).where(col(UnitLeader.person_id) == post.ids["liv"])
        )
    await post.sender().drain()
    assert liv(post.connector) == []
    assert len(post.connector.sent["a:1lars-personal"]) == 1  # the deputy still leads it
    statuses = {r.person_id: (r.status, r.last_error) for r in await post.rows()}
    assert statuses[post.ids["liv"]] == ("failed", "nothing to say any more")
