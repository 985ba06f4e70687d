"""How fast avvik are handled, in working days (docs/statistics.md, «Handling times»).

Counted from the report's events: acknowledged is the leader's first move on it (motteke,
under handsaming, a measure, a judgement or closing), closed is when it was closed. A working
day is the working hours of one day (domain.working_time: 08:00–16:00 on working days, Norway's
holidays off): a report from Friday 15:00 acknowledged on Monday at 09:00 waited 0.25 working
days. Imported history has no events and is counted as unknown, never as zero.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.oslo_time import OSLO
from domain.working_time import WorkingCalendar

ACKNOWLEDGE_WITHIN_DAYS = 2  # working days: DOMAIN.md's «leader acknowledges within 2»
CLOSE_WITHIN = timedelta(days=30)  # calendar days


def working_days_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> float:
    """The working time from `start` to `end` (aware), in working days; 0 when end ≤ start."""
    if end <= start:
        return 0.0
    first, last = start.astimezone(OSLO), end.astimezone(OSLO)
    hours_a_day = _seconds(calendar, first.date(), None, None)
    seconds = 0.0
    day = first.date()
    while day <= last.date():
        if calendar.is_working_day(day):
            seconds += _seconds(
                calendar,
                day,
                first if day == first.date() else None,
                last if day == last.date() else None,
            )
        day += timedelta(days=1)
    return seconds / hours_a_day


def _seconds(
    calendar: WorkingCalendar, day: date, after: datetime | None, before: datetime | None
) -> float:
    """The working seconds of `day` between `after` and `before` (either None: all of them)."""
    opens = datetime.combine(day, calendar.start, OSLO)
    closes = datetime.combine(day, calendar.end, OSLO)
    begin = max(opens, after) if after is not None else opens
    stop = min(closes, before) if before is not None else closes
    return max(0.0, (stop - begin).total_seconds())


@dataclass(frozen=True)
class Handled:
    """One report as the figures see it. `known` is False for imported history (no events)."""

    reported_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    known: bool = True


@dataclass(frozen=True)
class HandlingFigures:
    reports: int
    unknown: int  # imported history without events: no time is claimed for them
    acknowledged: int
    acknowledge_median: float | None  # working days
    acknowledge_p90: float | None
    acknowledged_in_time: int  # within ACKNOWLEDGE_WITHIN_DAYS working days
    acknowledge_due: int  # reports whose deadline had come by the end (or acknowledged)
    closed: int
    close_median: float | None
    close_p90: float | None
    closed_in_time: int  # within CLOSE_WITHIN
    close_due: int
    open_at_end: int  # not closed when the period ended

    @property
    def acknowledged_in_time_share(self) -> float | None:
        return _share(self.acknowledged_in_time, self.acknowledge_due)

    @property
    def closed_in_time_share(self) -> float | None:
        return _share(self.closed_in_time, self.close_due)

    def as_json(self) -> dict[str, object]:
        return {
            "reports": self.reports,
            "unknown": self.unknown,
            "acknowledged": self.acknowledged,
            "acknowledge_days_median": self.acknowledge_median,
            "acknowledge_days_p90": self.acknowledge_p90,
            "acknowledged_within_2_working_days": self.acknowledged_in_time,
            "acknowledge_due": self.acknowledge_due,
            "acknowledged_within_2_working_days_share": self.acknowledged_in_time_share,
            "closed": self.closed,
            "close_days_median": self.close_median,
            "close_days_p90": self.close_p90,
            "closed_within_30_days": self.closed_in_time,
            "close_due": self.close_due,
            "closed_within_30_days_share": self.closed_in_time_share,
            "open_at_end": self.open_at_end,
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    median = statistics.median(values)
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else median
    return round(median, 1), round(p90, 1)


def handling_figures(
    reports: Iterable[Handled], *, end: datetime, calendar: WorkingCalendar, unknown: int = 0
) -> HandlingFigures:
    """The figures for reports as they stood at `end` (the period's end, or now if sooner):
    what happened after `end` does not count, so last quarter's figures stay as they were.
    `unknown` more reports were imported (counted, with no times)."""
    total = unknown
    acknowledge_due = acknowledged_in_time = close_due = closed_in_time = 0
    open_at_end = 0
    acknowledge_days: list[float] = []
    close_days: list[float] = []
    for report in reports:
        total += 1
        if not report.known:
            unknown += 1
            continue
        acknowledged = report.acknowledged_at if _by(report.acknowledged_at, end) else None
        closed = report.closed_at if _by(report.closed_at, end) else None
        if closed is None:
            open_at_end += 1
        deadline = calendar.add_working_days(report.reported_at, ACKNOWLEDGE_WITHIN_DAYS)
        if acknowledged is not None:
            days = working_days_between(calendar, report.reported_at, acknowledged)
            acknowledge_days.append(days)
            acknowledge_due += 1
            acknowledged_in_time += acknowledged <= deadline
        elif deadline <= end:
            acknowledge_due += 1
        if closed is not None:
            close_days.append(working_days_between(calendar, report.reported_at, closed))
            close_due += 1
            closed_in_time += closed - report.reported_at <= CLOSE_WITHIN
        elif report.reported_at + CLOSE_WITHIN <= end:
            close_due += 1
    acknowledge_median, acknowledge_p90 = _median_p90(acknowledge_days)
    close_median, close_p90 = _median_p90(close_days)
    return HandlingFigures(
        reports=total,
        unknown=unknown,
        acknowledged=len(acknowledge_days),
        acknowledge_median=acknowledge_median,
        acknowledge_p90=acknowledge_p90,
        acknowledged_in_time=acknowledged_in_time,
        acknowledge_due=acknowledge_due,
        closed=len(close_days),
        close_median=close_median,
        close_p90=close_p90,
        closed_in_time=closed_in_time,
        close_due=close_due,
        open_at_end=open_at_end,
    )


def _by(moment: datetime | None, end: datetime) -> bool:
    return moment is not None and moment <= end
