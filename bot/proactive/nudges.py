"""The monthly nudge: a friendly word to the leaders of units that report few avvik
(docs/under-reporting.md).

When it is due is a pure function of the clock (`nudge_due`); which units is the rule in
`domain.under_reporting`; the message is `nudge_message`. Each nudge (unit, leader, month) is
claimed in the database and put in the outbox in one transaction, so running `queue_due` every
hour, after a restart, or in two instances at once queues it once; the outbox sends it (or
keeps it waiting for a leader who has not installed the bot, and says why it failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from dialogs.turn import Clock
from domain.i18n import Texts
from domain.oslo_time import OSLO
from domain.under_reporting import find_under_reporting
from storage import outbox
from storage.db import SessionFactory
from storage.handling import Recipient
from storage.under_reporting import claim_nudge, leaders_of_units, unit_figures

logger = logging.getLogger(__name__)

# Nudges go out on working days in office hours, Norwegian time: the first chance is 09:00 on
# the month's first working day. A bot that was stopped then catches up on the next working
# days, but only within the first few: a «monthly» nudge on the 28th, a week before the
# next one, would be nagging.
FIRST_HOUR = time(9, 0)
LAST_HOUR = time(16, 0)  # exclusive
CATCH_UP_WORKING_DAYS = 5


def _easter_sunday(year: int) -> date:
    """The Gregorian Easter Sunday (the anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * el) // 433
    month = (h + el - 7 * m + 90) // 25
    day = (h + el - 7 * m + 33 * month + 19) % 32
    return date(year, month, day)


# Skjærtorsdag, langfredag, 1. and 2. påskedag, Kristi himmelfartsdag, 1. and 2. pinsedag.
_AFTER_EASTER = (-3, -2, 0, 1, 39, 49, 50)
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 17), (12, 25), (12, 26)}


def is_public_holiday(day: date) -> bool:
    """A Norwegian public holiday (helligdag or høgtidsdag) that falls on `day`."""
    if (day.month, day.day) in _FIXED_HOLIDAYS:
        return True
    easter = _easter_sunday(day.year)
    return any(day == easter + timedelta(days=shift) for shift in _AFTER_EASTER)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day)


def nudge_due(now: datetime) -> int | None:
    """The month (yyyymm, Europe/Oslo) whose nudges may go out at `now` (aware), or None.

    Due from 09:00 on the month's first working day (Monday to Friday, not a public holiday),
    until 16:00 each working day, on the first `CATCH_UP_WORKING_DAYS` working days of the
    month; never at night, at weekends or on holidays."""
    local = now.astimezone(OSLO)
    today = local.date()
    if not is_working_day(today) or not FIRST_HOUR <= local.time() < LAST_HOUR:
        return None
    working_days_so_far = sum(
        is_working_day(today.replace(day=day)) for day in range(1, today.day + 1)
    )
    if working_days_so_far > CATCH_UP_WORKING_DAYS:
        return None
    return local.year * 100 + local.month


def nudge_message(texts: Texts, *, unit_name: str, month: int) -> str:
    """The nudge in the leader's language, with one tip: the same tip all month, the next one
    the month after. It names no reporter and ranks the unit against no one."""
    tips = texts.words("nudge.tips")
    year, month_of_year = divmod(month, 100)
    tip = tips[(year * 12 + month_of_year - 1) % len(tips)]
    return texts("nudge.message", unit=unit_name, tip=tip)


NUDGE = "nudge"


class MonthlyNudges:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        *,
        ring: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._ring = ring

    async def queue_due(self, stop: asyncio.Event | None = None) -> int:
        """Queue this month's nudges that are due and not yet claimed; returns how many. Safe
        to call at any time, as often as you like. When `stop` is set (the service is shutting
        down) it ends after the nudge under way; the rest wait for the next run."""
        now = self._clock()
        month = nudge_due(now)
        if month is None:
            return 0
        async with self._sessions() as session:
            flagged = find_under_reporting(await unit_figures(session, now=now))
            leaders = await leaders_of_units(session, [f.unit.unit_id for f in flagged])
        queued = 0
        for unit in flagged:
            for recipient in leaders[unit.unit.unit_id]:
                if stop is not None and stop.is_set():
                    return queued
                queued += await self._queue_one(unit.unit.unit_id, unit.unit.name, recipient, month)
        if flagged:
            logger.info(
                "nudges for %s: %d unit(s) flagged, %d nudge(s) queued", month, len(flagged), queued
            )
        if queued:
            self._ring()
        return queued

    async def _queue_one(
        self, unit_id: int, unit_name: str, recipient: Recipient, month: int
    ) -> bool:
        async with self._sessions() as session, session.begin():
            nudge_id = await claim_nudge(
                session, unit_id=unit_id, person_id=recipient.person_id, month=month
            )
            if nudge_id is None:  # queued before: an earlier run, or another instance
                return False
            return await outbox.enqueue(
                session,
                person_id=recipient.person_id,
                kind=NUDGE,
                payload={"nudge_id": nudge_id, "unit_name": unit_name, "month": month},
                dedupe_key=f"{NUDGE}:{unit_id}:{recipient.person_id}:{month}",
                now=self._clock(),
            )

    async def run(self, stop: asyncio.Event, interval_s: float = 3600) -> None:
        """Call `queue_due` now and then every `interval_s` seconds until `stop` is set. An
        error is logged and the loop goes on: a database that is down for an hour must not
        end the nudges for good."""
        while not stop.is_set():
            try:
                await self.queue_due(stop)
            except Exception:
                logger.exception("monthly nudges failed; trying again in %s s", interval_s)
            with contextlib.suppress(TimeoutError):  # the interval passed without a stop
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
