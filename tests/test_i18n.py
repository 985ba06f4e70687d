"""The three catalogues stay in step, and the language follows the user."""

from __future__ import annotations

import string

import pytest

from domain.i18n import (
    LANGUAGES,
    Catalogues,
    language_from_locale,
    load_catalogue,
    resolve_language,
)


def _placeholders(value: object) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {name for _, name, _, _ in string.Formatter().parse(value) if name}


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    nn = load_catalogue("nn")
    for language in LANGUAGES:
        other = load_catalogue(language)
        assert set(other) == set(nn), f"{language}: keys differ from nn"
        for key, value in nn.items():
            assert _placeholders(other[key]) == _placeholders(value), f"{language}:{key}"
            assert type(other[key]) is type(value), f"{language}:{key}"


def test_no_text_is_left_empty() -> None:
    for texts in Catalogues().all():
        for key, value in texts.messages.items():
            assert value, f"{texts.language}:{key} is empty"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nn-NO", "nn"),
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("de-DE", None),
        (None, None),
        ("", None),
    ],
)
def test_teams_locale_maps_to_our_languages(locale: str | None, expected: str | None) -> None:
    assert language_from_locale(locale) == expected


def test_own_choice_beats_teams_locale_which_beats_default() -> None:
    assert resolve_language(chosen="en", teams_locale="nb-NO", default="nn") == "en"
    assert resolve_language(chosen=None, teams_locale="nb-NO", default="nn") == "nb"
    assert resolve_language(chosen=None, teams_locale="de-DE", default="nn") == "nn"
    assert resolve_language(chosen="xx", teams_locale=None, default="nn") == "nn"


def test_nynorsk_is_nynorsk() -> None:
    nn = Catalogues()["nn"]
    assert nn("report.receipt", case="2026-0001").startswith("Takk! Avviket er registrert")
    assert "saksnummer **2026-0001**" in nn("report.receipt", case="2026-0001")
    assert nn("severity.high") == "Høg"
