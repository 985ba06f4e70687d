"""The under-reporting finder: the rule on its own, the counts on SQLite and PostgreSQL, the
adviser's card in every language, and `python -m bot under-reporting`."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.cards.under_reporting import under_reporting_card
from bot.cli.under_reporting import add_parser, run
from bot.config import Settings
from domain.oslo_time import month_of
from domain.under_reporting import (
    Comparison,
    Flagged,
    Reason,
    UnitFigures,
    compare,
    find_under_reporting,
    poisson_cdf,
)
from storage.conversations import ConversationAddress, remember_conversation
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.models import Department, Report, Unit
from storage.types import utcnow
from storage.under_reporting import leaders_of_units, unit_figures
from tests.chat import CATALOGUES, EN, NN
from tests.test_cards import card_errors
from tests.voss_org import make_voss

NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
FAR, QUIET = Reason.FAR_BELOW, Reason.NONE_IN_90_DAYS
_ids = iter(range(1000, 100_000))


def unit(
    headcount: int | None,
    year: int,
    recent: int | None = None,
    *,
    department: str = "Oppvekst",
    name: str = "",
) -> UnitFigures:
    unit_id = next(_ids)
    recent = min(year, 1) if recent is None else recent
    return UnitFigures(
        unit_id, f"U-{unit_id}", name or f"Eining {unit_id}", department, headcount, year, recent
    )


def peers(n: int, headcount: int, reports: int, department: str = "Oppvekst") -> list[UnitFigures]:
    """`n` ordinary units that each reported `reports` times, some of them lately."""
    return [unit(headcount, reports, department=department) for _ in range(n)]


def verdict(target: UnitFigures, others: list[UnitFigures]) -> Flagged | None:
    found = {f.unit.unit_id: f for f in find_under_reporting([target, *others])}
    assert set(found) <= {target.unit_id}, "an ordinary unit was flagged"
    return found.get(target.unit_id)


# ---- the Poisson tail ---------------------------------------------------------------------


def test_poisson_cdf_agrees_with_the_sum_of_the_terms() -> None:
    for mean in (0.3, 0.8, 4.0, 24.6):
        for k in range(0, 30):
            exact = sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k + 1))
            assert poisson_cdf(k, mean) == pytest.approx(exact, rel=1e-9)
    assert poisson_cdf(0, 0.8) == pytest.approx(0.4493, abs=1e-4)
    assert poisson_cdf(-1, 3.0) == 0.0
    assert poisson_cdf(0, 0.0) == 1.0


def test_poisson_cdf_copes_with_a_large_unit() -> None:
    # e^-2000 underflows a float; the sum in log space does not.
    assert poisson_cdf(2000, 2000.0) == pytest.approx(0.506, abs=0.002)
    assert 0 < poisson_cdf(1000, 2000.0) < 1e-100


# ---- the rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "others", "reasons"),
    [
        pytest.param(unit(30, 3), peers(3, 20, 20), (FAR,), id="a big unit far below: flagged"),
        pytest.param(
            unit(3, 0),
            peers(3, 15, 4),
            (QUIET,),
            # expected 0.8, P(0) = 0.45: chance alone, so not «far below»; only the plain fact
            id="3 staff, 0 reports, 0.8 expected: not called far below",
        ),
        pytest.param(
            unit(6, 2, 1),
            peers(3, 10, 10),
            None,
            id="under half the median, but p = 0.06: not flagged",
        ),
        pytest.param(
            unit(1000, 900, 70),
            peers(3, 100, 100),
            None,
            id="improbably few (p < 0.001), but not under half: not flagged",
        ),
        pytest.param(unit(10, 4, 1), peers(3, 10, 10), (FAR,), id="4 of 10 expected, p = 0.03"),
        pytest.param(unit(30, 0, 0), peers(3, 20, 20), (FAR, QUIET), id="both reasons at once"),
        pytest.param(
            unit(30, 0, 0), peers(1, 20, 20), (QUIET,), id="one unit to compare with: not judged"
        ),
        pytest.param(
            unit(30, 0, 0),
            [*peers(1, 20, 20), unit(None, 40), unit(0, 0)],
            (QUIET,),
            id="units without a headcount are not compared with",
        ),
        pytest.param(
            unit(30, 1, 1),
            peers(3, 20, 20, department="Helse og omsorg"),
            None,
            id="other departments are not comparable",
        ),
        pytest.param(unit(None, 0, 0), peers(3, 20, 20), (QUIET,), id="headcount unknown, quiet"),
        pytest.param(unit(0, 0, 0), peers(3, 20, 20), None, id="headcount 0: nobody to report"),
        pytest.param(unit(12, 12, 3), peers(3, 20, 20), None, id="an ordinary unit"),
    ],
)
def test_the_rule(
    target: UnitFigures, others: list[UnitFigures], reasons: tuple[Reason, ...] | None
) -> None:
    flagged = verdict(target, others)
    assert (flagged.reasons if flagged else None) == reasons


def test_the_numbers_an_adviser_reads() -> None:
    target = unit(30, 3)
    comparison = compare(target, [target, *peers(3, 20, 20)])
    assert comparison == Comparison(
        rate_per_10=1.0,
        median_rate_per_10=10.0,
        expected=30.0,
        p_value=poisson_cdf(3, 30.0),  # about 1e-10
        compared_with=3,
    )
    small = unit(3, 0)
    [flagged] = find_under_reporting([small, *peers(3, 15, 4)])
    assert flagged.comparison is not None
    assert flagged.comparison.expected == pytest.approx(0.8)
    assert flagged.comparison.p_value == pytest.approx(math.exp(-0.8))


def test_the_median_leaves_the_unit_itself_out() -> None:
    target = unit(100, 0, 0)
    others = [unit(10, 10), unit(10, 20)]  # 10 and 20 per 10 employees
    comparison = compare(target, [target, *others])
    assert comparison is not None
    # With the unit's own 0 in it, the median would be 10, not 15.
    assert comparison.median_rate_per_10 == pytest.approx(15.0)
    assert comparison.compared_with == 2


def test_the_most_striking_come_first() -> None:
    quiet_small, quiet_big = unit(4, 2, 0, name="Liten"), unit(40, 8, 0, name="Stor")
    far = unit(30, 3, name="Langt under")  # p about 1e-10
    farther = unit(60, 2, 0, name="Endå lenger under")  # both reasons, p about 1e-23
    unknown = unit(None, 5, 0, name="Utan tal")
    order = find_under_reporting([quiet_small, far, unknown, quiet_big, farther, *peers(4, 20, 20)])
    assert [f.unit.name for f in order] == [
        "Endå lenger under",
        "Langt under",
        "Stor",
        "Liten",
        "Utan tal",
    ]


def test_nothing_to_flag() -> None:
    assert find_under_reporting([]) == []
    assert find_under_reporting(peers(5, 20, 20)) == []


# ---- the counts, on both databases --------------------------------------------------------


async def add_reports(
    sessions: SessionFactory, unit_id: int | None, *moments: datetime
) -> list[int]:
    """New low-severity reports in the unit, reported at these moments; their ids."""
    async with sessions() as session, session.begin():
        reports = []
        for at in moments:
            key = uuid.uuid4().hex
            reports.append(
                Report(
                    case_number=key[:20],
                    submission_key=key,
                    unit_id=unit_id,
                    location="Skuleplassen",
                    occurred_at=at,
                    reported_at=at,
                    reported_month=month_of(at),
                    description="Glatt skuleplass, ikkje strødd.",
                    harm="near_miss",
                    category="fall_accident",
                    severity="low",
                )
            )
        session.add_all(reports)
        await session.flush()
        return [r.id for r in reports if r.id is not None]


async def test_the_counts_follow_the_injected_clock(sessions: SessionFactory) -> None:
    voss = await make_voss(sessions)
    async with sessions() as session, session.begin():
        oppvekst = await session.scalar(
            select(col(Department.id)).where(col(Department.name) == "Oppvekst")
        )
        assert oppvekst is not None
        session.add(Unit(code="OPP-02", name="Tom barnehage", department_id=oppvekst))
    day = timedelta(days=1)
    await add_reports(
        sessions,
        voss.school,
        NOW - 2 * day,  # recent
        NOW - 89 * day,  # recent
        NOW - 91 * day,  # this year, not recent
        NOW - 364 * day,  # this year
        NOW - 366 * day,  # too old
        NOW + day,  # after «now»: not yet
    )
    await add_reports(sessions, voss.home, NOW - 200 * day)
    await add_reports(sessions, None, NOW - day)  # no known unit: counts for nobody

    async with sessions() as session:
        figures = {f.name: f for f in await unit_figures(session, now=NOW)}
    school, home, empty = (
        figures["Vossevangen skule"],
        figures["Bu- og miljøteneste aust"],
        figures["Tom barnehage"],
    )
    assert (school.reports_12_months, school.reports_90_days) == (4, 2)
    assert (school.code, school.department, school.headcount) == ("OPP-01", "Oppvekst", 60)
    assert (home.reports_12_months, home.reports_90_days) == (1, 0)
    assert (home.department, home.headcount) == ("Helse og omsorg", 45)
    assert (empty.reports_12_months, empty.reports_90_days, empty.headcount) == (0, 0, None)
    assert len(figures) == 3

    # A year later, every one of those reports is too old.
    async with sessions() as session:
        later = await unit_figures(session, now=NOW + 400 * day)
    assert {(f.reports_12_months, f.reports_90_days) for f in later} == {(0, 0)}


async def test_the_leaders_of_units_with_where_to_write_to_them(sessions: SessionFactory) -> None:
    voss = await make_voss(sessions)
    async with sessions() as session, session.begin():
        await remember_conversation(
            session,
            ConversationAddress(
                "a:1liv-personal", "personal", "aad-liv", "msteams", "http://x/", "t", "28:bot"
            ),
        )
    async with sessions() as session:
        leaders = await leaders_of_units(session, [voss.school, voss.home, 99])
        assert await leaders_of_units(session, []) == {}
    school = leaders[voss.school]
    assert [r.aad_object_id for r in school] == ["aad-liv", "aad-lars"]  # leader, then deputy
    assert school[0].address is not None
    assert school[0].address.conversation_id == "a:1liv-personal"
    assert school[1].address is None  # Lars has not opened the bot
    assert [r.aad_object_id for r in leaders[voss.home]] == ["aad-siri"]
    assert leaders[99] == []


# ---- the adviser's card -------------------------------------------------------------------


def some_flagged() -> list[Flagged]:
    return find_under_reporting(
        [
            unit(60, 2, 0, name="Vossevangen skule"),
            unit(3, 1, 1, name="Liten skule"),  # p = 0.2: not flagged
            unit(None, 4, 0, name="Skulekontoret"),
            *peers(3, 20, 20),
        ]
    )


@pytest.mark.parametrize("language", ["nn", "nb", "en"])
def test_the_card_is_valid_adaptive_card_1_5(language: str) -> None:
    texts = CATALOGUES[language]
    for card in (under_reporting_card(texts, some_flagged()), under_reporting_card(texts, [])):
        assert card["version"] == "1.5"
        assert card_errors(card) == []


def test_the_card_shows_the_numbers_and_the_rule() -> None:
    flagged = some_flagged()
    assert [f.unit.name for f in flagged] == ["Vossevangen skule", "Skulekontoret"]
    shown = json.dumps(under_reporting_card(NN, flagged), ensure_ascii=False)
    assert NN("under_reporting.title", count=2) in shown
    assert NN("under_reporting.reason_far_below") in shown
    assert NN("under_reporting.reason_none_in_90_days") in shown
    assert NN("under_reporting.per_ten", count="2", rate="0,3") in shown  # decimal comma
    assert "median 10,0 per 10 tilsette i 4 andre einingar" in shown
    assert NN("under_reporting.p_tiny") in shown  # p about 1e-23
    assert NN("under_reporting.not_compared") in shown  # no headcount
    assert NN("under_reporting.headcount_unknown") in shown
    assert NN("under_reporting.rule") in shown
    english = json.dumps(under_reporting_card(EN, flagged), ensure_ascii=False)
    assert "2 (0.3 per 10 employees)" in english


def test_the_card_says_kindly_when_no_unit_stands_out() -> None:
    card = under_reporting_card(NN, [])
    shown = json.dumps(card, ensure_ascii=False)
    assert NN("under_reporting.none") in shown
    assert card["fallbackText"] == NN("under_reporting.title", count=0)


# ---- python -m bot under-reporting --------------------------------------------------------


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["under-reporting", *argv])


async def test_the_command_lists_the_flagged_units(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_async_db_engine(sqlite_url)
    sessions = session_factory(engine)
    voss = await make_voss(sessions)
    await add_reports(sessions, voss.home, utcnow() - timedelta(days=3))
    await engine.dispose()
    settings = Settings(dev_mode=True, database_url=sqlite_url)

    assert await asyncio.to_thread(run, settings, cli_args()) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 unit(s) may be under-reporting")
    assert "Vossevangen skule (OPP-01, Oppvekst): none in 90 days" in out
    assert "60 employees · 0 reports in 12 months · 0 in 90 days" in out
    assert "Bu- og miljøteneste" not in out

    assert await asyncio.to_thread(run, settings, cli_args("--json")) == 0
    document = json.loads(capsys.readouterr().out)
    [school] = document["units"]
    assert school["code"] == "OPP-01"
    assert school["reasons"] == ["none_in_90_days"]
    assert school["comparison"] is None  # the only unit of its department
    assert document["rule"]["significance"] == 0.05


def test_a_unit_only_the_history_knows_is_not_called_quiet() -> None:
    """A unit the history import made, which the organisation file does not list (no code, no
    headcount: a unit closed or renamed since), has reasons to be silent."""
    gone = replace(unit(None, 3, 0), code=None)
    still_there = unit(None, 3, 0)
    assert [f.unit for f in find_under_reporting([gone, still_there])] == [still_there]
