"""The shared risk-assessment frame (issue 15, its second half; docs/risk.md): the frame file
checked all or nothing by line, a unit's answers checked as a leader would be told, versions
that ask again only about what changed (both databases), the leader's way through it in Teams
with every bad input answered, the adviser's overview with the matrix, the files for the HMS
binder, the link back from a «vald og truslar» report, and the command line."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import select

from bot.cards.risk import (
    RISK,
    AssessmentLinks,
    FrameOverview,
    assessment_card,
    factor_card,
    link_card,
    list_card,
    overview_card,
)
from bot.statistics.risk_files import risk_pdf, risk_xlsx
from domain.risk import (
    Answer,
    Decision,
    Factor,
    Level,
    Problem,
    changed_keys,
    check_answer,
    check_local,
    check_sign_off,
    level,
    read_frame,
)
from storage import risk
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.models import Person, Unit, UnitLeader
from storage.privacy import export_person, forget_person
from storage.types import utcnow
from tests.chat import CATALOGUES, NN
from tests.fake_connector import FakeConnector
from tests.test_card_report import words
from tests.test_cards import card_errors
from tests.test_http import ClientMaker
from tests.test_leader_handling import Voss, report_by_card, voss_in_teams
from tests.test_privacy import cli_env, run_cli  # noqa: F401 (cli_env is a fixture)
from tests.test_training import buttons, card_of, press
from tests.voss_org import make_voss

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

SAMPLE = Path(__file__).resolve().parents[1] / "docs" / "risk" / "vald-og-truslar-barnehage.yaml"
FACTORS = (
    Factor("v01", "Eit barn slår eller bit tilsette", 4, 2, "Faste vaksne", "Kartlegg"),
    Factor("v02", "Ein forelder truar tilsette ved henting", 3, 3, "Styrar tek samtalen", ""),
    Factor("v03", "Ein tilsett er åleine tidleg om morgonen", 3, 3, "", "Alarm"),
)
CSV_HEADER = "key;situation;probability;consequence;existing;suggested\n"


# ---- the rules ------------------------------------------------------------------------------


def test_risk_is_probability_times_consequence_on_the_usual_matrix() -> None:
    assert [level(1, 4), level(1, 5), level(3, 3), level(2, 5), level(5, 5)] == [
        Level.LOW,
        Level.MEDIUM,
        Level.MEDIUM,
        Level.HIGH,
        Level.HIGH,
    ]


def test_a_new_version_asks_again_about_new_and_changed_factors_only() -> None:
    now = (
        FACTORS[0],
        Factor("v02", "Ein forelder truar tilsette ved henting", 4, 3, "Styrar tek samtalen", ""),
        Factor("v04", "Trugsmål på sosiale medium", 2, 3),
    )
    assert changed_keys(FACTORS, now) == {"v02", "v04"}
    assert changed_keys((), FACTORS) == {"v01", "v02", "v03"}


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        ({"risk_decision": "keep"}, None),
        ({"risk_decision": "keep", "risk_probability": "4", "risk_consequence": "2"}, None),
        ({"risk_decision": "keep", "risk_probability": "2"}, [Problem.KEEP_CHANGED]),
        ({"risk_decision": "adjust", "risk_probability": "7", "risk_consequence": "2",
          "risk_reason": "Færre born"}, [Problem.PROBABILITY]),
        ({"risk_decision": "adjust", "risk_probability": "tre", "risk_consequence": "2.5",
          "risk_reason": "Færre born"}, [Problem.PROBABILITY, Problem.CONSEQUENCE]),
        ({"risk_decision": "adjust", "risk_probability": "2", "risk_consequence": "2"},
         [Problem.REASON]),
        ({"risk_decision": "adjust", "risk_probability": "4", "risk_consequence": "2",
          "risk_reason": "Same som før"}, [Problem.NOTHING_ADJUSTED]),
        ({"risk_decision": "adjust", "risk_probability": "4", "risk_consequence": "2",
          "risk_reason": "Same, men tiltak", "risk_measures": "To vaksne ute"}, None),
        ({"risk_decision": "not_relevant"}, [Problem.REASON]),
        ({"risk_decision": "not_relevant", "risk_reason": "Ingen born under tre år"}, None),
        ({"risk_decision": "local"}, [Problem.DECISION]),
        ({}, [Problem.DECISION]),
    ],
)  # fmt: skip
def test_an_answer_is_checked_as_a_leader_would_be_told(
    value: dict[str, Any], problems: list[Problem] | None
) -> None:
    checked = check_answer(FACTORS[0], value)
    if problems is None:
        assert isinstance(checked, Answer)
        assert checked.key == "v01"
    else:
        assert checked == problems


def test_a_local_factor_and_the_sign_off_need_their_parts() -> None:
    assert check_local("lokal-1", {"risk_situation": "Kort", "risk_probability": "0"}) == [
        Problem.SITUATION,
        Problem.PROBABILITY,
        Problem.CONSEQUENCE,
    ]
    local = check_local(
        "lokal-1",
        {"risk_situation": "Bading i elva på tur", "risk_probability": 2, "risk_consequence": 5},
    )
    assert local == Answer("lokal-1", Decision.LOCAL, 2, 5, "", situation="Bading i elva på tur")
    answers = {"v01": Answer("v01", Decision.KEEP)}
    assert check_sign_off(FACTORS, answers, " ") == [Problem.UNANSWERED, Problem.VERNEOMBOD]
    every = {f.key: Answer(f.key, Decision.KEEP) for f in FACTORS}
    assert check_sign_off(FACTORS, every, "  Vera   Verneombod ") == "Vera Verneombod"


# ---- the frame file ---------------------------------------------------------------------------


def test_the_sample_frame_reads_as_ten_factors() -> None:
    plan = read_frame(SAMPLE.read_bytes(), SAMPLE.name)
    assert not isinstance(plan, list)
    assert plan.title == "Vald og truslar i barnehagane"
    assert len(plan.factors) == 10
    assert len({f.key for f in plan.factors}) == 10


def test_a_frame_csv_with_mistakes_is_refused_by_line_and_column() -> None:
    text = (
        CSV_HEADER
        + "v01;Eit barn slår;4;2;;\n"
        + "v01;Ein forelder truar;3;3;;\n"  # the id again
        + "v03;;3;3;;\n"  # no situation
        + "v04;Åleine om morgonen;6;tre;;\n"  # outside 1–5, not a number
        + "v05;Eit barn slår;2;2;;\n"  # the same situation as line 2
    )
    problems = read_frame(text.encode(), "ramme.csv")
    assert isinstance(problems, list)
    assert [(p.line, p.column) for p in problems] == [
        (4, "situation"),
        (5, "probability"),
        (5, "consequence"),
        (3, "key"),
        (6, "situation"),
    ]
    assert "must be a whole number from 1 to 5, not '6'" in str(problems[1])
    missing = read_frame(b"key;situation;probability\nv01;Slag;3\n", "ramme.csv")
    assert isinstance(missing, list)
    assert "consequence: required column missing" in str(missing[0])


def test_a_frame_yaml_with_mistakes_is_refused_by_line() -> None:
    text = """title: Prøve
factors:
  - key: v01
    situation: Eit barn slår
    probability: 4
    consequence: 2
  - key: v01
    situation: Noko anna
    probability: 0
    consequence: 2
    farge: raud
"""
    problems = read_frame(text.encode(), "ramme.yaml")
    assert isinstance(problems, list)
    assert [(p.line, p.column) for p in problems] == [
        (7, "farge"),
        (7, "probability"),
        (7, "key"),
    ]
    broken = read_frame(b"factors: [\n  - key: v01\n", "ramme.yml")
    assert isinstance(broken, list)
    assert "not readable as YAML" in str(broken[0])


# ---- versions in the database (both) --------------------------------------------------------


async def _units(sessions: SessionFactory) -> tuple[int, int]:
    await make_voss(sessions)
    async with sessions() as session:
        units = {u.code: u.id for u in await session.scalars(select(Unit))}
    school, home = units["OPP-01"], units["HO-07"]
    assert school is not None
    assert home is not None
    return school, home


async def _school_assessment(sessions: SessionFactory) -> tuple[int, risk.AssessmentView]:
    """Voss, the frame published to the school alone, and the school's assessment of it."""
    school, _ = await _units(sessions)
    async with sessions() as session, session.begin():
        published = await risk.publish(
            session, title="Vald og truslar", factors=FACTORS, unit_ids=[school], now=utcnow()
        )
        [view] = await risk.assessments_of_frame(session, published.frame.id)
    return school, view


async def test_a_new_version_carries_unchanged_answers_and_asks_only_what_changed(
    sessions: SessionFactory,
) -> None:
    school, home = await _units(sessions)
    now = utcnow()
    async with sessions() as session, session.begin():
        first = await risk.publish(
            session, title="Vald og truslar", factors=FACTORS, unit_ids=[school, home], now=now
        )
    assert first.to_review == {school: 3, home: 3}
    async with sessions() as session, session.begin():
        [view] = [
            v
            for v in await risk.assessments_of_frame(session, first.frame.id)
            if v.unit_id == school
        ]
        for answer in (
            Answer("v01", Decision.KEEP),
            Answer("v02", Decision.ADJUST, 2, 3, "", "Færre konfliktar"),
            Answer("v03", Decision.NOT_RELEVANT, reason="Alltid to vaksne"),
            Answer("lokal-1", Decision.LOCAL, 2, 5, "Vest på", situation="Tur ved elva"),
        ):
            await risk.save_answer(session, assessment_id=view.id, answer=answer, by=None, now=now)
        assert await risk.sign(
            session, assessment_id=view.id, verneombod="Vera Verneombod", by=None, now=now
        )
        assert not await risk.sign(
            session, assessment_id=view.id, verneombod="Vera Verneombod", by=None, now=now
        )

    second_factors = (
        FACTORS[0],
        Factor("v02", "Ein forelder truar tilsette ved henting", 4, 3, "Styrar tek samtalen", ""),
        Factor("v04", "Trugsmål på sosiale medium", 2, 3),
    )
    async with sessions() as session, session.begin():
        second = await risk.publish(
            session, title="Vald og truslar", factors=second_factors, unit_ids=None, now=now
        )
    assert second.frame.version == 2
    assert second.to_review == {school: 2, home: 3}  # v02 changed, v04 new; home answered none
    assert second.carried == {school: 2, home: 0}  # v01 kept, and the local factor
    async with sessions() as session:
        views = {v.unit_id: v for v in await risk.current_for_units(session, [school, home])}
    again = views[school]
    assert again.frame.version == 2
    assert again.status == "in_progress"
    assert set(again.answers) == {"v01", "lokal-1"}
    assert all(a.carried for a in again.answers.values())
    assert [f.key for f in again.factors if f.key not in again.answers] == ["v02", "v04"]
    assert again.changed == {"v02", "v04"}
    assert views[home].status == "not_started"


async def test_a_signed_assessment_opened_again_is_a_new_revision_beside_it(
    sessions: SessionFactory,
) -> None:
    _, view = await _school_assessment(sessions)
    now = utcnow()
    async with sessions() as session, session.begin():
        for factor in FACTORS:
            answer = Answer(factor.key, Decision.KEEP)
            await risk.save_answer(session, assessment_id=view.id, answer=answer, by=None, now=now)
        await risk.sign(session, assessment_id=view.id, verneombod="Vera", by=None, now=now)
    async with sessions() as session, session.begin():
        signed = await risk.load(session, view.id)
        assert signed is not None
        opened = await risk.new_revision(session, view=signed, now=now)
        assert await risk.new_revision(session, view=signed, now=now) == opened  # twice: one
    async with sessions() as session:
        old, new = await risk.load(session, view.id), await risk.load(session, opened)
    assert old is not None
    assert new is not None
    assert (old.revision, old.status, old.current) == (1, "signed", False)
    assert (new.revision, new.status, new.current) == (2, "in_progress", True)
    assert new.answers.keys() == old.answers.keys()


# ---- in Teams -------------------------------------------------------------------------------


async def publish(
    url: str, factors: tuple[Factor, ...] = FACTORS, codes: tuple[str, ...] = ("OPP-01", "HO-07")
) -> int:
    engine = create_async_db_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            units = {u.code: u.id for u in await session.scalars(select(Unit))}
            published = await risk.publish(
                session,
                title="Vald og truslar",
                factors=factors,
                # No codes: the next version, to the units of the one before.
                unit_ids=[i for c, i in units.items() if c in codes and i is not None] or None,
                now=utcnow(),
            )
        return published.frame.id
    finally:
        await engine.dispose()


@pytest.fixture
async def voss(aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str) -> Voss:
    world = await voss_in_teams(
        aiohttp_client, connector, database_url, public_url="https://avvik.example"
    )
    await publish(database_url)
    return world


def _op(message: dict[str, Any], op: str) -> dict[str, Any]:
    """A button's data on the card; «show» (open the assessment) made from any of them."""
    found = buttons(message)
    if op == "show" and not any(b["op"] == op for b in found):
        return {"action": RISK, "op": "show", "assessment": found[0]["assessment"]}
    return next(b for b in found if b["op"] == op)


async def _assessment(voss: Voss, name: str = "liv") -> dict[str, Any]:
    [card] = await voss.user(name).send("risikovurdering")
    assert NN("risk.title", frame="Vald og truslar", unit="Vossevangen skule") in words(card)
    return card


async def test_liv_adapts_the_frame_and_signs_it_off_with_every_bad_input_answered(
    voss: Voss,
) -> None:
    card = await _assessment(voss)
    assert NN("risk.answered_line", answered=0, factors=3) in words(card)
    assert card_errors(card_of(card)) == []
    [first] = await press(voss, "liv", _op(card, "next"))
    assert "Eit barn slår eller bit tilsette" in words(first)
    assert card_errors(card_of(first)) == []
    save = _op(first, "answer")

    # Out of range, not a number, no reason, nothing adjusted: a friendly word, nothing saved.
    [told] = await press(
        voss,
        "liv",
        save,
        risk_decision="adjust",
        risk_probability="9",
        risk_consequence="x",
        risk_reason="Fordi",
    )
    assert words(told) == "\n\n".join(
        [NN("risk.problem_probability"), NN("risk.problem_consequence")]
    )
    [told] = await press(
        voss, "liv", save, risk_decision="adjust", risk_probability="2", risk_consequence="2"
    )
    assert words(told) == NN("risk.problem_reason")
    [told] = await press(
        voss, "liv", save, risk_decision="keep", risk_probability="2", risk_consequence="2"
    )
    assert words(told) == NN("risk.problem_keep_changed")

    # Signing off with factors untouched, or without a verneombod: told which.
    [told] = await press(voss, "liv", _op(card, "sign"), risk_verneombod="")
    assert NN(
        "risk.problem_unanswered", count=3, first="Eit barn slår eller bit tilsette"
    ) in words(told)
    assert NN("risk.problem_verneombod") in words(told)

    # Adjust one, keep one, mark one not relevant; each answer brings the next factor.
    saved, second = await press(
        voss,
        "liv",
        save,
        risk_decision="adjust",
        risk_probability="2",
        risk_consequence="2",
        risk_reason="Færre born med slik åtferd i år",
    )
    assert words(saved) == NN("risk.saved", situation="Eit barn slår eller bit tilsette")
    assert "Ein forelder truar tilsette ved henting" in words(second)
    _, third = await press(
        voss,
        "liv",
        _op(second, "answer"),
        risk_decision="keep",
        risk_probability="3",
        risk_consequence="3",
    )
    _, done = await press(
        voss,
        "liv",
        _op(third, "answer"),
        risk_decision="not_relevant",
        risk_reason="Alltid to vaksne frå opning",
    )
    assert NN("risk.all_answered") in words(done)

    # A local factor of their own; then signing off with the verneombod.
    [with_local] = await press(
        voss,
        "liv",
        _op(done, "local"),
        risk_situation="Tur ved Vosso",
        risk_probability="2",
        risk_consequence="5",
        risk_measures="Vest på",
    )
    assert NN("risk.local_added", situation="Tur ved Vosso") in words(with_local)
    [signed] = await press(voss, "liv", _op(with_local, "sign"), risk_verneombod="Vera Verneombod")
    assert NN("risk.signed_now") in words(signed)
    assert "Vera Verneombod" in words(signed)
    assert card_errors(card_of(signed)) == []
    assert {b["op"] for b in buttons(signed)} == {"revise"}

    # The signed one is not changed by an old card's buttons: a new revision is offered.
    [told] = await press(voss, "liv", save, risk_decision="keep")
    assert NN("risk.signed_already") in words(told)
    [revised] = await press(voss, "liv", _op(signed, "revise"))
    assert NN("risk.revised", revision=2, signed=1) in words(revised)
    assert NN("risk.answered_line", answered=3, factors=3) in words(revised)


async def test_only_the_units_own_leader_changes_it(voss: Voss) -> None:
    card = await _assessment(voss)
    # Siri leads the other unit: she may not even see Liv's; Vera (verneombod) may see, not change.
    [told] = await press(voss, "siri", _op(card, "show"))
    assert words(told) == NN("risk.unknown")
    [told] = await press(voss, "siri", _op(card, "next"))
    assert words(told) == NN("risk.unknown")
    [told] = await press(voss, "kari", _op(card, "sign"), risk_verneombod="Kari")
    assert words(told) == NN("risk.unknown")
    [mine] = await voss.user("siri").send("risikovurdering")
    assert "Bu- og miljøteneste aust" in words(mine)
    [told] = await voss.user("kari").send("risikovurdering")
    assert words(told) == NN("risk.not_allowed")
    # Vera, verneombod in Oppvekst, reads the school's; she changes nothing.
    [hers] = await voss.user("vera").send("risikovurdering")
    assert "Vossevangen skule" in words(hers)
    assert {b["op"] for b in buttons(hers)} <= {"show"}
    [told] = await voss.user("liv").send("risikovurdering oversikt")
    assert words(told) == NN("risk.overview_not_allowed")


async def test_the_adviser_sees_status_matrix_and_adjusted_factors_and_the_files_open(
    voss: Voss, tmp_path: Path
) -> None:
    card = await _assessment(voss)
    [first] = await press(voss, "liv", _op(card, "next"))
    await press(
        voss,
        "liv",
        _op(first, "answer"),
        risk_decision="not_relevant",
        risk_reason="Ingen born under tre år",
    )
    [overview] = await voss.user("hanne").send("risikovurdering")
    said = words(overview)
    assert NN("risk.overview_title") in said
    assert card_errors(card_of(overview)) == []
    facts = {
        f["title"]: f["value"]
        for block in card_of(overview)["body"]
        if block["type"] == "FactSet"
        for f in block["facts"]
    }
    assert facts == {
        NN("risk.status_signed"): NN("risk.of_units", count=0, units=2),
        NN("risk.status_in_progress"): NN("risk.of_units", count=1, units=2),
        NN("risk.status_not_started"): NN("risk.of_units", count=1, units=2),
    }
    assert (
        NN("risk.adjusted_line", situation=FACTORS[0].situation, adjusted=0, not_relevant=1) in said
    )
    # Two units' factors: five in all (Liv's first not relevant), two of them medium (3 × 3) each.
    assert NN("risk.level_counts", high=0, medium=5, low=0) in said
    [image] = [b for b in card_of(overview)["body"] if b["type"] == "Image"]
    png = await voss.client.get(urlsplit(image["url"]).path)
    assert png.status == 200
    assert Image.open(io.BytesIO(await png.read())).size == (640, 560)

    # The unit's own card has the PDF and the workbook for the binder; Siri's link is not hers.
    [shown] = await press(voss, "hanne", _op(card, "show"))
    urls = {
        a["title"]: a["url"] for a in card_of(shown)["actions"] if a["type"] == "Action.OpenUrl"
    }
    pdf = await voss.client.get(urlsplit(urls[NN("risk.pdf_draft")]).path)
    assert pdf.status == 200
    assert (await pdf.read()).startswith(b"%PDF")
    xlsx = await voss.client.get(urlsplit(urls[NN("risk.xlsx_draft")]).path)
    workbook = load_workbook(io.BytesIO(await xlsx.read()))
    rows = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert rows[1][0] == f"1. {FACTORS[0].situation}"
    assert rows[1][1:4] == ("–", "–", "–")  # not relevant: no rating stands
    assert rows[1][4] == NN("risk.decision_not_relevant")
    assert rows[1][6] == "Ingen born under tre år"


async def test_a_violence_report_is_tied_to_a_factor_that_the_overview_then_shows(
    voss: Voss,
) -> None:
    await report_by_card(voss)  # Kari: vald og truslar
    [message] = voss.inbox("liv")
    link = next(a for a in buttons(message) if a.get("action") == RISK)
    [form] = await press(voss, "liv", link)
    assert NN("risk.link_title", case="2026-0001") in words(form)
    assert card_errors(card_of(form)) == []
    [told] = await press(voss, "liv", _op(form, "link"), risk_factor="nope")
    assert words(told) == NN("risk.problem_factor")
    [told] = await press(voss, "siri", _op(form, "link"), risk_factor="v02")
    assert words(told) == NN("risk.unknown")
    [told] = await press(voss, "liv", _op(form, "link"), risk_factor="v02")
    assert words(told) == NN(
        "risk.linked", case="2026-0001", situation=FACTORS[1].situation, unit="Vossevangen skule"
    )
    card = await _assessment(voss)
    assert NN("risk.linked_reports", count=1) in words(card)
    [overview] = await voss.user("hanne").send("risikovurdering oversikt")
    assert NN("risk.linked_line", situation=FACTORS[1].situation, count=1) in words(overview)
    assert "risk_linked" in await voss.history()


@pytest.mark.parametrize("language", ["nn", "nb", "en"])
def test_every_risk_card_is_valid_adaptive_card_1_5(language: str) -> None:
    texts = CATALOGUES[language]
    answers = {
        "v01": Answer("v01", Decision.ADJUST, 2, 2, "To vaksne", "Færre born", carried=True),
        "v02": Answer("v02", Decision.NOT_RELEVANT, reason="Ikkje hos oss"),
        "lokal-1": Answer("lokal-1", Decision.LOCAL, 2, 5, "Vest", situation="Tur ved elva"),
    }
    frame = risk.FrameInfo(1, "Vald og truslar", 2, NOW)
    view = risk.AssessmentView(
        7,
        frame,
        1,
        "Vossevangen skule",
        "Oppvekst",
        1,
        "Vera",
        NOW,
        "Liv Leiar",
        FACTORS,
        answers,
        frozenset({"v02"}),
        current=True,
        linked={"v02": 2},
    )
    links = AssessmentLinks(
        "https://x.example/m.png", "https://x.example/a.pdf", "https://x.example/a.xlsx"
    )
    cards = {
        "signed, leader": assessment_card(texts, view, can_edit=True, links=links),
        "open, leader": assessment_card(
            texts,
            risk.AssessmentView(**{**view.__dict__, "signed_at": None}),
            can_edit=True,
            links=None,
            note="x",
        ),
        "factor": factor_card(texts, view, FACTORS[0]),
        "list": list_card(texts, [view, view]),
        "overview": overview_card(
            texts,
            [
                FrameOverview(
                    frame,
                    [view],
                    [(FACTORS[1], 0, 1)],
                    [("Slag", 2)],
                    "https://x.example/f.png",
                    {Level.HIGH: 1},
                )
            ],
        ),
        "none": overview_card(texts, []),
        "link": link_card(texts, view, report_id=3, case_number="2026-0003", chosen="v01"),
    }
    for name, card in cards.items():
        assert card_errors(card) == [], name


# ---- the command line ------------------------------------------------------------------------


@pytest.mark.usefixtures("cli_env")
async def test_the_command_publishes_versions_and_exports_a_units_assessment(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_async_db_engine(sqlite_url)
    await make_voss(session_factory(engine))
    await engine.dispose()
    bad = tmp_path / "ramme.csv"
    bad.write_text(CSV_HEADER + "v01;Slag;4;2;;\nv01;Spark;9;2;;\n", "utf-8")
    assert await run_cli("risk", "import", str(bad), "--title", "Prøve", "--unit", "OPP-01") == 2
    err = capsys.readouterr().err
    assert "Nothing imported: 2 problem(s)" in err
    assert "line 3, column probability" in err
    assert "line 3, column key: id v01 is already on line 2" in err

    assert await run_cli("risk", "import", str(SAMPLE)) == 2  # a new frame needs its units
    assert "--unit or --department" in capsys.readouterr().err
    assert await run_cli("risk", "import", str(SAMPLE), "--unit", "Ukjend") == 2
    assert (
        await run_cli("risk", "import", str(SAMPLE), "--department", "Oppvekst", "--dry-run") == 0
    )
    assert "dry run: nothing changed" in capsys.readouterr().out
    assert await run_cli("risk", "status") == 2
    assert await run_cli("risk", "import", str(SAMPLE), "--department", "Oppvekst") == 0
    assert "version 1: 10 factors to 1 unit(s)" in capsys.readouterr().out

    # The next version from the current one: written out, one factor changed, read back in.
    title = "Vald og truslar i barnehagane"
    edited = tmp_path / "ramme.yaml"
    assert await run_cli("risk", "frame", "--title", title, "--out", str(edited)) == 0
    edited.write_text(
        edited.read_text("utf-8").replace("probability: 4", "probability: 5", 1), "utf-8"
    )
    # Any case and spacing of the title: the same frame's next version.
    assert (
        await run_cli("risk", "import", str(edited), "--title", " vald og  truslar I barnehagane")
        == 0
    )
    out = capsys.readouterr().out
    assert "«Vald og truslar i barnehagane» version 2: 10 factors to 1 unit(s)" in out
    assert "1 factor(s) new or changed since version 1" in out
    assert "(0 answer(s) carried over)" in out
    capsys.readouterr()
    assert await run_cli("risk", "status") == 0
    assert "Vossevangen skule (Oppvekst): not_started, 0/10 answered" in capsys.readouterr().out

    pdf, xlsx = tmp_path / "binder.pdf", tmp_path / "binder.xlsx"
    # The binder holds what was signed: nothing is yet, unless the draft is asked for.
    assert await run_cli("risk", "export", "--unit", "OPP-01", "--out", str(pdf)) == 2
    assert "not signed yet; --draft" in capsys.readouterr().err
    assert await run_cli("risk", "export", "--unit", "OPP-01", "--out", str(pdf), "--draft") == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    english = ("--language", "en", "--draft")
    assert await run_cli("risk", "export", "--unit", "OPP-01", "--out", str(xlsx), *english) == 0
    sheet = load_workbook(xlsx).worksheets[1]
    assert next(sheet.iter_rows(values_only=True))[0] == "Situation"
    assert await run_cli("risk", "export", "--unit", "HO-07", "--out", str(pdf)) == 2
    assert "no risk assessment" in capsys.readouterr().err


async def test_forgetting_a_leader_keeps_the_units_assessment_without_them(
    sessions: SessionFactory,
) -> None:
    _, view = await _school_assessment(sessions)
    now = utcnow()
    async with sessions() as session, session.begin():
        liv = await session.scalar(select(Person.id).where(Person.aad_object_id == "aad-liv"))
        for factor in FACTORS:
            answer = Answer(factor.key, Decision.KEEP, reason="Liv Leiar meiner det")
            await risk.save_answer(session, assessment_id=view.id, answer=answer, by=liv, now=now)
        await risk.sign(session, assessment_id=view.id, verneombod="Liv Leiar", by=liv, now=now)
    async with sessions() as session:
        exported = await export_person(session, aad_object_id="aad-liv", now=now)
    assert exported is not None
    work = exported["risk_assessment_work"]
    assert [w["what"] for w in work] == ["answered"] * 3 + ["signed"]
    await forget_person(sessions, aad_object_id="aad-liv", now=now)
    async with sessions() as session:
        kept = await risk.load(session, view.id)
    assert kept is not None
    assert kept.status == "signed"
    assert "Liv" not in json.dumps(
        [kept.verneombod, kept.signed_by, [a.reason for a in kept.answers.values()]]
    )


# ---- after a second read ----------------------------------------------------------------------


def test_keeping_a_factor_once_adjusted_is_not_taken_for_a_change() -> None:
    # The card shows the unit's adjusted rating (2 × 2); «keep» sent with it is a keep.
    keep = {"risk_decision": "keep", "risk_probability": "2", "risk_consequence": "2"}
    assert check_answer(FACTORS[0], keep, shown=(2, 2)) == Answer("v01", Decision.KEEP)
    assert check_answer(FACTORS[0], keep, shown=None) == [Problem.KEEP_CHANGED]


def test_text_pasted_from_word_is_cleaned_not_stored_with_control_characters() -> None:
    value = {
        "risk_decision": "not_relevant",
        "risk_reason": "Første linje\x0bandre linje\x00 slutt\r\nsiste",
    }
    answer = check_answer(FACTORS[0], value)
    assert isinstance(answer, Answer)
    assert answer.reason == "Første linje\nandre linje slutt\nsiste"


def test_long_words_and_formulas_make_a_binder_not_an_error() -> None:
    texts = CATALOGUES["nn"]
    long = " ".join(["Vaksne går to og to ut i storefri og har telefon."] * 40)[:2000]
    lines = "Sjå under." + "\n" * 40 + "Ferdig."  # short, but taller than a page
    answers = {
        "v01": Answer("v01", Decision.ADJUST, 2, 2, long, long),
        "v02": Answer("v02", Decision.NOT_RELEVANT, reason='=HYPERLINK("http://x","klikk")'),
        "v03": Answer("v03", Decision.NOT_RELEVANT, reason=lines),
    }
    view = risk.AssessmentView(
        7, risk.FrameInfo(1, "Vald og truslar", 1, NOW), 1, "Vossevangen skule", "Oppvekst", 1,
        None, None, None, FACTORS, answers, frozenset(), current=True,
    )  # fmt: skip
    pdf = risk_pdf(view, texts)
    assert pdf.startswith(b"%PDF")
    sheet = load_workbook(io.BytesIO(risk_xlsx(view, texts))).worksheets[1]
    cell = sheet["G3"]  # v02's reason
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x","klikk")', "s")
    assert sheet["G2"].value == long  # the whole text, not cut
    assert sheet["F2"].value.endswith(long)


async def test_two_leaders_at_once_add_two_local_factors_and_a_signed_one_takes_no_answer(
    sessions: SessionFactory,
) -> None:
    _, view = await _school_assessment(sessions)
    now = utcnow()
    local = Answer("", Decision.LOCAL, 2, 3, situation="Tur ved elva")

    async def add() -> str | None:
        async with sessions() as session, session.begin():
            return await risk.add_local(
                session, assessment_id=view.id, answer=local, by=None, now=now
            )

    added = await asyncio.gather(*(add() for _ in range(4)))
    assert sorted(filter(None, added)) == ["lokal-1", "lokal-2", "lokal-3", "lokal-4"]
    async with sessions() as session, session.begin():
        await risk.sign(session, assessment_id=view.id, verneombod="Vera", by=None, now=now)
    async with sessions() as session, session.begin():
        late = Answer("v01", Decision.KEEP)
        assert not await risk.save_answer(
            session, assessment_id=view.id, answer=late, by=None, now=now
        )
        assert (
            await risk.add_local(session, assessment_id=view.id, answer=local, by=None, now=now)
            is None
        )
    async with sessions() as session:
        kept = await risk.load(session, view.id)
    assert kept is not None
    assert "v01" not in kept.answers


async def test_an_adviser_who_leads_a_unit_and_a_forged_id_are_answered(
    voss: Voss, database_url: str
) -> None:
    engine = create_async_db_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        hanne = await session.scalar(select(Person.id).where(Person.aad_object_id == "aad-hanne"))
        home = await session.scalar(select(Unit.id).where(Unit.code == "HO-07"))
        assert hanne is not None
        assert home is not None
        session.add(UnitLeader(unit_id=home, person_id=hanne))
    await engine.dispose()
    [mine] = await voss.user("hanne").send("risikovurdering")
    assert NN("risk.title", frame="Vald og truslar", unit="Bu- og miljøteneste aust") in words(mine)
    [told] = await press(voss, "hanne", {"action": RISK, "op": "show", "assessment": 2**40})
    assert words(told) == NN("risk.unknown")


async def test_ties_to_factors_stay_through_a_new_version_and_local_ones_are_the_units(
    voss: Voss,
) -> None:
    await report_by_card(voss)  # Kari: vald og truslar, Vossevangen skule
    voss.inbox("liv")
    card = await _assessment(voss)
    await press(voss, "liv", _op(card, "local"), risk_situation="Tur ved Vosso",
                               risk_probability="2", risk_consequence="5")  # fmt: skip
    [form] = await press(voss, "liv", {"action": RISK, "op": "link_form", "report": 1})
    [told] = await press(voss, "liv", _op(form, "link"), risk_factor="lokal-1")
    assert "Tur ved Vosso" in words(told)
    await publish(voss.url, codes=())  # version 2, to the same units
    card = await _assessment(voss)
    assert NN("risk.changed") not in words(card)  # nothing changed
    assert NN("risk.linked_reports", count=1) in words(card)  # the tie survives the version
    [overview] = await voss.user("hanne").send("risikovurdering oversikt")
    assert NN("risk.linked_line", situation="Tur ved Vosso (Vossevangen skule)", count=1) in words(
        overview
    )
    # A form from before the new version ties to the current one, or says so.
    [told, again] = await press(voss, "liv", _op(form, "link"), risk_factor="v01")
    assert words(told) == NN("risk.not_current")
    assert NN("risk.link_title", case="2026-0001") in words(again)


async def test_a_local_factor_is_removed_unless_a_report_is_tied_to_it(voss: Voss) -> None:
    card = await _assessment(voss)
    for situation in ("Tur ved Vosso", "Tur i skogen"):
        [card] = await press(voss, "liv", _op(card, "local"), risk_situation=situation,
                             risk_probability="2", risk_consequence="4")  # fmt: skip
    assert card_errors(card_of(card)) == []
    removes = [b for b in buttons(card) if b["op"] == "remove_local"]
    assert [b["key"] for b in removes] == ["lokal-1", "lokal-2"]
    # Siri, another unit's leader, cannot; Liv can.
    [told] = await press(voss, "siri", removes[0])
    assert words(told) == NN("risk.unknown")
    [card] = await press(voss, "liv", removes[0])
    assert NN("risk.removed", situation="Tur ved Vosso") in words(card)
    assert (
        "Tur ved Vosso" not in words(card).split(NN("risk.removed", situation="Tur ved Vosso"))[1]
    )
    [told, _] = await press(voss, "liv", removes[0])  # again: it is gone
    assert words(told) == NN("risk.unknown_factor")
    # One a report is tied to stays.
    await report_by_card(voss)
    voss.inbox("liv")
    [form] = await press(voss, "liv", {"action": RISK, "op": "link_form", "report": 1})
    await press(voss, "liv", _op(form, "link"), risk_factor="lokal-2")
    [told] = await press(voss, "liv", removes[1])
    assert words(told) == NN("risk.remove_tied", situation="Tur i skogen")
