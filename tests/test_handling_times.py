"""The arithmetic behind the handling-time figures and the legal duties (issue 14): working
days in Europe/Oslo with Norway's holidays, reports open at the period's end, imported history
as unknown; which duties each kind of report sets off."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from domain.duties import Answer, Duty, DutyAnswer, duties_of, open_duties
from domain.handling_times import Handled, handling_figures, working_days_between
from domain.oslo_time import OSLO, month_of
from domain.working_time import WorkingCalendar
from storage.db import SessionFactory
from storage.models import Report, ReportDuty
from storage.stats import statistics
from tests.voss_org import make_voss

CALENDAR = WorkingCalendar()


def oslo(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=OSLO)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (oslo(2026, 11, 24, 9, 0), oslo(2026, 11, 24, 13, 0), 0.5),  # half a day
        (oslo(2026, 11, 27, 15, 0), oslo(2026, 11, 30, 9, 0), 0.25),  # Friday to Monday
        (oslo(2026, 11, 28, 12, 0), oslo(2026, 11, 30, 16, 0), 1.0),  # Saturday: from Monday
        (oslo(2026, 11, 24, 20, 0), oslo(2026, 11, 25, 7, 0), 0.0),  # a night is no time
        # 17 May 2027 is a Monday: Friday 14 to Tuesday 18 is one working day and a half.
        (oslo(2027, 5, 14, 12, 0), oslo(2027, 5, 18, 12, 0), 1.0),
        # Julaften (a day off) to the 28th: 25th and 26th are holidays, 27th a Sunday.
        (oslo(2026, 12, 23, 8, 0), oslo(2026, 12, 28, 16, 0), 2.0),
        (oslo(2026, 11, 24, 13, 0), oslo(2026, 11, 24, 9, 0), 0.0),  # end before start
    ],
)
def test_working_days_between(start: datetime, end: datetime, days: float) -> None:
    assert working_days_between(CALENDAR, start, end) == pytest.approx(days)


def test_the_figures_count_what_had_happened_by_the_end_and_leave_imports_unknown() -> None:
    end = oslo(2026, 12, 31, 23, 59)
    monday = oslo(2026, 11, 2, 9, 0)
    reports = [
        # acknowledged after 0.5, 1 and 3 working days; closed after 10 and 40 calendar days
        Handled(monday, oslo(2026, 11, 2, 13, 0), oslo(2026, 11, 12, 9, 0)),
        Handled(monday, oslo(2026, 11, 3, 9, 0), oslo(2026, 12, 12, 9, 0)),
        Handled(monday, oslo(2026, 11, 5, 9, 0), None),
        # never acknowledged, its two days long gone: counted against the share
        Handled(monday, None, None),
        # came in on the last working afternoon: its two days have not run out
        Handled(oslo(2026, 12, 30, 15, 0), None, None),
        # acknowledged and closed after the period: open at its end, as it was then
        Handled(oslo(2026, 12, 21, 9, 0), oslo(2027, 1, 4, 9, 0), oslo(2027, 1, 5, 9, 0)),
        Handled(monday, None, None, known=False),  # imported history: no events
    ]
    figures = handling_figures(reports, end=end, calendar=CALENDAR)
    assert figures.reports == 7
    assert figures.unknown == 1
    assert figures.acknowledged == 3
    assert figures.acknowledge_median == 1.0
    assert figures.acknowledge_p90 == pytest.approx(2.6)
    # due: the three acknowledged, the one never acknowledged, and the 21 December one
    assert (figures.acknowledged_in_time, figures.acknowledge_due) == (2, 5)
    assert figures.acknowledged_in_time_share == 0.4
    assert figures.closed == 2
    assert (figures.closed_in_time, figures.close_due) == (1, 4)
    assert figures.open_at_end == 4
    as_json = figures.as_json()
    assert as_json["unknown"] == 1
    assert as_json["closed_within_30_days_share"] == 0.25


def test_no_reports_give_no_figures_not_zeros() -> None:
    figures = handling_figures([], end=oslo(2026, 12, 31, 0, 0), calendar=CALENDAR)
    assert figures.acknowledge_median is None
    assert figures.acknowledged_in_time_share is None
    only_imported = handling_figures(
        [Handled(oslo(2025, 3, 3, 9, 0), None, None, known=False)],
        end=oslo(2025, 12, 31, 0, 0),
        calendar=CALENDAR,
    )
    assert (only_imported.unknown, only_imported.open_at_end) == (1, 0)
    assert only_imported.close_median is None


@pytest.mark.parametrize(
    ("harm", "severity", "category", "duties"),
    [
        ("near_miss", "low", "fall_accident", ()),
        ("injury", "medium", "fall_accident", (Duty.NAV_INJURY,)),
        ("injury", "high", "fall_accident", (Duty.NOTIFY_AUTHORITIES, Duty.NAV_INJURY)),
        ("near_miss", "high", "fire_electrical", ()),  # high, but nobody hurt: no § 5-2
        (
            "near_miss",
            "low",
            "violence_threats",
            (Duty.DEBRIEF, Duty.POLICE_REPORT, Duty.RISK_REVIEW),
        ),
        (
            "injury",
            "high",
            "violence_threats",
            (
                Duty.NOTIFY_AUTHORITIES,
                Duty.NAV_INJURY,
                Duty.DEBRIEF,
                Duty.POLICE_REPORT,
                Duty.RISK_REVIEW,
            ),
        ),
    ],
)
def test_each_kind_of_report_sets_off_its_duties(
    harm: str, severity: str, category: str, duties: tuple[Duty, ...]
) -> None:
    assert duties_of(harm=harm, severity=severity, category=category) == duties


def test_a_duty_answered_later_still_waits() -> None:
    duties = (Duty.DEBRIEF, Duty.POLICE_REPORT, Duty.RISK_REVIEW)
    answers = {
        Duty.DEBRIEF: DutyAnswer(Duty.DEBRIEF, Answer.LATER),
        Duty.POLICE_REPORT: DutyAnswer(Duty.POLICE_REPORT, Answer.NOT_RELEVANT),
    }
    assert open_duties(duties, answers) == (Duty.DEBRIEF, Duty.RISK_REVIEW)


async def test_the_statistics_document_has_the_years_handling(sessions: SessionFactory) -> None:
    """Over the database (both): times per unit, department and category, imported history
    as unknown, judgements, causes and duties; a report changed after closing keeps its time."""
    voss = await make_voss(sessions)
    monday = oslo(2026, 11, 2, 9, 0)
    async with sessions() as session, session.begin():
        school = [
            Report(
                **report_fields(f"s{n}", voss.school, monday, "violence_threats"),
                acknowledged_at=ack,
                closed_at=closed,
                cause=cause,
            )
            for n, (ack, closed, cause) in enumerate(
                [
                    (oslo(2026, 11, 2, 13, 0), oslo(2026, 11, 12, 9, 0), "staffing"),
                    (oslo(2026, 11, 3, 9, 0), None, None),
                    (oslo(2026, 11, 5, 9, 0), None, None),
                ]
            )
        ]
        home = Report(
            **{**report_fields("h1", voss.home, monday, "fall_accident"), "severity": "low"},
            reported_severity="high",
            acknowledged_at=oslo(2026, 11, 2, 10, 0),
            closed_at=oslo(2026, 11, 4, 9, 0),
            cause="equipment",
        )
        imported = Report(
            **report_fields("i1", voss.home, monday, "fall_accident"), source="import"
        )
        session.add_all([*school, home, imported])
        await session.flush()
        assert school[0].id is not None
        session.add(
            ReportDuty(
                report_id=school[0].id,
                duty="debrief",
                answer="done",
                answered_at=oslo(2026, 11, 3, 9, 0),
            )
        )
        # An answer from before the home's report was judged to be a fall, not violence: it
        # no longer applies, and must not hide the school's open debriefs.
        assert home.id is not None
        session.add(
            ReportDuty(
                report_id=home.id,
                duty="debrief",
                answer="done",
                answered_at=oslo(2026, 11, 3, 9, 0),
            )
        )
    async with sessions() as session:
        document = await statistics(session, year=2026, now=oslo(2026, 12, 4, 12, 0))
    handling = document.as_json()["handling"]
    assert handling["end"] == "2026-12-04T12:00:00+01:00"
    assert (handling["reports"], handling["unknown"], handling["acknowledged"]) == (5, 1, 4)
    # 0.5, 1 and 3 working days at the school, 0.125 at the home
    assert handling["acknowledge_days_median"] == 0.8
    assert handling["acknowledged_within_2_working_days"] == 3
    assert handling["open_at_end"] == 2
    units = {u["unit"]: u for u in handling["units"]}
    assert units["Vossevangen skule"]["acknowledge_days_median"] == 1.0
    assert units["Bu- og miljøteneste aust"]["unknown"] == 1
    assert units["Bu- og miljøteneste aust"]["close_days_median"] == 2.0
    departments = {d["department"]: d["reports"] for d in handling["departments"]}
    assert departments == {"Helse og omsorg": 2, "Oppvekst": 3}
    categories = {c["category"]: c["closed"] for c in handling["category"]}
    assert categories == {"violence_threats": 1, "fall_accident": 1}
    assert handling["judged"] == {"severity_changed": 1, "category_changed": 0}
    assert sorted((c["cause"], c["count"]) for c in handling["causes"]) == [
        ("equipment", 1),
        ("staffing", 1),
    ]
    debrief = next(d for d in handling["duties"] if d["duty"] == "debrief")
    assert (debrief["applies"], debrief["done"], debrief["unanswered"]) == (3, 1, 2)


def report_fields(key: str, unit_id: int, at: datetime, category: str) -> dict[str, Any]:
    return {
        "case_number": key,
        "submission_key": key,
        "unit_id": unit_id,
        "location": "Skuleplassen",
        "occurred_at": at,
        "reported_at": at,
        "reported_month": month_of(at),
        "description": "Glatt skuleplass, ikkje strødd.",
        "harm": "near_miss",
        "category": category,
        "severity": "medium",
    }
