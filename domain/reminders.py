"""Which reminders are due, as a pure function of the open reports, their measures and the
clock (docs/reminders.md).

- A report not acknowledged `acknowledge_days` working days after it came in: a reminder to
  the unit's leaders and deputies; after `escalate_days`: word to the HMS adviser.
- A measure due within `measure_warning_days` working days: a reminder to its owner (when the
  bot knows them) and the unit's leaders; once it is overdue, another.
- The legal duties (domain.duties) of an acknowledged report not answered `acknowledge_days`
  working days after it came in, or answered «later» and that day come: one reminder per
  report to the unit's leaders, naming them all. (While a report is new, the reminder to
  acknowledge it shows its duties on the card.)
- The weekly digest: at the week's first working moment from Monday 08:00, to every leader
  with open reports in their units.

Nothing is due outside working hours (domain.working_time). Each reminder has a key of its
own — the report or measure, the step, the recipient, or the week — so a scheduler that runs
every minute, in two processes at once, or after the clock jumped, queues each one once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from domain.duties import Duty
from domain.oslo_time import OSLO
from domain.vocabulary import Status
from domain.working_time import WorkingCalendar

SNOOZE_LONGEST = timedelta(days=92)  # a leader may put reminders off for up to three months


class Step(StrEnum):
    REMIND = "remind"  # to the unit's leaders: not acknowledged yet
    ESCALATE = "escalate"  # to the HMS adviser: still not acknowledged
    MEASURE_SOON = "measure_soon"  # to the owner and the leaders: the deadline is near
    MEASURE_OVERDUE = "measure_overdue"  # the deadline has passed
    DUTY = "duty"  # to the unit's leaders: a legal duty waits for an answer
    DIGEST = "digest"  # the weekly digest to a leader


@dataclass(frozen=True)
class ReminderRules:
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    acknowledge_days: int = 2
    escalate_days: int = 5
    measure_warning_days: int = 2
    digest_weekday: int = 0  # Monday
    digest_time: time = time(8, 0)


@dataclass(frozen=True)
class OpenReport:
    report_id: int
    unit_id: int | None
    status: Status
    reported_at: datetime
    snoozed_until: date | None = None


@dataclass(frozen=True)
class OpenMeasure:
    measure_id: int
    report_id: int
    unit_id: int | None
    due: date
    snoozed_until: date | None = None  # the report's


@dataclass(frozen=True)
class OpenDuty:
    """A legal duty of an open report that waits: unanswered, or answered «later»."""

    report_id: int
    unit_id: int | None
    duty: Duty
    reported_at: datetime
    later_until: date | None = None  # answered «later»: due that day
    snoozed_until: date | None = None  # the report's
    status: Status = Status.ACKNOWLEDGED  # the report's
    applies: tuple[Duty, ...] = ()  # every duty the report sets off now, answered or not


@dataclass(frozen=True)
class Due:
    """A reminder the scheduler should queue (for whom is decided from `step`)."""

    step: Step
    report_id: int
    measure_id: int | None = None
    # A duties' reminder: the last day one of them fell due and which wait, so a new «later»,
    # or a duty a judgement added, reminds again.
    topic: str | None = None

    def key(self, person_id: int) -> str:
        subject = self.measure_id if self.measure_id is not None else self.report_id
        if self.topic is not None:
            return f"{self.step.value}:{subject}:{self.topic}:{person_id}"
        return f"{self.step.value}:{subject}:{person_id}"


def _snoozed(until: date | None, today: date) -> bool:
    return until is not None and today < until


def due_reminders(
    now: datetime,
    reports: Iterable[OpenReport],
    measures: Iterable[OpenMeasure],
    rules: ReminderRules,
    duties: Iterable[OpenDuty] = (),
) -> list[Due]:
    """What is due at `now` (aware). A report the leader snoozed gets no reminders until that
    day; its escalation to the adviser still comes: the adviser's view is not the leader's to
    put off. A measure whose deadline has passed gets only the overdue reminder."""
    calendar = rules.calendar
    if not calendar.is_working_moment(now):
        return []
    today = now.astimezone(OSLO).date()
    due: list[Due] = []
    for report in reports:
        if report.status != Status.NEW:
            continue
        if now >= calendar.add_working_days(report.reported_at, rules.escalate_days):
            due.append(Due(Step.ESCALATE, report.report_id))
        if _snoozed(report.snoozed_until, today):
            continue
        if now >= calendar.add_working_days(report.reported_at, rules.acknowledge_days):
            due.append(Due(Step.REMIND, report.report_id))
    for measure in measures:
        if _snoozed(measure.snoozed_until, today):
            continue
        if today > measure.due:
            due.append(Due(Step.MEASURE_OVERDUE, measure.report_id, measure.measure_id))
        elif today >= calendar.working_days_before(measure.due, rules.measure_warning_days):
            due.append(Due(Step.MEASURE_SOON, measure.report_id, measure.measure_id))
    fell_due: dict[int, date] = {}
    waiting: dict[int, set[str]] = {}
    for duty in duties:
        if duty.status == Status.NEW or _snoozed(duty.snoozed_until, today):
            continue
        if duty.later_until is not None:
            day = duty.later_until
            if today < day:
                continue
        else:
            moment = calendar.add_working_days(duty.reported_at, rules.acknowledge_days)
            if now < moment:
                continue
            day = moment.astimezone(OSLO).date()
        fell_due[duty.report_id] = max(day, fell_due.get(duty.report_id, day))
        waiting.setdefault(duty.report_id, set()).update(d.value for d in duty.applies)
    for report_id, day in sorted(fell_due.items()):
        # The duties the report sets off in the key: when a judgement changes them, the leader
        # is reminded of what waits then; an answer alone changes nothing here.
        codes = "+".join(sorted(waiting[report_id]))
        due.append(Due(Step.DUTY, report_id, topic=f"{day.isoformat()}:{codes}"))
    return due


def digest_week(now: datetime, rules: ReminderRules) -> str | None:
    """The ISO week («2026-W49») whose digest is due at `now`, or None: from the week's first
    working moment at or after its digest time (Monday 08:00; the Tuesday when Monday is 2.
    påskedag) to the end of that working day. A digest on a Thursday, when the bot was down
    on Monday, would tell of a week mostly gone: it waits for the next."""
    calendar = rules.calendar
    if not calendar.is_working_moment(now):
        return None
    local = now.astimezone(OSLO)
    week_start = local.date() - timedelta(days=local.weekday())
    digest_day = week_start + timedelta(days=rules.digest_weekday)
    first = calendar.next_working_moment(datetime.combine(digest_day, rules.digest_time, OSLO))
    if now < first or first.astimezone(OSLO).date() != local.date():
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"
