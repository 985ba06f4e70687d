"""Checking and parsing what reporters type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.answers import Problem, When, WhenPhrases, clean_text, parse_when
from domain.commands import CommandParser, Intent
from domain.i18n import Catalogues
from domain.oslo_time import OSLO

# Tuesday 24 November 2026, 14:30 in Voss (13:30 UTC).
NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
PHRASES = WhenPhrases.of(
    now=["no nettopp", "nå nettopp", "just now"],
    today=["tidlegare i dag", "i dag", "earlier today"],
    yesterday=["i går", "yesterday"],
)


def when(text: str) -> When | Problem:
    return parse_when(text, now=NOW, phrases=PHRASES)


def oslo(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "empty"),
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("kort", "too_short"),
        ("x" * 4001, "too_long"),
        ("Glatt golv\x00 i gangen", "control_chars"),
        ("Glatt golv\x1b[31m i gangen", "control_chars"),
        ("😡😡😡😡😡😡😡😡😡😡😡", "no_words"),
        ("!!!!!!!!!!!!", "no_words"),
    ],
)
def test_bad_free_text_is_explained(raw: str | None, problem: str) -> None:
    result = clean_text(raw, min_length=10, max_length=4000)
    assert isinstance(result, Problem)
    assert result.key == problem


def test_good_free_text_is_trimmed_and_keeps_line_breaks() -> None:
    text = "  Bebuar sparka tilsett.\r\nTilsett fekk blåmerke.  "
    assert clean_text(text, min_length=10, max_length=4000) == (
        "Bebuar sparka tilsett.\nTilsett fekk blåmerke."
    )


def test_limits_count_characters_not_bytes() -> None:
    assert clean_text("æøå" * 1333 + "a", min_length=10, max_length=4000) == "æøå" * 1333 + "a"
    assert isinstance(clean_text("æ" * 4001, min_length=10, max_length=4000), Problem)


def test_too_long_says_how_long() -> None:
    result = clean_text("a" * 4005, min_length=10, max_length=4000)
    assert result == Problem("too_long", {"length": 4005, "max": 4000})


@pytest.mark.parametrize(
    ("raw", "at", "time_known"),
    [
        ("no nettopp", datetime(2026, 11, 24, 14, 30, tzinfo=OSLO), True),
        ("Nå nettopp", datetime(2026, 11, 24, 14, 30, tzinfo=OSLO), True),
        ("tidlegare i dag", oslo(2026, 11, 24), False),
        ("i dag 08:15", oslo(2026, 11, 24, 8, 15), True),
        ("I går", oslo(2026, 11, 23), False),
        ("i går kl. 22:00", oslo(2026, 11, 23, 22, 0), True),
        ("yesterday 7.45", oslo(2026, 11, 23, 7, 45), True),
        ("24.11.2026 14:30", oslo(2026, 11, 24, 14, 30), True),
        ("24.11.2026 kl. 9", oslo(2026, 11, 24, 9, 0), True),
        ("3.2.26 14.05", oslo(2026, 2, 3, 14, 5), True),
        ("1.11", oslo(2026, 11, 1), False),
        ("2025-09-14 06:00", oslo(2025, 9, 14, 6, 0), True),
        ("12:00", oslo(2026, 11, 24, 12, 0), True),
        ("kl 10", oslo(2026, 11, 24, 10, 0), True),
    ],
)
def test_when_is_understood(raw: str, at: datetime, time_known: bool) -> None:
    assert when(raw) == When(at, time_known)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("i morgon", "when_unparsed"),
        ("24.12.2026", "when_future"),
        ("i dag 23:00", "when_future"),
        ("31.12.1999 23:59", "when_too_old"),
        ("31.02.2026", "when_invalid"),
        ("24.11.2026 25:00", "when_invalid"),
        ("i går kl 12:61", "when_invalid"),
        ("14", "when_unparsed"),
        ("i går ved lunsj", "when_unparsed"),
    ],
)
def test_bad_when_is_explained(raw: str, problem: str) -> None:
    result = when(raw)
    assert isinstance(result, Problem)
    assert result.key == problem


def test_a_few_minutes_of_clock_skew_is_not_the_future() -> None:
    assert when("14:33") == When(oslo(2026, 11, 24, 14, 33), True)


@pytest.fixture(scope="module")
def parser() -> CommandParser:
    return CommandParser(Catalogues())


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("meld avvik", Intent.REPORT),
        ("  Meld avvik! ", Intent.REPORT),
        ("eg vil melde eit avvik", Intent.REPORT),
        ("report", Intent.REPORT),
        ("mine avvik", Intent.MINE),
        ("My reports", Intent.MINE),
        ("hjelp", Intent.HELP),
        ("avbryt", Intent.CANCEL),
        ("start på nytt", Intent.RESTART),
        ("hei", Intent.GREETING),
        ("kva er klokka", Intent.UNKNOWN),
        ("", Intent.UNKNOWN),
    ],
)
def test_commands(parser: CommandParser, text: str, intent: Intent) -> None:
    assert parser.parse(text).intent is intent


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("språk bokmål", "nb"),
        ("Språk: nynorsk", "nn"),
        ("language english", "en"),
        ("language en", "en"),
        ("språk klingon", None),
    ],
)
def test_language_command(parser: CommandParser, text: str, language: str | None) -> None:
    command = parser.parse(text)
    assert (command.intent, command.language) == (Intent.LANGUAGE, language)


def test_interruptions_are_exact_phrases(parser: CommandParser) -> None:
    assert parser.interruption("Avbryt") is Intent.CANCEL
    assert parser.interruption("hjelp") is Intent.HELP
    assert parser.interruption("Tilsett ropte på hjelp i gangen") is None
