"""Working time in a Norwegian town hall (Europe/Oslo): when the bot may remind people, and how
old something is in working days.

Working days are Monday to Friday, except Norway's public holidays (the maintained `holidays`
package: Easter, Kristi himmelfartsdag and pinse move every year) and the extra days off the
municipality names — julaften and nyttårsaften by default, which are not public holidays but
when most town halls close. Working hours are 08:00–16:00 unless set otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import holidays

from domain.oslo_time import OSLO

# Julaften and nyttårsaften: (month, day).
CHRISTMAS_AND_NEW_YEARS_EVE = ((12, 24), (12, 31))
_LONGEST_BREAK = 30  # days without a working day that no calendar has: a bad setting


def _norwegian_holidays() -> holidays.HolidayBase:
    # Grows by itself with each year asked about.
    return holidays.country_holidays("NO")


@dataclass(frozen=True)
class WorkingCalendar:
    start: time = time(8, 0)
    end: time = time(16, 0)  # exclusive
    days_off: tuple[tuple[int, int], ...] = CHRISTMAS_AND_NEW_YEARS_EVE
    weekdays: frozenset[int] = frozenset(range(5))  # Monday (0) to Friday (4)
    _holidays: holidays.HolidayBase = field(
        default_factory=_norwegian_holidays, compare=False, repr=False
    )

    def is_public_holiday(self, day: date) -> bool:
        return day in self._holidays

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in self.weekdays
            and (day.month, day.day) not in self.days_off
            and not self.is_public_holiday(day)
        )

    def is_working_moment(self, moment: datetime) -> bool:
        local = moment.astimezone(OSLO)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        for _ in range(_LONGEST_BREAK):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("no working day in thirty days: check the days off")

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` itself in working hours; else the start of the next working hours."""
        if self.is_working_moment(moment):
            return moment
        local = moment.astimezone(OSLO)
        day = local.date()
        if not (self.is_working_day(day) and local.time() < self.start):
            day = self.next_working_day(day)
        return datetime.combine(day, self.start, OSLO)

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """The moment `days` working days after `moment`, counted from the next working moment:
        something from Friday 15:00 is two working days old on Tuesday at 15:00, and something
        from Saturday on Tuesday at 08:00."""
        start = self.next_working_moment(moment).astimezone(OSLO)
        day = start.date()
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, start.time(), OSLO)

    def working_days_before(self, day: date, days: int) -> date:
        """The working day `days` working days before `day` (a deadline's warning)."""
        for _ in range(days):
            for _ in range(_LONGEST_BREAK):
                day -= timedelta(days=1)
                if self.is_working_day(day):
                    break
        return day


def parse_days_off(text: str) -> tuple[tuple[int, int], ...]:
    """«12-24,12-31» (month-day, comma-separated; empty for none) as (month, day) pairs."""
    days: list[tuple[int, int]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        month_text, _, day_text = part.partition("-")
        try:
            found = date(2024, int(month_text), int(day_text))  # a leap year: 02-29 is a day
        except ValueError:
            raise ValueError(f"not a month-day such as 12-24: {part!r}") from None
        days.append((found.month, found.day))
    return tuple(days)


_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekdays(text: str) -> frozenset[int]:
    """«mon-fri», «mon,tue,wed» or «mon-sun» as weekday numbers (Monday 0)."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.replace("–", "-").split(",")):
        first, _, last = part.partition("-")
        names = (first.strip()[:3], (last.strip() or first.strip())[:3])
        if not all(name in _WEEKDAY_NAMES for name in names):
            raise ValueError(f"not weekdays such as mon-fri: {text!r}")
        start, end = (_WEEKDAY_NAMES.index(name) for name in names)
        days.update(range(start, end + 1))
    if not days:
        raise ValueError("at least one working weekday is needed")
    return frozenset(days)


def parse_hours(text: str) -> tuple[time, time]:
    """«08:00-16:00» as (start, end)."""
    start_text, _, end_text = text.partition("-")
    try:
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError:
        raise ValueError(f"not hours such as 08:00-16:00: {text!r}") from None
    if not start < end:
        raise ValueError(f"working hours must end after they start: {text!r}")
    return start, end
