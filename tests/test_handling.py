"""A handling card's button, read and decided: bad input named, impossible moves refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.desks.handling import HandlingRequest, MeasureInput, Op, Refusal, next_status, read_request
from domain.vocabulary import Status

TODAY = date(2026, 11, 24)


def press(op: str, **inputs: Any) -> dict[str, Any]:
    return {"action": "avvik.handle", "op": op, "report": 7, "version": 3, **inputs}


def problems(value: Any) -> dict[str | None, str]:
    result = read_request(value, today=TODAY)
    assert isinstance(result, list), result
    return {p.field: p.problem.key for p in result}


def test_the_three_buttons_are_read() -> None:
    assert read_request(press("acknowledge"), today=TODAY) == HandlingRequest(Op.ACKNOWLEDGE, 7, 3)
    measure = press(
        "measure",
        measure_what=" Strø skuleplassen kvar morgon ",
        measure_owner="Vaktmeister",
        measure_due="2026-12-01",
    )
    assert read_request(measure, today=TODAY) == HandlingRequest(
        Op.MEASURE,
        7,
        3,
        measure=MeasureInput("Strø skuleplassen kvar morgon", "Vaktmeister", date(2026, 12, 1)),
    )
    close = press("close", close_note="Rutine for strøing er på plass, og brodder er kjøpte inn.")
    result = read_request(close, today=TODAY)
    assert isinstance(result, HandlingRequest)
    assert result.note == "Rutine for strøing er på plass, og brodder er kjøpte inn."


def test_a_deadline_of_today_is_fine() -> None:
    value = press(
        "measure", measure_what="Strø", measure_owner="Vaktmeister", measure_due="2026-11-24"
    )
    assert isinstance(read_request(value, today=TODAY), HandlingRequest)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"measure_due": "2026-11-23"}, {"measure_due": "due_past"}),
        ({"measure_due": "2031-01-01"}, {"measure_due": "due_far"}),
        ({"measure_due": "1.12.2026"}, {"measure_due": "when_unparsed"}),
        ({"measure_due": "2026-02-30"}, {"measure_due": "when_unparsed"}),
        ({"measure_due": ""}, {"measure_due": "empty"}),
        ({"measure_owner": ""}, {"measure_owner": "empty"}),
        ({"measure_owner": "   "}, {"measure_owner": "empty"}),
        ({"measure_owner": ["Liv"]}, {"measure_owner": "form_type"}),
        ({"measure_what": "x" * 2001}, {"measure_what": "too_long"}),
        (
            {"measure_what": "", "measure_owner": "", "measure_due": "2020-01-01"},
            {"measure_what": "empty", "measure_owner": "empty", "measure_due": "due_past"},
        ),
    ],
)
def test_a_bad_measure_is_refused_field_by_field(
    inputs: dict[str, Any], expected: dict[str, str]
) -> None:
    good = {"measure_what": "Strø", "measure_owner": "Vaktmeister", "measure_due": "2026-12-01"}
    assert problems(press("measure", **{**good, **inputs})) == expected


@pytest.mark.parametrize("note", [None, "", "   ", "Ok.", 42])
def test_closing_needs_a_note_for_the_reporter(note: Any) -> None:
    value = press("close") if note is None else press("close", close_note=note)
    assert list(problems(value)) == ["close_note"]


@pytest.mark.parametrize(
    "value",
    [
        press("reopen"),
        press("acknowledge", report="7"),
        press("acknowledge", report=-1),
        press("acknowledge", version=True),
        {"action": "avvik.handle", "op": "acknowledge"},
        "acknowledge",
        None,
    ],
)
def test_a_button_of_unknown_shape_is_refused_whole(value: Any) -> None:
    assert problems(value) == {None: "form_stale"}


def test_fields_no_card_has_are_refused() -> None:
    assert problems(press("acknowledge", status="closed")) == {None: "form_fields"}


@pytest.mark.parametrize(
    ("op", "current", "expected"),
    [
        (Op.ACKNOWLEDGE, Status.NEW, Status.ACKNOWLEDGED),
        (Op.ACKNOWLEDGE, Status.ACKNOWLEDGED, Refusal.ALREADY_ACKNOWLEDGED),
        (Op.ACKNOWLEDGE, Status.IN_PROGRESS, Refusal.ALREADY_ACKNOWLEDGED),
        (Op.MEASURE, Status.NEW, Status.IN_PROGRESS),
        (Op.MEASURE, Status.ACKNOWLEDGED, Status.IN_PROGRESS),
        (Op.MEASURE, Status.IN_PROGRESS, Status.IN_PROGRESS),
        (Op.CLOSE, Status.NEW, Status.CLOSED),
        (Op.CLOSE, Status.IN_PROGRESS, Status.CLOSED),
        (Op.ACKNOWLEDGE, Status.CLOSED, Refusal.CLOSED),
        (Op.MEASURE, Status.CLOSED, Refusal.CLOSED),
        (Op.CLOSE, Status.CLOSED, Refusal.CLOSED),
    ],
)
def test_the_lifecycle(op: Op, current: Status, expected: Status | Refusal) -> None:
    assert next_status(op, current) == expected
