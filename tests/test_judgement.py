"""The leader's judgement over HTTP: «under handsaming», severity and category changed with a
reason (the reporter's first choice kept), the cause required before closing, and the legal
duties a report sets off answered on the card (issue 14)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import col, select

from storage.db import create_async_db_engine, session_factory
from storage.models import ReportCount, ReportDuty, ReportEvent
from tests.chat import NN
from tests.fake_connector import FakeConnector
from tests.test_http import ClientMaker
from tests.test_leader_handling import Voss, actions, press, report_by_card, voss_in_teams

REASON = "Ingen vart skadde, og steinen trefte ikkje."
NOTE = "Vi har gått gjennom tilsynet i friminutta med alle tilsette."


@pytest.fixture
async def voss(aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str) -> Voss:
    return await voss_in_teams(aiohttp_client, connector, database_url)


def problem_line(field: str, problem: str, **values: Any) -> str:
    return NN("card.problem_line", field=NN(f"field.{field}"), problem=NN(problem, **values))


async def events(voss: Voss) -> list[tuple[str, dict[str, Any]]]:
    engine = create_async_db_engine(voss.url)
    async with session_factory(engine)() as session:
        rows = await session.scalars(select(ReportEvent).order_by(col(ReportEvent.id)))
        found = [(e.kind, json.loads(e.detail) if e.detail else {}) for e in rows]
    await engine.dispose()
    return [(kind, detail) for kind, detail in found if kind != "read"]


async def counted(voss: Voss) -> dict[tuple[str, str], int]:
    engine = create_async_db_engine(voss.url)
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(ReportCount.severity, ReportCount.category, ReportCount.n).where(
                col(ReportCount.n) > 0
            )
        )
        found = {(severity, category): n for severity, category, n in rows}
    await engine.dispose()
    return found


async def test_a_leader_takes_it_in_judges_it_finds_the_cause_and_closes(voss: Voss) -> None:
    await report_by_card(voss)  # Kari: vald og truslar, middels, a near miss
    [to_liv] = voss.inbox("liv")
    liv, card_id = voss.user("liv"), to_liv["id"]

    await press(liv, card_id, actions(to_liv["attachments"][0]["content"])["acknowledge"])
    card = voss.latest_card("liv")
    assert await press(liv, card_id, actions(card)["start"]) == [NN("handling.started")]
    card = voss.latest_card("liv")
    assert NN("handling.status_line", status=NN("status.in_progress")) in json.dumps(
        card, ensure_ascii=False
    )
    assert "start" not in actions(card)  # under handsaming already

    # A judgement needs a reason, and must change something.
    judge = actions(card)["judge"]
    unchanged = {"judge_severity": "medium", "judge_category": "violence_threats"}
    assert await press(liv, card_id, judge, **unchanged, judge_reason=REASON) == [
        NN("problem.judge_unchanged")
    ]
    lowered = {"judge_severity": "low", "judge_category": "violence_threats"}
    [answer] = await press(liv, card_id, judge, **lowered, judge_reason="")
    assert problem_line("judge_reason", "problem.empty") in answer
    assert await press(liv, card_id, judge, **lowered, judge_reason=REASON) == [
        NN("handling.judged")
    ]
    card = voss.latest_card("liv")
    shown = json.dumps(card, ensure_ascii=False)
    # Everyone's copy shows the leader's judgement with the reporter's first choice beside it.
    reported_as = NN("handling.reported_as", value=NN("severity.low"), first=NN("severity.medium"))
    assert reported_as in shown
    assert reported_as in json.dumps(voss.latest_card("lars"), ensure_ascii=False)
    # Statistics count the current value.
    assert await counted(voss) == {("low", "violence_threats"): 1}

    # Closing needs a cause: refused, and nothing changes.
    close = actions(card)["close"]
    [answer] = await press(liv, card_id, close, close_note=NOTE)
    assert problem_line("close_cause", "problem.cause_needed") in answer
    assert (await voss.reports())[0].status == "in_progress"
    assert await press(liv, card_id, close, close_cause="no_such_cause", close_note=NOTE) == [
        "\n\n".join([NN("card.problems"), problem_line("close_cause", "problem.form_choice")])
    ]

    words = "Tilsynet i friminuttet var for tynt denne dagen."
    assert await press(
        liv, card_id, actions(card)["cause"], cause="staffing", cause_text=words
    ) == [NN("handling.cause_set")]
    card = voss.latest_card("liv")
    assert f"Bemanning – {words}" in json.dumps(card, ensure_ascii=False)
    # The close form offers the recorded cause already chosen: closing needs no new choice.
    close = actions(card)["close"]
    assert await press(liv, card_id, close, close_note=NOTE) == [NN("handling.closed")]

    [report] = await voss.reports()
    assert (report.severity, report.reported_severity) == ("low", "medium")
    assert (report.category, report.reported_category) == ("violence_threats", None)
    assert (report.cause, report.cause_text) == ("staffing", words)
    assert report.acknowledged_at is not None
    assert report.closed_at is not None
    assert [kind for kind, _ in await events(voss)] == [
        "created",
        "acknowledged",
        "started",
        "judged",
        "cause_set",
        "closed",
    ]
    judged = dict(await events(voss))["judged"]
    assert judged == {
        "from": "in_progress",
        "to": "in_progress",
        "severity_from": "medium",
        "severity_to": "low",
        "why": REASON,
    }
    [outcome] = voss.inbox("kari")
    assert NOTE in outcome["text"]


async def test_a_judgement_on_a_new_report_acknowledges_it_and_a_category_must_be_offered(
    voss: Voss,
) -> None:
    await report_by_card(voss)
    [to_liv] = voss.inbox("liv")
    liv, card_id = voss.user("liv"), to_liv["id"]
    judge = actions(to_liv["attachments"][0]["content"])["judge"]
    [answer] = await press(
        liv,
        card_id,
        judge,
        judge_severity="medium",
        judge_category="no_such_category",
        judge_reason=REASON,
    )
    assert problem_line("judge_category", "problem.form_choice") in answer
    assert await press(
        liv,
        card_id,
        judge,
        judge_severity="medium",
        judge_category="fall_accident",
        judge_reason="Det var eit fall, ikkje vald.",
    ) == [NN("handling.judged")]
    [report] = await voss.reports()
    assert (report.status, report.category, report.reported_category) == (
        "acknowledged",
        "fall_accident",
        "violence_threats",
    )
    assert report.acknowledged_at is not None
    # Not vald og truslar any more: the kap. 23A follow-up is gone from the card.
    assert "duties" not in actions(voss.latest_card("liv"))
    assert await counted(voss) == {("medium", "fall_accident"): 1}


async def test_raising_an_injury_to_high_tells_the_adviser_and_verneombod_once(
    voss: Voss,
) -> None:
    await report_by_card(voss, harm="injury", category="fall_accident")
    [to_liv], [_] = voss.inbox("liv"), voss.inbox("lars")
    assert voss.inbox("hanne") == []
    assert voss.inbox("vera") == []
    liv, card_id = voss.user("liv"), to_liv["id"]
    judge = actions(to_liv["attachments"][0]["content"])["judge"]
    raised = {"judge_category": "fall_accident", "judge_reason": "Brot i handa: alvorleg."}
    assert await press(liv, card_id, judge, judge_severity="high", **raised) == [
        NN("handling.judged"),
        NN("handling.judged_serious"),
    ]
    [to_hanne], [to_vera] = voss.inbox("hanne"), voss.inbox("vera")
    assert to_vera["summary"] == NN("handling.new_serious", case="2026-0001")
    assert NN("duty.notify_authorities") in json.dumps(to_hanne, ensure_ascii=False)
    assert voss.inbox("lars") == []  # the deputy had the card: it was redrawn, not sent again
    # Down and up again: nobody is told twice.
    card = voss.latest_card("liv")
    await press(liv, card_id, actions(card)["judge"], judge_severity="medium", **raised)
    card = voss.latest_card("liv")
    await press(liv, card_id, actions(card)["judge"], judge_severity="high", **raised)
    assert voss.inbox("hanne") == []
    assert voss.inbox("vera") == []


async def test_the_legal_duties_are_answered_on_the_card(voss: Voss) -> None:
    await report_by_card(voss, harm="injury", severity="high")  # vald og truslar, høg, skade
    [to_liv], [_] = voss.inbox("liv"), voss.inbox("vera")  # Vera: verneombod, told of it
    liv, card_id = voss.user("liv"), to_liv["id"]
    shown = json.dumps(to_liv, ensure_ascii=False)
    for duty in ("notify_authorities", "nav_injury", "debrief", "police_report", "risk_review"):
        assert NN(f"duty.{duty}") in shown
    assert "https://lovdata.no/lov/1997-02-28-19/§13-14" in shown
    duties = actions(to_liv["attachments"][0]["content"])["duties"]

    # Nothing chosen; «later» without a day; a day in the past: each a friendly answer.
    assert await press(liv, card_id, duties) == [NN("problem.duty_none")]
    [answer] = await press(liv, card_id, duties, duty_debrief="later")
    assert problem_line("duty_later", "problem.empty") in answer
    [answer] = await press(liv, card_id, duties, duty_debrief="later", duty_later="2026-11-20")
    assert problem_line("duty_later", "problem.snooze_past") in answer
    # Someone who does not lead the unit cannot answer: refused, nothing changes.
    assert await press(voss.user("siri"), card_id, duties, duty_nav_injury="done") == [
        NN("handling.not_found")
    ]
    assert await press(voss.user("vera"), card_id, duties, duty_nav_injury="done") == [
        NN("handling.refused_not_allowed")
    ]

    answers = {
        "duty_notify_authorities": "done",
        "duty_nav_injury": "done",
        "duty_debrief": "later",
        "duty_police_report": "not_relevant",
        "duty_later": "2026-12-01",
    }
    assert await press(liv, card_id, duties, **answers) == [NN("handling.duties_answered")]
    card = voss.latest_card("liv")
    shown = json.dumps(card, ensure_ascii=False)
    assert NN("duty.later_until", date="01.12.2026") in shown
    assert NN("duty.answer_not_relevant") in shown
    # Still waiting: the risk assessment, and the debrief (later); the form asks only those.
    form = next(a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"])
    asked = [i["id"] for i in form["card"]["body"] if i["id"].startswith("duty_")]
    assert asked == ["duty_debrief", "duty_risk_review", "duty_later"]

    # The old card (drawn before the answers) is stale: refused, and the cards are redrawn.
    assert await press(liv, card_id, duties, duty_risk_review="done") == [
        NN("handling.refused_stale")
    ]
    engine = create_async_db_engine(voss.url)
    async with session_factory(engine)() as session:
        rows = await session.scalars(select(ReportDuty).order_by(col(ReportDuty.duty)))
        stored = {(r.duty, r.answer, str(r.later_until)) for r in rows}
    await engine.dispose()
    assert stored == {
        ("debrief", "later", "2026-12-01"),
        ("nav_injury", "done", "None"),
        ("notify_authorities", "done", "None"),
        ("police_report", "not_relevant", "None"),
    }
    [(_, detail)] = [e for e in await events(voss) if e[0] == "duties_answered"]
    assert detail["duties"]["debrief"] == "later"
    assert detail["until"] == "2026-12-01"
    [report] = await voss.reports()
    assert report.status == "acknowledged"  # answering shows it was taken in
