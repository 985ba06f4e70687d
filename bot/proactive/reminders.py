"""The reminder scheduler: every minute (AVVIK_SCHEDULER_SECONDS) it works out what is due
(domain.reminders), for whom, and puts it in the outbox in one transaction; the outbox sends
it in working hours, drawn again when it goes (bot/proactive/reminder_messages.py). The monthly
under-reporting nudge runs on the same loop and calendar.

Each reminder's dedupe key — step, report or measure, recipient; or week and recipient — makes
it once: a second scheduler, a restart, or a clock that jumped back queues nothing twice, and a
clock that jumped forward queues one reminder per report, not one per missed minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.turn import Clock
from domain.reminders import ReminderRules, Step, digest_week, due_reminders
from storage import organisation, outbox, reminders
from storage.db import SessionFactory

logger = logging.getLogger(__name__)

# The outbox kind of each step (what bot/proactive/reminder_messages.py draws).
KIND = {step: f"reminder_{step.value}" for step in Step}


@dataclass(frozen=True)
class Planned:
    """One message the scheduler would queue."""

    step: Step
    person_id: int
    report_id: int | None
    measure_id: int | None
    key: str
    payload: dict[str, object]

    def as_json(self) -> dict[str, object]:
        return {
            "step": self.step.value,
            "person_id": self.person_id,
            "report_id": self.report_id,
            "measure_id": self.measure_id,
            "key": self.key,
        }


async def plan(session: AsyncSession, now: datetime, rules: ReminderRules) -> list[Planned]:
    """Everything due at `now` that is not in the outbox yet: what the scheduler queues, and
    what `python -m bot reminders preview` shows."""
    reports = await reminders.open_reports(session)
    measures = await reminders.open_measures(session)
    duties = await reminders.open_duties(session)
    due = due_reminders(now, reports, measures, rules, duties)
    report_units = {r.report_id: r.unit_id for r in reports}
    report_units |= {d.report_id: d.unit_id for d in duties}
    measure_units = {m.measure_id: m.unit_id for m in measures}
    units = {u for u in (*report_units.values(), *measure_units.values()) if u is not None}
    leaders = await reminders.leaders_by_unit(session, units)
    advisers = await organisation.adviser_ids(session)
    owners = await reminders.measure_owners(
        session, [d.measure_id for d in due if d.measure_id is not None]
    )
    planned: list[Planned] = []
    for item in due:
        owner = owners.get(item.measure_id) if item.measure_id is not None else None
        if item.step is Step.ESCALATE:
            people = advisers
        else:
            unit = (
                measure_units.get(item.measure_id)
                if item.measure_id is not None
                else report_units.get(item.report_id)
            )
            # A unit nobody leads now (or none at all): the adviser hears instead.
            people = leaders.get(unit, []) if unit is not None else []
            people = people or advisers
            if owner is not None and owner not in people:
                people = [owner, *people]
        payload: dict[str, object] = {"report_id": item.report_id}
        if item.measure_id is not None:
            payload["measure_id"] = item.measure_id
        planned += [
            Planned(
                item.step,
                person,
                item.report_id,
                item.measure_id,
                item.key(person),
                # The measure's owner may not read the report: told what and by when only.
                {**payload, "owner": True} if person == owner else payload,
            )
            for person in people
        ]
    week = digest_week(now, rules)
    if week is not None:
        for person, _count in sorted((await reminders.open_by_leader(session)).items()):
            planned.append(
                Planned(
                    Step.DIGEST,
                    person,
                    None,
                    None,
                    f"{Step.DIGEST.value}:{week}:{person}",
                    {"week": week},
                )
            )
    queued = await outbox.existing_keys(session, [p.key for p in planned])
    return [p for p in planned if p.key not in queued]


class Reminders:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        rules: ReminderRules,
        *,
        ring: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._rules = rules
        self._ring = ring

    async def queue_due(self) -> int:
        """Queue what is due now; how many new rows. Safe to call as often as you like."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            planned = await plan(session, now, self._rules)
            queued = 0
            for item in planned:
                queued += await outbox.enqueue(
                    session,
                    person_id=item.person_id,
                    kind=KIND[item.step],
                    payload=item.payload,
                    dedupe_key=item.key,
                    now=now,
                )
        if queued:
            logger.info("reminders: %d queued", queued)
            self._ring()
        return queued


async def run_every(
    stop: asyncio.Event, interval_s: float, jobs: Sequence[Callable[[], Awaitable[object]]]
) -> None:
    """The scheduler: each job now, then again every `interval_s` seconds until `stop`. A
    failing job is logged and the others and the loop go on: a database that is down for an
    hour must not end the reminders for good."""
    while not stop.is_set():
        for job in jobs:
            if stop.is_set():
                break
            try:
                await job()
            except Exception:
                logger.exception("a scheduled job failed; trying again in %s s", interval_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
