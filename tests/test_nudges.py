"""The monthly nudge: when it is due (a pure function of the clock), what it says, and that each
leader of a flagged unit gets it once a month however often, and in however many instances,
`queue_due` runs; the outbox's sender sends them. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botbuilder.schema import Activity
from sqlalchemy import delete
from sqlmodel import col, select, update

from bot.desks.leader_desk import LeaderDesk
from bot.proactive.messenger import DeliveryFailed
from bot.proactive.nudges import MonthlyNudges, nudge_due, nudge_message
from bot.proactive.outbox_messages import OutboxMessages
from bot.proactive.outbox_sender import OutboxSender
from bot.proactive.reminders import run_every
from domain.i18n import Texts
from domain.oslo_time import OSLO
from domain.working_time import WorkingCalendar
from storage.conversations import ConversationAddress, remember_conversation
from storage.db import SessionFactory
from storage.models import ConversationRef, Nudge, OutboxRow, Person
from storage.outbox import wake_person
from tests.chat import CATALOGUES, EN, NB, NN, RecordingMessenger
from tests.test_under_reporting import add_reports
from tests.voss_org import Voss, make_voss

# Monday 2 November 2026, 09:30 in Voss: the month's first working day, after 09:00.
DUE = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
DAY = timedelta(days=1)
MONTHS = [202610, 202611, 202612, 202701, 202702]


def oslo(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


# ---- when -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        (oslo(2026, 11, 2, 9, 0), 202611),  # Monday the 2nd: the first working day, 09:00
        (oslo(2026, 11, 2, 8, 59), None),
        (oslo(2026, 11, 2, 15, 59), 202611),
        (oslo(2026, 11, 2, 16, 0), None),  # not in the evening
        (oslo(2026, 11, 1, 12, 0), None),  # Sunday the 1st
        (oslo(2026, 11, 6, 10, 0), 202611),  # the 5th working day: a stopped bot catches up
        (oslo(2026, 11, 9, 10, 0), None),  # the 6th: too late, wait for December
        (oslo(2026, 11, 7, 10, 0), None),  # Saturday
        (datetime(2026, 11, 2, 8, 0, tzinfo=UTC), 202611),  # 09:00 CET
        (datetime(2026, 11, 2, 7, 59, tzinfo=UTC), None),
        (datetime(2026, 6, 1, 7, 0, tzinfo=UTC), 202606),  # 09:00 CEST
        (datetime(2026, 6, 1, 6, 59, tzinfo=UTC), None),
        (oslo(2027, 1, 1, 10, 0), None),  # nyttårsdag, a Friday
        (oslo(2027, 1, 4, 9, 0), 202701),
        (oslo(2026, 5, 1, 10, 0), None),  # 1 May, a Friday
        (oslo(2026, 5, 4, 10, 0), 202605),
        (oslo(2029, 4, 2, 10, 0), None),  # 2. påskedag, a Monday
        (oslo(2029, 4, 3, 10, 0), 202904),
        (oslo(2026, 4, 1, 9, 0), 202604),  # Wednesday, the day before skjærtorsdag
    ],
)
def test_when_the_nudge_is_due(moment: datetime, due: int | None) -> None:
    assert nudge_due(moment, WorkingCalendar()) == due


def test_norwegian_public_holidays() -> None:
    holidays = {
        date(2026, 1, 1),
        date(2026, 4, 2),  # skjærtorsdag
        date(2026, 4, 3),  # langfredag
        date(2026, 4, 5),
        date(2026, 4, 6),  # 2. påskedag
        date(2026, 5, 1),
        date(2026, 5, 14),  # Kristi himmelfartsdag
        date(2026, 5, 17),
        date(2026, 5, 24),
        date(2026, 5, 25),  # 2. pinsedag
        date(2026, 12, 25),
        date(2026, 12, 26),
    }
    year = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    assert {day for day in year if WorkingCalendar().is_public_holiday(day)} == holidays


# ---- what it says -------------------------------------------------------------------------


@pytest.mark.parametrize("texts", [NN, NB, EN], ids=["nn", "nb", "en"])
def test_the_message_is_kind_and_says_how_to_report(texts: Texts) -> None:
    message = nudge_message(texts, unit_name="Vossevangen skule", month=202611)
    assert "Vossevangen skule" in message
    assert texts.words("commands.report")[0] in message  # «meld avvik» / «report»
    assert message.endswith(texts.words("nudge.tips")[(2026 * 12 + 10) % 4])


def test_the_message_mentions_near_misses_and_under_reporting() -> None:
    nn = nudge_message(NN, unit_name="X", month=202611)
    assert "nestenulukker" in nn
    assert "teikn på at hendingar ikkje vert melde" in nn
    assert "nestenulykker" in nudge_message(NB, unit_name="X", month=202611)
    assert "near misses" in nudge_message(EN, unit_name="X", month=202611)


def test_the_tip_is_the_same_all_month_and_changes_with_the_month() -> None:
    tips = [nudge_message(NN, unit_name="X", month=m).rsplit("\n\n", 1)[1] for m in MONTHS]
    assert sorted(set(tips)) == sorted(NN.words("nudge.tips"))  # every tip in turn
    assert all(a != b for a, b in itertools.pairwise(tips))
    assert nudge_message(NN, unit_name="X", month=202611) == nudge_message(
        NN, unit_name="X", month=202611
    )


# ---- sending ------------------------------------------------------------------------------


@dataclass
class World:
    sessions: SessionFactory
    voss: Voss
    messenger: RecordingMessenger
    ids: dict[str, int]

    def nudges(self, at: datetime = DUE) -> MonthlyNudges:
        return MonthlyNudges(self.sessions, lambda: at)

    async def deliver(self, at: datetime = DUE, messenger: RecordingMessenger | None = None) -> int:
        """What the outbox's sender does next: send what is due."""
        leaders = LeaderDesk(self.sessions, CATALOGUES, lambda: at, "nn")
        drawer = OutboxMessages(leaders, CATALOGUES, lambda: at, "nn")
        sender = OutboxSender(self.sessions, messenger or self.messenger, drawer, lambda: at)
        return await sender.drain()

    async def send_due(
        self, at: datetime = DUE, messenger: RecordingMessenger | None = None
    ) -> int:
        """Queue the nudges due at `at`, then send them; how many were queued."""
        queued = await self.nudges(at).queue_due()
        await self.deliver(at, messenger)
        return queued

    async def outbox(self) -> list[tuple[int, str, str | None]]:
        async with self.sessions() as session:
            found = await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))
            return [(r.person_id, r.status, r.last_error) for r in found]

    def inbox(self, name: str) -> list[str]:
        return [a.text for c, a in self.messenger.sent if c == f"a:1{name}-personal"]

    async def rows(self) -> list[tuple[int, int, int, bool]]:
        async with self.sessions() as session:
            found = await session.scalars(select(Nudge).order_by(col(Nudge.person_id)))
            return [(n.unit_id, n.person_id, n.month, n.sent_at is not None) for n in found]


async def opened_the_bot(
    sessions: SessionFactory, *names: str, service_url: str = "http://127.0.0.1:1/"
) -> None:
    """These people of Voss have a personal chat with the bot (`a:1<name>-personal`)."""
    async with sessions() as session, session.begin():
        for name in names:
            await remember_conversation(
                session,
                ConversationAddress(
                    f"a:1{name}-personal",
                    "personal",
                    f"aad-{name}",
                    "msteams",
                    service_url,
                    "tenant-voss",
                    "28:avviksboten",
                ),
            )


@pytest.fixture
async def world(sessions: SessionFactory) -> World:
    """Vossevangen skule (Liv leads, Lars is deputy) has reported nothing for 100 days, and is
    flagged; Bu- og miljøteneste aust (Siri leads) reported last week, and is not."""
    voss = await make_voss(sessions)
    await add_reports(sessions, voss.school, DUE - 100 * DAY)
    await add_reports(sessions, voss.home, DUE - 7 * DAY)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Person).where(col(Person.aad_object_id) == "aad-liv").values(language="nb")
        )
        await session.execute(
            update(Person).where(col(Person.aad_object_id) == "aad-lars").values(language="en")
        )
    async with sessions() as session:
        people = await session.scalars(select(Person))
        ids = {p.aad_object_id[4:]: p.id for p in people if p.id is not None}
    await opened_the_bot(sessions, "liv", "lars", "siri", "kari", "per")
    return World(sessions, voss, RecordingMessenger(), ids)


async def test_the_leaders_of_a_flagged_unit_get_one_nudge_each(world: World) -> None:
    assert await world.send_due() == 2
    [to_liv] = world.inbox("liv")
    [to_lars] = world.inbox("lars")
    assert to_liv == nudge_message(NB, unit_name="Vossevangen skule", month=202611)
    assert to_lars == nudge_message(EN, unit_name="Vossevangen skule", month=202611)
    assert world.inbox("siri") == []  # her unit reports
    assert world.inbox("kari") == world.inbox("per") == []  # staff are never nudged
    for text in (to_liv, to_lars):
        # No reporter is named, and no other unit is mentioned (no ranking).
        for name in ("Kari", "Nordmann", "Per", "Hansen", "Bu- og miljøteneste"):
            assert name not in text
    school = world.voss.school
    assert await world.rows() == [
        (school, world.ids["liv"], 202611, True),
        (school, world.ids["lars"], 202611, True),
    ]


async def test_running_again_sends_nothing_more(world: World) -> None:
    assert await world.send_due() == 2
    assert await world.send_due() == 0  # an hour later, or after a restart
    assert await world.send_due(DUE + 3 * DAY) == 0  # catching up on Thursday
    assert len(world.messenger.sent) == 2
    # December is another month.
    assert await world.send_due(datetime(2026, 12, 1, 9, tzinfo=UTC)) == 2
    assert len(world.messenger.sent) == 4


async def test_a_shutdown_ends_the_run_and_the_rest_are_queued_next_run(world: World) -> None:
    stop = asyncio.Event()

    class Stopping(MonthlyNudges):
        """The service is told to stop while the first nudge is queued."""

        async def _queue_one(self, *args: Any) -> bool:
            queued = await super()._queue_one(*args)
            stop.set()
            return queued

    assert await Stopping(world.sessions, lambda: DUE).queue_due(stop) == 1
    assert len(await world.rows()) == 1  # the second was not claimed
    assert await world.send_due() == 1  # after the restart
    assert len(await world.rows()) == 2
    assert len(world.messenger.sent) == 2


async def test_two_instances_at_once_send_each_nudge_once(world: World) -> None:
    queued = await asyncio.gather(*(world.nudges().queue_due() for _ in range(3)))
    assert sum(queued) == 2
    other = RecordingMessenger()
    await asyncio.gather(world.deliver(), world.deliver(messenger=other))
    everything = [c for c, _ in world.messenger.sent + other.sent]
    assert sorted(everything) == ["a:1lars-personal", "a:1liv-personal"]
    assert len(await world.rows()) == 2


async def test_nothing_is_sent_when_it_is_not_due(world: World) -> None:
    assert await world.send_due(DUE - 2 * timedelta(hours=1)) == 0  # 07:30
    assert await world.send_due(DUE + 7 * DAY) == 0  # the 6th working day
    assert world.messenger.sent == []
    assert await world.rows() == []


async def test_a_leader_without_the_bot_waits_and_the_adviser_knows(world: World) -> None:
    async with world.sessions() as session, session.begin():
        await session.execute(
            delete(ConversationRef).where(col(ConversationRef.person_aad_object_id) == "aad-lars")
        )
    await opened_the_bot(world.sessions, "hanne")
    assert await world.send_due() == 2
    assert len(world.inbox("liv")) == 1
    assert world.inbox("lars") == []
    [to_hanne] = world.inbox("hanne")
    assert to_hanne == NN("outbox.unreachable", name="Lars Nestleiar")
    assert (world.ids["lars"], "waiting", "the app is not installed for them") in (
        await world.outbox()
    )
    # Not queued again every hour for the rest of the month, and Hanne is told once.
    assert await world.send_due() == 0
    assert len(world.inbox("hanne")) == 1
    # Lars opens the bot: the nudge goes out.
    await opened_the_bot(world.sessions, "lars")
    async with world.sessions() as session, session.begin():
        await wake_person(session, aad_object_id="aad-lars")
    await world.deliver()
    assert world.inbox("lars") == [nudge_message(EN, unit_name="Vossevangen skule", month=202611)]


class Refusing(RecordingMessenger):
    """Teams refuses Lars (403: the app was removed for him)."""

    async def send(self, address: ConversationAddress, activity: Activity) -> str:
        if address.conversation_id == "a:1lars-personal":
            raise DeliveryFailed(address.conversation_id, status=403)
        return await super().send(address, activity)


async def test_a_refused_delivery_fails_with_the_reason_and_is_not_repeated(world: World) -> None:
    refusing = Refusing()
    assert await world.send_due(messenger=refusing) == 2
    assert [c for c, _ in refusing.sent] == ["a:1liv-personal"]
    assert (world.ids["lars"], "failed", "403") in await world.outbox()
    assert sorted(sent for *_, sent in await world.rows()) == [False, True]
    assert await world.send_due() == 0
    assert world.messenger.sent == []


async def test_a_unit_that_reports_again_is_not_nudged(world: World) -> None:
    await add_reports(world.sessions, world.voss.school, DUE - DAY)
    assert await world.send_due() == 0
    assert world.messenger.sent == []


# ---- the scheduler's loop (bot/proactive/reminders.py), which runs the nudges -------------


class Flaky:
    """A job that fails on the first call; on the second, says so and (if told to) stops the
    loop."""

    def __init__(self, stop: asyncio.Event | None) -> None:
        self.calls = 0
        self.stop = stop
        self.second_call = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise OSError("the database went away")
        self.second_call.set()
        if self.stop is not None:
            self.stop.set()
        return 0


async def test_the_loop_survives_an_error_and_stops_when_asked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    flaky, after = Flaky(stop), Flaky(None)
    after.calls = 1
    await asyncio.wait_for(run_every(stop, 0, [flaky, after]), timeout=5)
    assert flaky.calls == 2
    assert after.calls == 2  # the job after the failing one still ran
    [failure] = [r for r in caplog.records if r.name == "bot.proactive.reminders"]
    assert failure.exc_info is not None
    assert "a scheduled job failed" in failure.getMessage()


async def test_a_stop_ends_the_wait_between_runs_at_once() -> None:
    stop = asyncio.Event()
    flaky = Flaky(None)
    flaky.calls = 1  # past its failure
    task = asyncio.create_task(run_every(stop, 3600, [flaky]))
    await asyncio.wait_for(flaky.second_call.wait(), timeout=5)  # it ran at once
    assert flaky.calls == 2  # and now waits an hour
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert flaky.calls == 2
