"""`python -m bot reminders preview --at 2026-12-24T10:00 [--json]`: what the reminder
scheduler would queue at that moment (Europe/Oslo when no offset is given), sending nothing —
so an admin can see that nothing goes out on Christmas Eve (docs/reminders.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.proactive.reminders import Planned, plan
from domain.oslo_time import OSLO
from domain.reminders import ReminderRules
from domain.working_time import WorkingCalendar
from storage import reminders
from storage.db import database
from storage.migrate import upgrade

COMMAND = "reminders"
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(COMMAND, help="reminders, escalation and the weekly digest")
    parser.add_argument("action", choices=["preview"], help="what would be queued at a moment")
    parser.add_argument(
        "--at",
        type=_moment,
        default=None,
        help="the moment, e.g. 2026-12-24T10:00 (Norwegian time); default now",
    )
    parser.add_argument("--json", action="store_true", help="as JSON")


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a moment such as 2026-12-24T10:00: {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=OSLO)


@dataclass(frozen=True)
class Preview:
    at: datetime
    quiet: str | None  # why nothing may go out then, or None in working hours
    next_working: datetime
    planned: list[Planned]
    names: dict[int, str]
    cases: dict[int, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.astimezone(OSLO).isoformat(),
            "working_time": self.quiet is None,
            "quiet_because": self.quiet,
            "next_working_moment": self.next_working.astimezone(OSLO).isoformat(),
            "messages": [
                {
                    **p.as_json(),
                    "name": self.names.get(p.person_id, ""),
                    "case_number": self.cases.get(p.report_id) if p.report_id else None,
                    "week": p.payload.get("week"),
                }
                for p in self.planned
            ],
        }


def quiet_because(moment: datetime, calendar: WorkingCalendar) -> str | None:
    """Why nothing goes out at `moment`, in words for the admin; None in working hours."""
    local = moment.astimezone(OSLO)
    day = local.date()
    holiday = calendar.holiday_name(day)
    if holiday:
        return f"a public holiday ({holiday})"
    if (day.month, day.day) in calendar.days_off:
        return f"a day off (AVVIK_DAYS_OFF: {day.month:02d}-{day.day:02d})"
    if day.weekday() not in calendar.weekdays:
        return "not a working weekday (AVVIK_WORKING_DAYS)"
    if not calendar.start <= local.time() < calendar.end:
        return (
            f"outside working hours ({calendar.start:%H:%M}–{calendar.end:%H:%M}, "
            "AVVIK_WORKING_HOURS)"
        )
    return None


async def preview(database_url: str, at: datetime, rules: ReminderRules) -> Preview:
    async with database(database_url) as sessions, sessions() as session:
        planned = await plan(session, at, rules)
        people = {p.person_id for p in planned}
        reports = {p.report_id for p in planned if p.report_id is not None}
        names, cases = await reminders.names_and_cases(session, people=people, reports=reports)
    calendar = rules.calendar
    return Preview(
        at,
        quiet_because(at, calendar),
        calendar.next_working_moment(at),
        planned,
        names,
        cases,
    )


def _when(moment: datetime) -> str:
    local = moment.astimezone(OSLO)
    return f"{_DAYS[local.weekday()]} {local:%d.%m.%Y %H:%M}"


def preview_lines(found: Preview) -> list[str]:
    if found.quiet is not None:
        return [
            f"{_when(found.at)} (Europe/Oslo) is {found.quiet}: nothing is sent.",
            f"The next working moment is {_when(found.next_working)}.",
        ]
    lines = [
        f"At {_when(found.at)} (Europe/Oslo) the scheduler would queue "
        f"{len(found.planned)} message(s)" + (":" if found.planned else ".")
    ]
    for item in found.planned:
        subject = (
            f"week {item.payload.get('week')}"
            if item.report_id is None
            else found.cases.get(item.report_id, f"report {item.report_id}")
        )
        measure = f", measure {item.measure_id}" if item.measure_id is not None else ""
        name = found.names.get(item.person_id, f"person {item.person_id}")
        lines.append(f"  {item.step.value:<16} {subject}{measure} → {name}")
    return lines


def run(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    at = args.at or datetime.now(OSLO)
    found = asyncio.run(preview(settings.database_url, at, settings.reminder_rules))
    if args.json:
        sys.stdout.write(json.dumps(found.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(preview_lines(found)) + "\n")
    return 0
