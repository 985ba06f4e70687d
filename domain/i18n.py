"""Message catalogues (nn, nb, en) and the choice of language for a user.

Catalogues are TOML files in `domain/locale/`; nested tables become dotted keys, values are
`str.format` templates. A test keeps the three files in step (same keys, same placeholders).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

LANGUAGES = ("nn", "nb", "en")
DEFAULT_LANGUAGE = "nn"


class UnknownLanguage(ValueError):
    pass


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{dotted}.")
        else:
            yield dotted, value


def load_catalogue(language: str) -> dict[str, Any]:
    if language not in LANGUAGES:
        raise UnknownLanguage(language)
    source = resources.files("domain").joinpath("locale", f"{language}.toml").read_text("utf-8")
    return dict(_flatten(tomllib.loads(source)))


@dataclass(frozen=True)
class Texts:
    """All the words the bot says in one language."""

    language: str
    messages: Mapping[str, Any]

    def __call__(self, key: str, **values: object) -> str:
        template = self.messages[key]
        if not isinstance(template, str):
            raise TypeError(f"{key} is a list in the catalogue; use .words()")
        return template.format(**values) if values else template

    def words(self, key: str) -> tuple[str, ...]:
        """A list entry of the catalogue, e.g. the phrases that start a report."""
        value = self.messages[key]
        return tuple(value) if isinstance(value, list) else (value,)


class Catalogues:
    """Every language, loaded once at start-up."""

    def __init__(self) -> None:
        self._texts = {lang: Texts(lang, load_catalogue(lang)) for lang in LANGUAGES}

    def __getitem__(self, language: str) -> Texts:
        return self._texts[language]

    def all(self) -> tuple[Texts, ...]:
        return tuple(self._texts.values())


def language_from_locale(locale: str | None) -> str | None:
    """Map a Teams locale (`nn-NO`, `nb-NO`, `no`, `en-GB` …) to one of ours."""
    if not locale:
        return None
    primary = locale.replace("_", "-").split("-")[0].lower()
    if primary in ("nn",):
        return "nn"
    if primary in ("nb", "no"):
        return "nb"
    if primary == "en":
        return "en"
    return None


def resolve_language(*, chosen: str | None, teams_locale: str | None, default: str) -> str:
    """The user's own choice wins, then the Teams client's locale, then the bot's default."""
    if chosen in LANGUAGES:
        return chosen
    return language_from_locale(teams_locale) or default
