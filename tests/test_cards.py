"""Every Adaptive Card the bot sends is valid Adaptive Card 1.5, in every language."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.cards.handling import handling_card
from bot.cards.my_reports import my_reports_card
from bot.cards.open_reports import open_reports_card
from bot.cards.receipt import receipt_card, sent_form_card
from bot.cards.reminders import digest_card, overdue_card
from bot.cards.report_form import report_form_card
from bot.desks.report_form import CONTROLS, INPUTS, TOGGLES, read_report_form
from dialogs.report_draft import ReportDraft
from domain.duties import Answer, Duty, DutyAnswer
from domain.i18n import Texts
from domain.vocabulary import Harm, Severity, Status
from storage.handling import HandlingView, MeasureLine, OpenLine
from storage.reminders import LateMeasure, LateReport, Overdue
from storage.reports import ReportLine
from tests.categories import CAUSES, DEFAULT, category
from tests.chat import CATALOGUES, NN, NOW

SCHEMA = (
    Path(__file__).resolve().parents[2] / "shared" / "schemas" / "adaptive-card-1.5.schema.json"
)
CARD_ID = "0123456789abcdef0123456789abcdef"
LANGUAGES = ["nn", "nb", "en"]
TODAY = date(2026, 11, 24)


def card_errors(card: Any) -> list[str]:
    """What the Adaptive Card 1.5 schema says is wrong, and what it cannot say: an input id
    used twice (a client may then send one form's value for another's)."""
    validator = jsonschema.Draft6Validator(json.loads(SCHEMA.read_text("utf-8")))
    found = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(card)]
    ids = _input_ids(card)
    found += [
        f"input id {i!r} is used {ids.count(i)} times" for i in sorted(set(ids)) if ids.count(i) > 1
    ]
    return found


def _input_ids(element: Any) -> list[str]:
    if isinstance(element, list):
        return [i for item in element for i in _input_ids(item)]
    if not isinstance(element, dict):
        return []
    is_input = str(element.get("type", "")).startswith("Input.") and "id" in element
    own = [str(element["id"])] if is_input else []
    return own + [i for value in element.values() for i in _input_ids(value)]


def form(texts: Texts, own_unit: str | None = "Vossevangen skule") -> dict[str, Any]:
    return report_form_card(
        texts,
        card_id=CARD_ID,
        conversation_id="a:kari",
        now=NOW,
        own_unit=own_unit,
        categories=DEFAULT,
    )


def a_draft() -> ReportDraft:
    draft = ReportDraft(submission_key=CARD_ID)
    for name, value in {
        "description": "Elev slo tilsett i andletet i friminuttet.",
        "harm": "injury",
        "category": "violence_threats",
        "severity": "medium",
        "unit": {"id": None, "name": "Vossevangen skule"},
        "location": "Skuleplassen",
        "when": {"at": "2026-11-24T12:10:00+01:00", "time_known": True},
        "immediate_action": "",
        "suggested_measure": "",
    }.items():
        draft.record(name, value)
    return draft


def lines() -> list[ReportLine]:
    return [
        ReportLine("2026-0002", NOW, "violence_threats", "high", "new"),
        ReportLine("2026-0001", datetime(2026, 1, 3, 9, tzinfo=UTC), "fall_accident", "low", "new"),
    ]


def a_view(status: Status = Status.NEW, **changes: Any) -> HandlingView:
    view = HandlingView(
        id=7,
        case_number="2026-0007",
        version=2,
        status=status,
        reporter_id=10,
        reporter_name="Kari Nordmann",
        anonymous=False,
        unit_id=1,
        unit_name="Vossevangen skule",
        unit_text=None,
        location="Skuleplassen",
        occurred_at=NOW,
        occurred_time_known=True,
        reported_at=NOW,
        description="Elev slo tilsett i andletet i friminuttet.",
        harm="injury",
        category="violence_threats",
        severity="high",
        immediate_action="Kollega tok over.",
        suggested_measure=None,
        measures=(MeasureLine("Gå gjennom skjermingsplanen", "Liv", date(2026, 12, 1), False),),
        closing_note="Planen er gjennomgått." if status is Status.CLOSED else None,
    )
    return replace(view, **changes)


def inputs(card: Any) -> list[dict[str, Any]]:
    return [e for e in card["body"] if str(e["type"]).startswith("Input.")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_card_is_valid_adaptive_card_1_5(language: str) -> None:
    texts = CATALOGUES[language]
    cards = {
        "form": form(texts),
        "form without a known unit": form(texts, own_unit=None),
        "receipt": receipt_card(
            texts, case_number="2026-0001", draft=a_draft(), categories=DEFAULT
        ),
        "form once sent": sent_form_card(texts, case_number="2026-0001", draft=a_draft()),
        "mine avvik": my_reports_card(texts, lines(), DEFAULT),
        "mine avvik, none yet": my_reports_card(texts, [], DEFAULT),
        "handling, new": handling_card(
            texts, a_view(), DEFAULT, show_reporter=True, can_handle=True, today=TODAY
        ),
        "handling, in progress": handling_card(
            texts,
            a_view(Status.IN_PROGRESS),
            DEFAULT,
            show_reporter=False,
            can_handle=True,
            today=TODAY,
        ),
        "handling, read-only": handling_card(
            texts, a_view(), DEFAULT, show_reporter=False, can_handle=False, today=TODAY
        ),
        "handling, closed, no unit": handling_card(
            texts,
            a_view(Status.CLOSED, unit_name=None, unit_text="Ukjend", measures=()),
            DEFAULT,
            show_reporter=True,
            can_handle=True,
            today=TODAY,
        ),
        "opne avvik": open_reports_card(
            texts,
            [
                OpenLine(
                    7, "2026-0007", NOW, "Vossevangen skule", "fall_accident", "low", Status.NEW
                )
            ],
            DEFAULT,
        ),
        "opne avvik, none": open_reports_card(texts, [], DEFAULT),
        "handling, judged, with a cause and duties answered": handling_card(
            texts,
            a_view(
                Status.IN_PROGRESS,
                severity="medium",
                reported_severity="high",
                category="fall_accident",
                reported_category="violence_threats",
                cause="equipment",
                cause_text="Brodda var borte.",
                duty_answers=(
                    DutyAnswer(Duty.NAV_INJURY, Answer.DONE),
                    DutyAnswer(Duty.DEBRIEF, Answer.LATER, TODAY + timedelta(days=3)),
                ),
            ),
            DEFAULT,
            show_reporter=True,
            can_handle=True,
            today=TODAY,
            causes=CAUSES,
        ),
        "handling, snoozed": handling_card(
            texts,
            a_view(snoozed_until=TODAY + timedelta(days=5)),
            DEFAULT,
            show_reporter=True,
            can_handle=True,
            today=TODAY,
        ),
        "weekly digest": digest_card(
            texts,
            [
                OpenLine(n, f"2026-000{n}", NOW, "Vossevangen skule", "fall_accident", "low", s)
                for n, s in enumerate(Status, start=1)
                if s is not Status.CLOSED
            ],
        ),
        "forfalne": overdue_card(
            texts,
            Overdue(
                [LateReport(7, "2026-0007", "Vossevangen skule", NOW)] * 17,
                [LateMeasure(7, "2026-0007", None, "Strø skuleplassen", date(2026, 11, 1))],
            ),
            acknowledge_days=2,
        ),
        "forfalne, none": overdue_card(texts, Overdue([], []), acknowledge_days=2),
    }
    for name, card in cards.items():
        assert card["version"] == "1.5", name
        assert card_errors(card) == [], name


def test_the_schema_check_catches_a_broken_card() -> None:
    broken = form(NN)
    broken["body"].append({"type": "Input.Text", "isRequired": "yes"})
    assert card_errors(broken)
    twice = form(NN)
    twice["body"].append({"type": "Input.Text", "id": "description"})
    assert card_errors(twice) == ["input id 'description' is used 2 times"]


def test_the_form_asks_what_the_dialog_asks() -> None:
    card = form(NN)
    assert [e["id"] for e in inputs(card)] == [*INPUTS, *TOGGLES]
    choices = {e["id"]: [c["value"] for c in e["choices"]] for e in inputs(card) if "choices" in e}
    assert choices == {
        "harm": [h.value for h in Harm],
        "category": [c.code for c in DEFAULT],
        "severity": [s.value for s in Severity],
    }
    required = {e["id"] for e in inputs(card) if e.get("isRequired")}
    assert required == {"description", "harm", "category", "severity", "unit", "location", "date"}
    # Every required input tells the user what is missing, in their words.
    assert all(e.get("errorMessage") for e in inputs(card) if e.get("isRequired"))
    [submit] = card["actions"]
    assert set(submit["data"]) == set(CONTROLS)
    # The date cannot be set after today, and the unit starts as the reporter's own.
    date = next(e for e in inputs(card) if e["id"] == "date")
    assert date["value"] == date["max"] == "2026-11-24"
    assert next(e for e in inputs(card) if e["id"] == "unit")["value"] == "Vossevangen skule"


def test_a_form_filled_in_as_teams_sends_it_is_accepted() -> None:
    """What Teams posts for the form: the submit data merged with every input by its id."""
    card = form(NN)
    value = {
        **card["actions"][0]["data"],
        "description": "Bebuar slo etter tilsett under stell.",
        "harm": "near_miss",
        "category": "violence_threats",
        "severity": "low",
        "unit": "Vossevangen skule",
        "location": "Gangen",
        "date": "2026-11-24",
        "time": "",
        "immediate_action": "",
        "suggested_measure": "",
    }
    draft = read_report_form(value, conversation_id="a:kari", now=NOW, categories=DEFAULT)
    assert isinstance(draft, ReportDraft)
    assert draft.submission_key == CARD_ID


def test_mine_avvik_lists_every_report_with_status() -> None:
    text = json.dumps(my_reports_card(NN, lines(), DEFAULT), ensure_ascii=False)
    for expected in ("2026-0002", "2026-0001", "24.11.2026", "03.01.2026", NN("status.new")):
        assert expected in text
    assert category("fall_accident").label("nn") in text
    assert NN("severity.high") in text
    assert NN("mine.none") in json.dumps(my_reports_card(NN, [], DEFAULT), ensure_ascii=False)


def test_the_handling_card_offers_what_the_state_allows() -> None:
    def ops(card: Any) -> list[str]:
        found = []
        for action in card.get("actions", []):
            inner = action.get("card", {}).get("actions", [action])
            found += [a["data"]["op"] for a in inner if a["type"] == "Action.Submit"]
        return found

    new = handling_card(NN, a_view(), DEFAULT, show_reporter=True, can_handle=True, today=TODAY)
    # At most six buttons, as Teams shows them; the duties are answered in the card's body.
    assert ops(new) == ["acknowledge", "measure", "judge", "cause", "snooze", "close"]
    going = handling_card(
        NN, a_view(Status.ACKNOWLEDGED), DEFAULT, show_reporter=True, can_handle=True, today=TODAY
    )
    assert ops(going) == ["start", "measure", "judge", "cause", "snooze", "close"]
    working = handling_card(
        NN, a_view(Status.IN_PROGRESS), DEFAULT, show_reporter=True, can_handle=True, today=TODAY
    )
    assert ops(working) == ["measure", "judge", "cause", "snooze", "close"]
    assert "actions" not in handling_card(
        NN, a_view(), DEFAULT, show_reporter=True, can_handle=False, today=TODAY
    )
    closed = handling_card(
        NN, a_view(Status.CLOSED), DEFAULT, show_reporter=True, can_handle=True, today=TODAY
    )
    assert "actions" not in closed
    # Every button carries the version the card was drawn at.
    versions = {a["data"]["version"] for a in new["actions"] if a["type"] == "Action.Submit"}
    assert versions == {2}


def test_the_handling_card_names_the_reporter_only_when_allowed() -> None:
    named = json.dumps(
        handling_card(NN, a_view(), DEFAULT, show_reporter=True, can_handle=True, today=TODAY),
        ensure_ascii=False,
    )
    hidden = json.dumps(
        handling_card(NN, a_view(), DEFAULT, show_reporter=False, can_handle=True, today=TODAY),
        ensure_ascii=False,
    )
    assert "Kari Nordmann" in named
    assert "Kari Nordmann" not in hidden
    assert NN("handling.anonymous") in hidden
    # High severity with injury: the duty to notify is on the card, with its rule.
    assert NN("duty.notify_authorities") in named
    assert "https://lovdata.no/lov/2005-06-17-62/§5-2" in named
