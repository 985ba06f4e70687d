"""A submitted report card is checked like typed answers: every bad field named, nothing guessed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.desks.report_cards import problems_text
from bot.desks.report_form import FieldProblem, read_report_form
from dialogs.report_draft import ReportDraft
from domain.oslo_time import OSLO
from tests.categories import DEFAULT
from tests.chat import EN, NB, NN, NOW  # Tuesday 24 November 2026, 14:30 in Voss

CARD_ID = "5f0c2a9e7b1d4c3e8a6f9b2d1c0e7a4b"
CONVERSATION = "a:kari-personal"


def submitted(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "action": "avvik.report.submit",
        "card": CARD_ID,
        "conversation": CONVERSATION,
        "description": "  Tilsett skli på is ved inngangen og slo kneet.  ",
        "harm": "injury",
        "category": "fall_accident",
        "severity": "medium",
        "unit": "Vossevangen skule",
        "location": "Hovudinngangen",
        "date": "2026-11-24",
        "time": "07:45",
        "immediate_action": "Strødde sand.",
        "suggested_measure": "",
    }
    value.update(changes)
    return {k: v for k, v in value.items() if v is not DROP}


DROP = object()


def read(value: Any) -> ReportDraft | list[FieldProblem]:
    return read_report_form(value, conversation_id=CONVERSATION, now=NOW, categories=DEFAULT)


def problems(value: Any) -> dict[str | None, str]:
    result = read(value)
    assert isinstance(result, list), result
    return {p.field: p.problem.key for p in result}


def test_a_good_card_becomes_the_same_draft_a_dialog_would_make() -> None:
    draft = read(submitted())
    assert isinstance(draft, ReportDraft)
    assert draft.description == "Tilsett skli på is ved inngangen og slo kneet."
    assert (draft.harm, draft.category, draft.severity) == ("injury", "fall_accident", "medium")
    assert (draft.unit_id, draft.unit_name, draft.location) == (
        None,
        "Vossevangen skule",
        "Hovudinngangen",
    )
    assert draft.occurred == datetime(2026, 11, 24, 7, 45, tzinfo=OSLO)
    assert draft.occurred_time_known
    assert (draft.immediate_action, draft.suggested_measure) == ("Strødde sand.", "")
    assert draft.submission_key == CARD_ID


def test_the_anonymous_toggle_is_kept() -> None:
    assert not read(submitted()).anonymous  # type: ignore[union-attr]
    assert read(submitted(anonymous="true")).anonymous  # type: ignore[union-attr]


def test_without_a_time_the_date_alone_is_kept() -> None:
    draft = read(submitted(time=DROP))
    assert isinstance(draft, ReportDraft)
    assert draft.occurred.date().isoformat() == "2026-11-24"
    assert not draft.occurred_time_known


def test_every_missing_required_field_is_named() -> None:
    missing = {name: DROP for name in ("description", "harm", "category", "severity")}
    assert problems(submitted(**missing, unit="", location="   ", date=DROP)) == {
        "description": "empty",
        "harm": "form_choice",
        "category": "form_choice",
        "severity": "form_choice",
        "unit": "empty",
        "location": "empty",
        "when": "empty",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"description": "x" * 4001}, {"description": "too_long"}),
        ({"description": "Fall"}, {"description": "too_short"}),
        ({"location": "L" * 201}, {"location": "too_long"}),
        ({"immediate_action": "a" * 2001}, {"immediate_action": "too_long"}),
        ({"description": "Slo seg\x00 på is"}, {"description": "control_chars"}),
        ({"severity": "critical"}, {"severity": "form_choice"}),
        ({"category": "Fall"}, {"category": "form_choice"}),
        ({"harm": ["injury"]}, {"harm": "form_type"}),
        ({"description": 12345678901}, {"description": "form_type"}),
        ({"unit": {"id": 1}}, {"unit": "form_type"}),
        ({"date": "2026-11-25"}, {"when": "when_future"}),
        ({"time": "15:30"}, {"when": "when_future"}),
        ({"date": "1999-12-31"}, {"when": "when_too_old"}),
        ({"date": "i morgon"}, {"when": "when_unparsed"}),
        ({"date": 20261124}, {"when": "form_type"}),
        ({"anonymous": "yes"}, {"anonymous": "form_choice"}),
        ({"anonymous": True}, {"anonymous": "form_choice"}),
        ({"time": ["07", "45"]}, {"when": "form_type"}),
    ],
)
def test_a_bad_field_is_refused_with_its_reason(
    changes: dict[str, Any], expected: dict[str, str]
) -> None:
    assert problems(submitted(**changes)) == expected


def test_every_problem_can_be_told_in_every_language() -> None:
    """Each field and reason a card can be refused for has words in nn, nb and en."""
    value = submitted(description=[1], harm=7, unit="", location="x" * 300, date={"d": 1})
    result = read(value)
    assert isinstance(result, list)
    assert len(result) == 5
    for texts in (NN, NB, EN):
        told = problems_text(texts, result)
        assert told.startswith(texts("card.problems"))
        assert all(texts(f"field.{p.field}") in told for p in result)


def test_fields_the_card_never_had_are_refused_by_name() -> None:
    result = read(submitted(status="closed", reporter="aad-leiar"))
    assert isinstance(result, list)
    [problem] = result
    assert (problem.field, problem.problem.key) == (None, "form_fields")
    assert problem.problem.values == {"fields": "reporter, status"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (submitted(conversation="a:per-personal"), "form_foreign"),
        (submitted(conversation=DROP), "form_foreign"),
        (submitted(card=DROP), "form_stale"),
        (submitted(card="1' OR '1'='1"), "form_stale"),
        (submitted(card=CARD_ID.upper()), "form_stale"),
        ("avvik.report.submit", "form_stale"),
        (None, "form_stale"),
    ],
)
def test_a_card_from_elsewhere_or_of_unknown_shape_is_refused_whole(
    value: Any, expected: str
) -> None:
    assert problems(value) == {None: expected}
