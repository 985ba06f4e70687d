"""The monthly nudge: a friendly word to the leaders of units that report few avvik
(docs/under-reporting.md).

When it is due is a pure function of the clock (`nudge_due`); which units is the rule in
`domain.under_reporting`; the message is `nudge_message`. Each nudge (unit, leader, month) is
claimed in the database and put in the outbox in one transaction, so running `queue_due` every
minute (the reminders' scheduler, bot/proactive/reminders.py), after a restart, or in two
instances at once queues it once; the outbox sends it (or
keeps it waiting for a leader who has not installed the bot, and says why it failed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, time

from dialogs.turn import Clock
from domain.i18n import Texts
from domain.oslo_time import OSLO
from domain.under_reporting import find_under_reporting
from domain.working_time import WorkingCalendar
from storage import outbox
from storage.db import SessionFactory
from storage.handling import Recipient
from storage.under_reporting import claim_nudge, leaders_of_units, unit_figures

logger = logging.getLogger(__name__)

# Nudges go out on working days in office hours, Norwegian time: the first chance is 09:00 on
# the month's first working day. A bot that was stopped then catches up on the next working
# days, but only within the first few: a «monthly» nudge on the 28th, a week before the
# next one, would be nagging.
FIRST_HOUR = time(9, 0)  # an hour into the working day: not the first thing in the inbox
CATCH_UP_WORKING_DAYS = 5


def nudge_due(now: datetime, calendar: WorkingCalendar) -> int | None:
    """The month (yyyymm, Europe/Oslo) whose nudges may go out at `now` (aware), or None.

    Due from 09:00 on the month's first working day (the reminders' calendar: Monday to
    Friday, not a public holiday nor a day off), until the end of working hours each working
    day, on the first `CATCH_UP_WORKING_DAYS` working days of the month; never at night, at
    weekends or on holidays."""
    local = now.astimezone(OSLO)
    today = local.date()
    if not calendar.is_working_moment(now) or local.time() < FIRST_HOUR:
        return None
    working_days_so_far = sum(
        calendar.is_working_day(today.replace(day=day)) for day in range(1, today.day + 1)
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
        calendar: WorkingCalendar | None = None,
        ring: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._calendar = calendar or WorkingCalendar()
        self._ring = ring

    async def queue_due(self, stop: asyncio.Event | None = None) -> int:
        """Queue this month's nudges that are due and not yet claimed; returns how many. Safe
        to call at any time, as often as you like. When `stop` is set (the service is shutting
        down) it ends after the nudge under way; the rest wait for the next run."""
        now = self._clock()
        month = nudge_due(now, self._calendar)
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
