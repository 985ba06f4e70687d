"""Training in the chat («opplæring»): short modules on what an HMS-avvik is, how to report,
how leaders handle it, and why it matters (docs/training.md).

A module is a Markdown file per language under `training/<language>/` beside this file,
editable without code: a front matter (id, order, title, language, minutes) and a `##` heading
per card. A card whose text has a line beginning `? ` is a check question: options as
`- [x]` (the right one, exactly one) and `- [ ]`, and the explanation after `> `, shown
whatever the answer (a wrong answer explains, never scolds). A card with the line `!practice`
is a practice report: a short form checked like a real report and never stored as one.
`check_modules` holds every language to the same modules with the same questions and answers;
CI runs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from domain.i18n import LANGUAGES

OPTIONS_MIN, OPTIONS_MAX = 2, 5
_FRONT = re.compile(r"^---\n(?P<front>.*?)\n---\n(?P<body>.*)$", re.DOTALL)
_OPTION = re.compile(r"^- \[(?P<mark>[ xX])\] (?P<text>.+)$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


class ModuleFileError(ValueError):
    """A module file that cannot be read; the message says where."""


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[str, ...]
    right: int  # index into options
    explanation: str


PRACTICE = "!practice"


@dataclass(frozen=True)
class Card:
    heading: str
    text: str  # Markdown, as Teams shows it; for a question, what comes before it
    question: Question | None = None
    practice: bool = False  # a practice report: checked like a real one, never stored


@dataclass(frozen=True)
class Module:
    id: str
    order: int
    title: str
    language: str
    minutes: int
    cards: tuple[Card, ...]

    @property
    def questions(self) -> int:
        return sum(1 for c in self.cards if c.question is not None)


def _front(text: str, where: str) -> tuple[dict[str, str], str]:
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if match is None:
        raise ModuleFileError(f"{where}: the file must start with --- and a front matter")
    front: dict[str, str] = {}
    for number, line in enumerate(match.group("front").splitlines(), start=2):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise ModuleFileError(f"{where}, line {number}: expected «name: value»")
        front[key.strip()] = value.strip().strip('"')
    return front, match.group("body")


def _question(lines: list[str], where: str) -> tuple[str, Question]:
    before: list[str] = []
    asked = ""
    options: list[str] = []
    right: list[int] = []
    explanation: list[str] = []
    for line in lines:
        option = _OPTION.match(line.strip())
        if line.startswith("? "):
            asked = line[2:].strip()
        elif option and asked:
            if option.group("mark").strip():
                right.append(len(options))
            options.append(option.group("text").strip())
        elif line.startswith("> ") and asked:
            explanation.append(line[2:].strip())
        elif not asked:
            before.append(line)
        elif line.strip():
            raise ModuleFileError(f"{where}: after the question only options and «> » lines")
    if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
        raise ModuleFileError(f"{where}: a question needs {OPTIONS_MIN}-{OPTIONS_MAX} options")
    if len(right) != 1:
        raise ModuleFileError(f"{where}: exactly one option is marked right with [x]")
    if not explanation:
        raise ModuleFileError(f"{where}: a question needs its explanation on a «> » line")
    question = Question(asked, tuple(options), right[0], " ".join(explanation))
    return "\n".join(before).strip(), question


def parse_module(text: str, *, where: str = "module") -> Module:
    """One module file; raises ModuleFileError saying what is wrong and where."""
    front, body = _front(text, where)
    for key in ("id", "order", "title", "language"):
        if not front.get(key):
            raise ModuleFileError(f"{where}: the front matter needs «{key}:»")
    if not _ID.match(front["id"]):
        raise ModuleFileError(f"{where}: an id is lower-case letters, digits and -")
    if front["language"] not in LANGUAGES:
        raise ModuleFileError(f"{where}: language is one of {', '.join(LANGUAGES)}")
    try:
        order, minutes = int(front["order"]), int(front.get("minutes") or 3)
    except ValueError:
        raise ModuleFileError(f"{where}: order and minutes are whole numbers") from None
    cards: list[Card] = []
    heading: str | None = None
    lines: list[str] = []

    def close() -> None:
        if heading is None:
            if "\n".join(lines).strip():
                raise ModuleFileError(f"{where}: text before the first «## » card")
            return
        card_where = f"{where}, card «{heading}»"
        if any(line.strip() == PRACTICE for line in lines):
            text = "\n".join(line for line in lines if line.strip() != PRACTICE).strip()
            cards.append(Card(heading, text, practice=True))
        elif any(line.startswith("? ") for line in lines):
            before, question = _question(lines, card_where)
            cards.append(Card(heading, before, question))
        elif not "\n".join(lines).strip():
            raise ModuleFileError(f"{card_where}: the card is empty")
        else:
            cards.append(Card(heading, "\n".join(lines).strip()))

    for line in body.splitlines():
        if line.startswith("## "):
            close()
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    close()
    if not cards:
        raise ModuleFileError(f"{where}: a module needs at least one «## » card")
    return Module(front["id"], order, front["title"], front["language"], minutes, tuple(cards))


def load_modules() -> dict[str, tuple[Module, ...]]:
    """Every language's modules, in their order, from the files beside this one."""
    found: dict[str, tuple[Module, ...]] = {}
    root = resources.files("domain").joinpath("training")
    for language in LANGUAGES:
        folder = root.joinpath(language)
        modules = [
            parse_module(entry.read_text("utf-8"), where=f"training/{language}/{entry.name}")
            for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".md")
        ]
        found[language] = tuple(sorted(modules, key=lambda m: (m.order, m.id)))
    return found


def _shape(module: Module) -> tuple[Any, ...]:
    return tuple(
        (c.question.right, len(c.question.options)) if c.question else c.practice
        for c in module.cards
    )


def check_modules(modules: Mapping[str, Iterable[Module]]) -> list[str]:
    """What keeps the languages from being one course: a module missing in one, ids twice,
    a language written into the wrong folder, or questions that differ (a reader who switches
    language mid-module must find the same card and the same right answer)."""
    problems: list[str] = []
    by_language = {language: {m.id: m for m in found} for language, found in modules.items()}
    first = next(iter(by_language.values()), {})
    for language, found in modules.items():
        ids = [m.id for m in found]
        for twice in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"{language}: module {twice} twice")
        for module in found:
            if module.language != language:
                problems.append(f"{language}/{module.id}: says language {module.language}")
    every = set().union(*(set(m) for m in by_language.values())) if by_language else set()
    for language, found_ids in by_language.items():
        for missing in sorted(every - set(found_ids)):
            problems.append(f"{language}: module {missing} is missing")
    for module_id, module in first.items():
        for language, found_ids in by_language.items():
            other = found_ids.get(module_id)
            if other is not None and _shape(other) != _shape(module):
                problems.append(f"{language}/{module_id}: the cards or answers differ")
            if other is not None and other.order != module.order:
                problems.append(f"{language}/{module_id}: another order")
    return problems
