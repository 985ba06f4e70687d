"""Reminders, escalation, measure deadlines and the weekly digest (domain/working_time.py,
domain/reminders.py, bot/proactive/reminders.py, reminder_messages.py): the Norwegian working
calendar, the ladder with a settable clock, each reminder once however the scheduler runs, and
what is dropped when the report moved on. On SQLite and PostgreSQL, through the outbox to the
fake Bot Connector."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import col, select, update

from bot.cli.main import main
from bot.config import SettingsError, load_settings
from bot.proactive.reminders import Reminders, plan
from domain.oslo_time import OSLO
from domain.reminders import OpenMeasure, OpenReport, ReminderRules, Step, digest_week
from domain.reminders import due_reminders as rules_due
from domain.vocabulary import Status
from domain.working_time import WorkingCalendar, parse_days_off, parse_hours, parse_weekdays
from storage.db import SessionFactory
from storage.models import (
    Measure,
    OutboxRow,
    Report,
    ReportCard,
    ReportDuty,
    ReportEvent,
    UnitLeader,
)
from tests.chat import NN
from tests.fake_connector import FakeConnector
from tests.test_outbox import Post, voss_post
from tests.test_under_reporting import add_reports

CALENDAR = WorkingCalendar()
RULES = ReminderRules()


def oslo(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=OSLO)  # type: ignore[misc]


# ---- the calendar ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2026, 5, 17), "grunnlovsdagen (a Sunday in 2026, and a holiday)"),
        (date(2027, 5, 17), "grunnlovsdagen on a Monday"),
        (date(2026, 5, 14), "Kristi himmelfartsdag"),
        (date(2026, 12, 24), "julaften: a day off by default"),
        (date(2026, 12, 25), "1. juledag"),
        (date(2026, 12, 28) - timedelta(days=2), "2. juledag"),
        (date(2026, 12, 31), "nyttårsaften: a day off by default"),
        (date(2026, 4, 2), "skjærtorsdag"),
        (date(2026, 5, 25), "2. pinsedag"),
        (date(2026, 12, 5), "a Saturday"),
    ],
)
def test_no_working_day(day: date, why: str) -> None:
    assert not CALENDAR.is_working_day(day), why
    assert not CALENDAR.is_working_moment(datetime.combine(day, time(10), OSLO))


def test_the_days_off_are_a_setting() -> None:
    plain = WorkingCalendar(days_off=())
    assert plain.is_working_day(date(2026, 12, 24))  # a Thursday, and not a public holiday
    assert not plain.is_working_day(date(2026, 12, 25))
    assert parse_days_off("12-24, 12-31") == ((12, 24), (12, 31))
    assert parse_days_off("") == ()
    with pytest.raises(ValueError, match="month-day"):
        parse_days_off("24.12")
    assert parse_hours("07:30-15:00") == (time(7, 30), time(15))
    assert parse_weekdays("mon-fri") == frozenset(range(5))
    assert parse_weekdays("Monday-Sunday") == frozenset(range(7))
    every_day = WorkingCalendar(weekdays=parse_weekdays("mon-sun"))
    assert every_day.is_working_day(date(2026, 12, 5))  # a Saturday, in a nursing home
    assert not every_day.is_working_day(date(2026, 12, 25))  # still a public holiday
    with pytest.raises(ValueError, match="weekdays"):
        parse_weekdays("weekdays")
    with pytest.raises(ValueError, match="end after"):
        parse_hours("16:00-08:00")


@pytest.mark.parametrize(
    ("moment", "next_moment"),
    [
        (oslo(2026, 12, 23, 16, 0), oslo(2026, 12, 28, 8, 0)),  # past the last hour before jul
        (oslo(2026, 12, 24, 10, 0), oslo(2026, 12, 28, 8, 0)),
        (oslo(2026, 5, 14, 10, 0), oslo(2026, 5, 15, 8, 0)),  # Kristi himmelfart → Friday
        (oslo(2027, 5, 17, 9, 0), oslo(2027, 5, 18, 8, 0)),
        (oslo(2026, 11, 30, 7, 59), oslo(2026, 11, 30, 8, 0)),  # a Monday morning
        (oslo(2026, 11, 30, 12, 0), oslo(2026, 11, 30, 12, 0)),  # in working hours: now
    ],
)
def test_the_next_working_moment(moment: datetime, next_moment: datetime) -> None:
    assert CALENDAR.next_working_moment(moment) == next_moment


@pytest.mark.parametrize(
    ("start", "days", "then"),
    [
        (oslo(2026, 11, 27, 15, 0), 2, oslo(2026, 12, 1, 15, 0)),  # Friday → Tuesday
        (oslo(2026, 11, 28, 11, 0), 2, oslo(2026, 12, 2, 8, 0)),  # Saturday: from Monday 08:00
        (oslo(2026, 5, 13, 10, 0), 2, oslo(2026, 5, 18, 10, 0)),  # over Kristi himmelfart
        (oslo(2026, 12, 22, 10, 0), 2, oslo(2026, 12, 28, 10, 0)),  # over jul
        (oslo(2026, 12, 22, 10, 0), 5, oslo(2027, 1, 4, 10, 0)),  # over jul and nyttår
    ],
)
def test_working_days_later(start: datetime, days: int, then: datetime) -> None:
    assert CALENDAR.add_working_days(start, days) == then


# ---- the ladder, as rules --------------------------------------------------------------------

REPORTED = oslo(2026, 11, 24, 14, 30)  # a Tuesday


def steps(now: datetime, status: Status = Status.NEW, snoozed: date | None = None) -> list[Step]:
    report = OpenReport(1, 1, status, REPORTED, snoozed)
    return [d.step for d in rules_due(now, [report], [], RULES)]


def test_the_ladder() -> None:
    assert steps(oslo(2026, 11, 26, 14, 29)) == []  # not yet two working days
    assert steps(oslo(2026, 11, 26, 14, 30)) == [Step.REMIND]
    assert steps(oslo(2026, 12, 1, 14, 29)) == [Step.REMIND]
    assert steps(oslo(2026, 12, 1, 14, 30)) == [Step.ESCALATE, Step.REMIND]
    assert steps(oslo(2026, 12, 1, 14, 30), Status.ACKNOWLEDGED) == []
    assert steps(oslo(2026, 11, 28, 12, 0)) == []  # a Saturday: nothing, whatever is due
    assert steps(oslo(2026, 11, 26, 16, 0)) == []  # after working hours
    # Snoozed until Monday 30 November: no reminder to the leader until then; the escalation
    # to the adviser is not the leader's to put off.
    assert steps(oslo(2026, 11, 27, 10, 0), snoozed=date(2026, 11, 30)) == []
    assert steps(oslo(2026, 11, 30, 8, 0), snoozed=date(2026, 11, 30)) == [Step.REMIND]
    assert steps(oslo(2026, 12, 1, 14, 30), snoozed=date(2026, 12, 10)) == [Step.ESCALATE]


def test_measure_deadlines() -> None:
    measure = OpenMeasure(5, 1, 1, date(2026, 12, 3), None)  # due Thursday

    def at(moment: datetime) -> list[Step]:
        return [d.step for d in rules_due(moment, [], [measure], RULES)]

    assert at(oslo(2026, 11, 30, 10, 0)) == []  # Monday: three working days before
    assert at(oslo(2026, 12, 1, 10, 0)) == [Step.MEASURE_SOON]  # two working days before
    assert at(oslo(2026, 12, 3, 15, 0)) == [Step.MEASURE_SOON]  # the day itself
    assert at(oslo(2026, 12, 4, 8, 0)) == [Step.MEASURE_OVERDUE]  # the day after: only overdue


@pytest.mark.parametrize(
    ("moment", "week"),
    [
        (oslo(2026, 11, 30, 7, 59), None),
        (oslo(2026, 11, 30, 8, 0), "2026-W49"),
        (oslo(2026, 11, 30, 15, 59), "2026-W49"),  # a bot that was down catches up that day
        (oslo(2026, 12, 1, 8, 0), None),  # not on Tuesday: a week's digest on a later day
        (oslo(2027, 3, 29, 10, 0), None),  # 2. påskedag 2027: not on the holiday ...
        (oslo(2027, 3, 30, 7, 59), None),
        (oslo(2027, 3, 30, 8, 0), "2027-W13"),  # ... but on Tuesday at 08:00
        (oslo(2026, 12, 28, 8, 0), "2026-W53"),
    ],
)
def test_the_digest_is_due_from_the_weeks_first_working_morning(
    moment: datetime, week: str | None
) -> None:
    assert digest_week(moment, RULES) == week


# ---- the scheduler, through the outbox ---------------------------------------------------------


@dataclass
class World:
    post: Post
    reminders: Reminders

    async def tick(self, at: datetime) -> int:
        """The clock at `at`; the scheduler runs and the outbox sends."""
        self.post.clock.now = at
        queued = await self.reminders.queue_due()
        await self.post.sender().drain()
        return queued

    def chat(self, name: str) -> list[str]:
        return self.post.connector.take_texts(f"a:1{name}-personal")

    async def report(self, unit: str = "school", at: datetime = REPORTED) -> int:
        """A new report in the school (Liv leads, Lars is deputy) or the home (Siri leads)."""
        leader = self.post.ids["liv" if unit == "school" else "siri"]
        async with self.post.sessions() as session:
            unit_id = await session.scalar(
                select(col(UnitLeader.unit_id)).where(col(UnitLeader.person_id) == leader)
            )
        [report] = await add_reports(self.post.sessions, unit_id, at)
        return report

    async def measure(self, report_id: int, description: str, owner: str) -> None:
        """The report in progress, with a measure due Thursday 3 December."""
        async with self.post.sessions() as session, session.begin():
            await session.execute(
                update(Report).where(col(Report.id) == report_id).values(status="in_progress")
            )
            session.add(
                Measure(
                    report_id=report_id, description=description, owner=owner, due=date(2026, 12, 3)
                )
            )

    async def case(self, report_id: int) -> str:
        async with self.post.sessions() as session:
            found = await session.get(Report, report_id)
            assert found is not None
            return found.case_number


@pytest.fixture
async def world(sessions: SessionFactory, connector: FakeConnector) -> AsyncIterator[World]:
    async with voss_post(sessions, connector) as post:
        yield World(post, Reminders(post.sessions, post.clock, RULES))


async def test_a_leader_is_reminded_once_and_the_adviser_hears_once(world: World) -> None:
    report = await world.report()
    case = await world.case(report)
    assert await world.tick(oslo(2026, 11, 26, 14, 0)) == 0
    assert await world.tick(oslo(2026, 11, 26, 14, 30)) == 2  # Liv and Lars, her deputy
    for name in ("liv", "lars"):
        [reminder] = world.chat(name)
        assert case in reminder
        assert "2 arbeidsdagar" in reminder
    assert world.chat("hanne") == []
    for minute in range(1, 4):  # the scheduler runs every minute: nothing twice
        assert await world.tick(oslo(2026, 11, 26, 14, 30 + minute)) == 0
    assert await world.tick(oslo(2026, 12, 1, 14, 30)) == 1
    [escalation] = world.chat("hanne")
    assert case in escalation
    assert "5 arbeidsdagar" in escalation
    assert world.chat("liv") == []
    assert await world.tick(oslo(2026, 12, 2, 9, 0)) == 0
    # Each reminder showed the report's card: a read in its history, and a copy to redraw.
    async with world.post.sessions() as session:
        reads = list(
            await session.scalars(
                select(col(ReportEvent.actor_id)).where(
                    col(ReportEvent.report_id) == report, col(ReportEvent.kind) == "read"
                )
            )
        )
        copies = list(
            await session.scalars(
                select(col(ReportCard.person_id)).where(col(ReportCard.report_id) == report)
            )
        )
    people = sorted(world.post.ids[n] for n in ("liv", "lars", "hanne"))
    assert sorted(reads) == people
    assert sorted(copies) == people


async def test_a_clock_that_jumps_catches_up_without_a_burst(world: World) -> None:
    await world.report()
    await world.report()
    # Three weeks later in one jump (the bot was down): one reminder per report and leader,
    # one escalation per report, not one per minute or day missed.
    assert await world.tick(oslo(2026, 12, 15, 10, 0)) == 2 * 2 + 2
    # Back again (a clock put right): nothing a second time.
    assert await world.tick(oslo(2026, 11, 27, 10, 0)) == 0
    assert await world.tick(oslo(2026, 12, 16, 10, 0)) == 0
    assert len(world.chat("liv")) == 2


async def test_nothing_goes_out_at_night_or_on_holidays(world: World) -> None:
    await world.report(at=oslo(2026, 12, 22, 10, 0))
    for moment in (
        oslo(2026, 12, 24, 10, 0),  # julaften
        oslo(2026, 12, 25, 10, 0),
        oslo(2026, 12, 26, 10, 0),
        oslo(2026, 12, 27, 10, 0),
        oslo(2026, 12, 28, 7, 59),
    ):
        assert await world.tick(moment) == 0, moment
    # Two working days (the 23rd and the 28th): the reminder to Liv and Lars, with Monday's
    # digest.
    assert await world.tick(oslo(2026, 12, 28, 10, 0)) == 4
    kinds = sorted(r.kind for r in await world.post.rows() if r.person_id == world.post.ids["liv"])
    assert kinds == ["reminder_digest", "reminder_remind"]


async def test_two_schedulers_at_once_queue_each_reminder_once(world: World) -> None:
    for _ in range(5):
        await world.report()
    world.post.clock.now = oslo(2026, 12, 1, 14, 30)
    second = Reminders(world.post.sessions, world.post.clock, RULES)
    counts = await asyncio.gather(
        *(r.queue_due() for r in (world.reminders, second, world.reminders, second))
    )
    assert sum(counts) == 5 * 2 + 5  # each leader's reminder and each escalation, once
    async with world.post.sessions() as session:
        keys = list(await session.scalars(select(col(OutboxRow.dedupe_key))))
    assert len(keys) == len(set(keys)) == 15


async def test_a_report_acknowledged_before_the_reminder_goes_is_dropped(world: World) -> None:
    report = await world.report()
    world.post.clock.now = oslo(2026, 11, 26, 15, 0)
    assert await world.reminders.queue_due() == 2
    async with world.post.sessions() as session, session.begin():
        await session.execute(
            update(Report).where(col(Report.id) == report).values(status="acknowledged")
        )
    await world.post.sender().drain()
    assert world.chat("liv") == []
    rows = [r for r in await world.post.rows() if r.kind == "reminder_remind"]
    assert {(r.status, r.last_error) for r in rows} == {("failed", "nothing to say any more")}


async def test_a_leader_who_left_is_not_reminded_the_one_who_leads_now_is(world: World) -> None:
    await world.report()
    liv = world.post.ids["liv"]
    async with world.post.sessions() as session, session.begin():
        await session.execute(delete(UnitLeader).where(col(UnitLeader.person_id) == liv))
    assert await world.tick(oslo(2026, 11, 26, 15, 0)) == 1
    assert world.chat("liv") == []
    assert len(world.chat("lars")) == 1
    # Nobody leads the school now: the adviser hears instead.
    async with world.post.sessions() as session, session.begin():
        await session.execute(delete(UnitLeader))
    await world.report()
    assert await world.tick(oslo(2026, 11, 27, 10, 0)) == 2  # one per report, to Hanne
    assert len(world.chat("hanne")) == 2


async def test_a_snoozed_report_waits_and_the_escalation_still_comes(world: World) -> None:
    report = await world.report()
    async with world.post.sessions() as session, session.begin():
        await session.execute(
            update(Report).where(col(Report.id) == report).values(snoozed_until=date(2026, 12, 3))
        )
    assert await world.tick(oslo(2026, 11, 26, 15, 0)) == 0
    assert await world.tick(oslo(2026, 12, 1, 14, 30)) == 1  # only the adviser
    assert len(world.chat("hanne")) == 1
    assert await world.tick(oslo(2026, 12, 3, 8, 0)) == 2
    assert len(world.chat("liv")) == 1


async def test_measure_reminders_reach_the_owner_and_the_leaders(world: World) -> None:
    report = await world.report()
    await world.measure(
        report, "Strø skuleplassen kvar morgon", "siri sjef"
    )  # the owner as the leader wrote it: Siri, by name
    assert await world.tick(oslo(2026, 12, 1, 9, 0)) == 3  # Siri, Liv, Lars
    [to_owner] = world.chat("siri")
    assert "Strø skuleplassen kvar morgon" in to_owner
    assert "03.12.2026" in to_owner
    assert len(world.chat("liv")) == 1
    assert await world.tick(oslo(2026, 12, 2, 9, 0)) == 0
    assert await world.tick(oslo(2026, 12, 4, 9, 0)) == 3  # overdue, once
    assert "Fristen er ute" in world.chat("siri")[0]
    assert await world.tick(oslo(2026, 12, 8, 9, 0)) == 0


async def test_a_legal_duty_waits_is_reminded_and_a_later_day_reminds_again(
    world: World,
) -> None:
    report = await world.report()
    async with world.post.sessions() as session, session.begin():
        await session.execute(
            update(Report)
            .where(col(Report.id) == report)
            # Someone was hurt (skademelding) in vald og truslar (the kap. 23A three).
            .values(status="acknowledged", harm="injury", category="violence_threats")
        )
    # Acknowledged, so no «not acknowledged» reminder; the four duties are due with the same
    # two working days: Thursday 14:30, in one reminder to each leader.
    assert await world.tick(oslo(2026, 11, 26, 14, 0)) == 0
    assert await world.tick(oslo(2026, 11, 26, 14, 30)) == 2  # Liv and Lars
    [to_liv] = world.chat("liv")
    for duty in ("nav_injury", "debrief", "police_report", "risk_review"):
        assert NN(f"duty.{duty}") in to_liv
    assert await world.tick(oslo(2026, 11, 27, 9, 0)) == 0  # once
    # Liv answers «later», by Wednesday 2 December: reminded again that morning, not before.
    async with world.post.sessions() as session, session.begin():
        session.add(
            ReportDuty(
                report_id=report,
                duty="nav_injury",
                answer="later",
                later_until=date(2026, 12, 2),
                answered_at=oslo(2026, 11, 27, 9, 0),
            )
        )
    assert await world.tick(oslo(2026, 12, 1, 9, 0)) == 0
    assert await world.tick(oslo(2026, 12, 2, 8, 0)) == 2
    assert "NAV" in world.chat("liv")[0]
    # Put off again to the 4th, then answered «done»: nothing more.
    async with world.post.sessions() as session, session.begin():
        await session.execute(
            update(ReportDuty)
            .where(col(ReportDuty.report_id) == report)
            .values(later_until=date(2026, 12, 4))
        )
        await session.execute(
            update(ReportDuty).where(col(ReportDuty.report_id) == report).values(answer="done")
        )
    assert await world.tick(oslo(2026, 12, 4, 9, 0)) == 0
    assert world.chat("liv") == []


async def test_a_reminder_sent_after_working_hours_waits_for_the_morning(world: World) -> None:
    await world.report()
    world.post.clock.now = oslo(2026, 11, 26, 15, 59)  # queued in working hours …
    assert await world.reminders.queue_due() == 2
    world.post.clock.now = oslo(2026, 11, 26, 16, 30)  # … but the sender comes to it after
    await world.post.sender().drain()
    assert world.chat("liv") == []
    rows = [r for r in await world.post.rows() if r.kind == "reminder_remind"]
    assert [(r.status, r.attempts) for r in rows] == [("queued", 0), ("queued", 0)]
    assert {r.not_before for r in rows} == {oslo(2026, 11, 27, 8, 0)}
    world.post.clock.now = oslo(2026, 11, 27, 8, 0)
    await world.post.sender().drain()
    assert len(world.chat("liv")) == 1


async def test_a_duty_a_judgement_adds_is_reminded_too(world: World) -> None:
    report = await world.report()
    async with world.post.sessions() as session, session.begin():
        await session.execute(
            update(Report)
            .where(col(Report.id) == report)
            .values(status="acknowledged", harm="injury")  # a fall: skademelding only
        )
    assert await world.tick(oslo(2026, 11, 26, 14, 30)) == 2
    world.chat("liv")
    async with world.post.sessions() as session, session.begin():
        session.add(
            ReportDuty(
                report_id=report,
                duty="nav_injury",
                answer="done",
                answered_at=oslo(2026, 11, 26, 15, 0),
            )
        )
        # The leader's judgement: it was violence, so the kap. 23A follow-up now applies.
        await session.execute(
            update(Report).where(col(Report.id) == report).values(category="violence_threats")
        )
    assert await world.tick(oslo(2026, 11, 27, 9, 0)) == 2
    [to_liv] = world.chat("liv")
    assert NN("duty.debrief") in to_liv
    assert NN("duty.nav_injury") not in to_liv  # answered
    assert await world.tick(oslo(2026, 11, 27, 10, 0)) == 0


async def test_the_weekly_digest(world: World) -> None:
    await world.report()
    await world.report(unit="home")
    # One at the school acknowledged the next morning: a working day after it came in.
    handled = await world.report()
    async with world.post.sessions() as session, session.begin():
        await session.execute(
            update(Report)
            .where(col(Report.id) == handled)
            .values(status="closed", acknowledged_at=oslo(2026, 11, 25, 14, 30))
        )
    assert await world.tick(oslo(2026, 11, 30, 7, 59)) == 0
    queued = await world.tick(oslo(2026, 11, 30, 8, 0))
    digests = [
        r for r in await world.post.rows() if r.kind == "reminder_digest" and r.status == "sent"
    ]
    assert len(digests) == 3  # Liv, Lars, Siri; not Hanne (no unit of her own)
    assert queued >= 3
    card = world.post.connector.sent["a:1liv-personal"][-1]["attachments"][0]["content"]
    text = json.dumps(card, ensure_ascii=False)
    assert "Vekeoversikt: 1 opne avvik" in text
    assert '"action": "avvik.show"' in text
    assert NN("digest.handling", open=1, median="1,0") in text
    await world.tick(oslo(2026, 12, 2, 10, 0))
    digests = [r for r in await world.post.rows() if r.kind == "reminder_digest"]
    assert len(digests) == 3  # not again that week


async def test_preview_shows_nothing_on_christmas_eve_and_the_queue_otherwise(
    world: World, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    report = await world.report(at=oslo(2026, 12, 21, 10, 0))
    case = await world.case(report)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AVVIK_ENV_FILE", "/dev/null")
    monkeypatch.setenv("AVVIK_LOG_LEVEL", "WARNING")
    assert await asyncio.to_thread(main, ["reminders", "preview", "--at", "2026-12-24T10:00"]) == 0
    out = capsys.readouterr().out
    assert "Thursday 24.12.2026 10:00 (Europe/Oslo) is a day off" in out
    assert "The next working moment is Monday 28.12.2026 08:00." in out
    assert (
        await asyncio.to_thread(
            main, ["reminders", "preview", "--at", "2026-12-28T10:00", "--json"]
        )
        == 0
    )
    found = json.loads(capsys.readouterr().out)
    assert found["working_time"] is True
    reminded = {(m["step"], m["name"], m["case_number"]) for m in found["messages"]}
    assert ("remind", "Liv Leiar", case) in reminded
    assert ("remind", "Lars Nestleiar", case) in reminded
    async with world.post.sessions() as session:
        assert list(await session.scalars(select(OutboxRow))) == []  # nothing was queued
        # The same plan the scheduler would carry out.
        planned = await plan(session, oslo(2026, 12, 28, 10, 0), RULES)
    assert {(p.step.value, p.report_id) for p in planned} >= {("remind", report)}


def test_an_escalation_needs_more_days_than_the_reminder() -> None:
    with pytest.raises(SettingsError, match="AVVIK_ESCALATE_AFTER_DAYS"):
        load_settings(
            {
                "AVVIK_DEV_MODE": "1",
                "AVVIK_REMIND_AFTER_DAYS": "5",
                "AVVIK_ESCALATE_AFTER_DAYS": "5",
            }
        )
    with pytest.raises(SettingsError, match="AVVIK_DAYS_OFF"):
        load_settings({"AVVIK_DEV_MODE": "1", "AVVIK_DAYS_OFF": "christmas"})
    settings = load_settings({"AVVIK_DEV_MODE": "1", "AVVIK_DAYS_OFF": ""})
    assert settings.reminder_rules.calendar.is_working_day(date(2026, 12, 24))
    assert not settings.reminders  # off in dev mode unless asked for
    assert load_settings({"MicrosoftAppId": "x", "MicrosoftAppPassword": "y"}).reminders


async def test_a_measure_owner_is_found_whatever_the_case_and_a_leaver_hears_nothing(
    world: World,
) -> None:
    report = await world.report()
    await world.measure(
        report, "Ny rutine for strøing", "HANNE RÅDGJEVAR"
    )  # Å: SQLite's lower() would not fold it
    world.post.clock.now = oslo(2026, 12, 1, 9, 0)
    assert await world.reminders.queue_due() == 3  # Hanne (the owner), Liv and Lars
    # Liv stops leading the school before the reminders go: hers is dropped, not sent as
    # plain text (she may no longer read the report).
    async with world.post.sessions() as session, session.begin():
        await session.execute(
            delete(UnitLeader).where(col(UnitLeader.person_id) == world.post.ids["liv"])
        )
    await world.post.sender().drain()
    assert world.chat("liv") == []
    assert len(world.chat("lars")) == 1
    [to_owner] = world.chat("hanne")
    assert "Ny rutine for strøing" in to_owner
