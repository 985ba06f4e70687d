"""The shared risk-assessment frame for violence and threats (forskrift om utføring av arbeid
kap. 23A; docs/risk.md): the rules, no storage.

The HMS adviser publishes a frame (risk factors: a situation, probability 1–5, consequence
1–5, the measures in place and those suggested) to a set of units. Each unit's leader goes
through it: keeps a factor, adjusts it (probability, consequence, local measures, with a
reason), or marks it not relevant (with a reason); adds local factors; names the verneombod who
took part; and signs it off. A new version of the frame asks again only about the factors that
are new or changed (`changed_keys`); every other answer is carried over.

Risk is probability × consequence on the usual 5 × 5 matrix: 1–4 low, 5–9 medium, 10–25 high.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import yaml

from domain.readers.records import Row, RowProblem, header_and_rows

SCALE = range(1, 6)
KEY_MAX = 40
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]*")
TITLE_MAX = 200
SITUATION_MAX = 500
MEASURES_MAX = 2000
REASON_MIN, REASON_MAX = 5, 1000
VERNEOMBOD_MIN, VERNEOMBOD_MAX = 2, 200
FACTORS_MAX = 60  # a frame is a short list; a longer file is probably the wrong file
LOCAL_PREFIX = "lokal-"  # local factors' keys; a frame's own may not start so


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def level(probability: int, consequence: int) -> Level:
    score = probability * consequence
    if score <= 4:
        return Level.LOW
    return Level.MEDIUM if score <= 9 else Level.HIGH


@dataclass(frozen=True)
class Factor:
    """One risk factor of the frame, as the adviser wrote it."""

    key: str  # stable across versions: how a new version knows what changed
    situation: str
    probability: int
    consequence: int
    existing: str = ""  # measures in place
    suggested: str = ""  # measures the frame suggests

    def content(self) -> tuple[str, int, int, str, str]:
        return (self.situation, self.probability, self.consequence, self.existing, self.suggested)


class Decision(StrEnum):
    KEEP = "keep"
    ADJUST = "adjust"
    NOT_RELEVANT = "not_relevant"
    LOCAL = "local"  # a factor the unit added itself


@dataclass(frozen=True)
class Answer:
    """A unit's answer to one factor, or one of its own (LOCAL)."""

    key: str
    decision: Decision
    probability: int | None = None  # ADJUST and LOCAL
    consequence: int | None = None
    measures: str = ""  # the unit's own measures
    reason: str = ""  # why adjusted or not relevant
    situation: str = ""  # LOCAL
    carried: bool = False  # from the previous version, unchanged there


def rating(factor: Factor | None, answer: Answer | None) -> tuple[int, int] | None:
    """Where the factor stands for the unit: its adjusted or local rating, the frame's when
    kept or not yet answered, none when not relevant."""
    if answer is not None:
        if answer.decision is Decision.NOT_RELEVANT:
            return None
        if answer.probability is not None and answer.consequence is not None:
            return answer.probability, answer.consequence
    if factor is None:
        return None
    return factor.probability, factor.consequence


def matrix(ratings: Iterable[tuple[int, int] | None]) -> list[list[int]]:
    """Counts per cell: `matrix[p - 1][c - 1]` factors at probability p and consequence c."""
    cells = [[0] * len(SCALE) for _ in SCALE]
    for found in ratings:
        if found is not None:
            cells[found[0] - 1][found[1] - 1] += 1
    return cells


def changed_keys(before: Sequence[Factor], now: Sequence[Factor]) -> frozenset[str]:
    """The factors of `now` to ask about again: new ones, and those whose words or rating
    changed since `before`."""
    old = {f.key: f.content() for f in before}
    return frozenset(f.key for f in now if old.get(f.key) != f.content())


def unanswered(factors: Sequence[Factor], answers: Mapping[str, Answer]) -> list[Factor]:
    return [f for f in factors if f.key not in answers]


# ---- one answer, checked -------------------------------------------------------------------


class Problem(StrEnum):
    """What is wrong with an answer, a local factor or a sign-off (texts under risk.problem_)."""

    DECISION = "decision"
    PROBABILITY = "probability"
    CONSEQUENCE = "consequence"
    REASON = "reason"
    NOTHING_ADJUSTED = "nothing_adjusted"
    KEEP_CHANGED = "keep_changed"
    SITUATION = "situation"
    MEASURES = "measures"
    UNANSWERED = "unanswered"
    VERNEOMBOD = "verneombod"


def scale_value(raw: object) -> int | None:
    """1–5 from a card's choice or a file's cell; None for anything else (7, «tre», 2.5)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw in SCALE else None
    if isinstance(raw, str):
        text = raw.strip()
        if text.isascii() and text.isdecimal() and len(text) == 1 and int(text) in SCALE:
            return int(text)
    return None


_LINE_BREAKS = str.maketrans({"\r": "\n", "\x0b": "\n", "\x0c": "\n", "\u2028": "\n"})


def _printable(raw: str) -> str:
    """Text pasted from Word or a phone, without what no file or database should hold: a line
    break is a line break («\\r», Word's Shift+Enter, a page break), and other control
    characters (a NUL byte, an escape) are dropped."""
    text = raw.replace("\r\n", "\n").translate(_LINE_BREAKS)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))


def _text(raw: object) -> str:
    return " ".join(_printable(raw).split()) if isinstance(raw, str) else ""


def _long_text(raw: object) -> str:
    """Words kept as written, line breaks included; surrounding space dropped."""
    return _printable(raw).strip() if isinstance(raw, str) else ""


def check_answer(
    factor: Factor, value: Mapping[str, Any], *, shown: tuple[int, int] | None = None
) -> Answer | list[Problem]:
    """The answer a factor card sent: `risk_decision`, `risk_probability`,
    `risk_consequence`, `risk_measures`, `risk_reason`. `shown` is the rating the card was
    filled in with (the unit's adjusted one, when it had adjusted it): sent back with «keep»,
    it was not changed."""
    try:
        decision = Decision(str(value.get("risk_decision")))
    except ValueError:
        return [Problem.DECISION]
    if decision is Decision.LOCAL:
        return [Problem.DECISION]
    measures, reason = _long_text(value.get("risk_measures")), _long_text(value.get("risk_reason"))
    problems: list[Problem] = []
    if len(measures) > MEASURES_MAX:
        problems.append(Problem.MEASURES)
    probability = consequence = None
    if decision is Decision.KEEP:
        # A card sends the frame's rating with «keep»; a different one means «adjust».
        sent = [value.get("risk_probability"), value.get("risk_consequence")]
        for raw, problem in zip(sent, (Problem.PROBABILITY, Problem.CONSEQUENCE), strict=True):
            if raw not in (None, "") and scale_value(raw) is None:
                problems.append(problem)
        own = (factor.probability, factor.consequence)
        rated = tuple(
            o if raw in (None, "") else scale_value(raw) for raw, o in zip(sent, own, strict=True)
        )
        if not problems and rated not in (own, shown):
            problems.append(Problem.KEEP_CHANGED)
        return problems or Answer(factor.key, decision, measures=measures)
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        problems.append(Problem.REASON)
    if decision is Decision.ADJUST:
        probability = scale_value(value.get("risk_probability"))
        consequence = scale_value(value.get("risk_consequence"))
        if probability is None:
            problems.append(Problem.PROBABILITY)
        if consequence is None:
            problems.append(Problem.CONSEQUENCE)
        if probability == factor.probability and consequence == factor.consequence and not measures:
            problems.append(Problem.NOTHING_ADJUSTED)
    if problems:
        return list(dict.fromkeys(problems))
    return Answer(factor.key, decision, probability, consequence, measures, reason)


def check_local(key: str, value: Mapping[str, Any]) -> Answer | list[Problem]:
    """A factor the unit adds: `risk_situation`, `risk_probability`, `risk_consequence`,
    `risk_measures`."""
    situation = _text(value.get("risk_situation"))
    measures = _long_text(value.get("risk_measures"))
    probability = scale_value(value.get("risk_probability"))
    consequence = scale_value(value.get("risk_consequence"))
    problems = []
    if not 5 <= len(situation) <= SITUATION_MAX:
        problems.append(Problem.SITUATION)
    if probability is None:
        problems.append(Problem.PROBABILITY)
    if consequence is None:
        problems.append(Problem.CONSEQUENCE)
    if len(measures) > MEASURES_MAX:
        problems.append(Problem.MEASURES)
    if problems:
        return problems
    return Answer(key, Decision.LOCAL, probability, consequence, measures, situation=situation)


def check_sign_off(
    factors: Sequence[Factor], answers: Mapping[str, Answer], verneombod: object
) -> str | list[Problem]:
    """The verneombod's name, or why the assessment cannot be signed yet."""
    problems = []
    if unanswered(factors, answers):
        problems.append(Problem.UNANSWERED)
    name = _text(verneombod)
    if not VERNEOMBOD_MIN <= len(name) <= VERNEOMBOD_MAX:
        problems.append(Problem.VERNEOMBOD)
    return problems or name


# ---- the frame file (`python -m bot risk import FILE`) -----------------------------------------

COLUMNS = ("key", "situation", "probability", "consequence", "existing", "suggested")
REQUIRED = ("key", "situation", "probability", "consequence")
ALIASES: Mapping[str, tuple[str, ...]] = {
    "key": ("id", "nr", "kode", "code"),
    "situation": ("situasjon", "risikofaktor", "factor", "hending"),
    "probability": ("sannsyn", "sannsynlegheit", "sannsynlighet", "p"),
    "consequence": ("konsekvens", "c", "k"),
    "existing": ("eksisterande tiltak", "eksisterende tiltak", "existing measures", "tiltak"),
    "suggested": ("foreslåtte tiltak", "forslag til tiltak", "suggested measures", "forslag"),
}


@dataclass(frozen=True)
class FramePlan:
    """A frame file that read cleanly: its factors in order, and a title if it named one."""

    factors: tuple[Factor, ...]
    title: str | None = None


def _factor(
    line: int, cells: Mapping[str, object], problems: list[RowProblem]
) -> tuple[str, Factor | None]:
    """The row's id (for finding ids used twice, also on a row with other mistakes) and its
    factor, or None having said what is wrong."""
    before = len(problems)

    def problem(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    key = _text(str(cells.get("key") or "")).lower()
    if not key:
        problem("key", "required: a short id that stays the same in every version, such as v01")
    elif len(key) > KEY_MAX or not KEY_PATTERN.fullmatch(key) or key.startswith(LOCAL_PREFIX):
        problem(
            "key",
            f"{key[:KEY_MAX]!r} is not an id: up to {KEY_MAX} letters a–z, digits, . _ -, "
            f"not starting with {LOCAL_PREFIX!r} (the units' own factors use that)",
        )
    situation = _text(str(cells.get("situation") or ""))
    if not situation:
        problem("situation", "required: the situation, in a sentence")
    elif len(situation) > SITUATION_MAX:
        problem("situation", f"longer than {SITUATION_MAX} characters")
    scale: dict[str, int] = {}
    for column in ("probability", "consequence"):
        raw = cells.get(column)
        found = scale_value(raw.strip() if isinstance(raw, str) else raw)
        if found is None:
            shown = "" if raw is None else str(raw).strip()
            problem(column, f"must be a whole number from 1 to 5, not {shown!r}")
        else:
            scale[column] = found
    texts = {}
    for column in ("existing", "suggested"):
        texts[column] = _long_text(str(cells.get(column) or ""))
        if len(texts[column]) > MEASURES_MAX:
            problem(column, f"longer than {MEASURES_MAX} characters")
    if len(problems) > before:
        return key, None
    return key, Factor(
        key,
        situation,
        scale["probability"],
        scale["consequence"],
        texts["existing"],
        texts["suggested"],
    )


def _whole(
    read: list[tuple[int, tuple[str, Factor | None]]], problems: list[RowProblem]
) -> tuple[Factor, ...]:
    """Every id once, every situation once, and a list of a sensible length."""
    keys: dict[str, int] = {}
    situations: dict[str, int] = {}
    for line, (key, factor) in read:
        if key and key in keys:
            message = f"id {key} is already on line {keys[key]}"
            problems.append(RowProblem(line, "key", message))
        keys.setdefault(key, line)
        if factor is None:
            continue
        said = factor.situation.casefold()
        if said in situations:
            message = f"the same situation as line {situations[said]}: one factor each"
            problems.append(RowProblem(line, "situation", message))
        situations.setdefault(said, line)
    if len(read) > FACTORS_MAX:
        problems.append(RowProblem(read[FACTORS_MAX][0], None, f"more than {FACTORS_MAX} factors"))
    return tuple(f for _, (_, f) in read if f is not None)


def read_frame_csv(data: bytes) -> FramePlan | list[RowProblem]:
    read = header_and_rows(data, {c: ALIASES[c] for c in COLUMNS}, REQUIRED)
    if isinstance(read, list):
        return read
    header, found = read
    problems: list[RowProblem] = []
    factors: list[tuple[int, tuple[str, Factor | None]]] = []
    for line, record in found:
        before = len(problems)
        row = Row(line, header, record, problems)  # says so in `problems` if the row is odd
        readable = len(problems) == before
        factors.append((line, _factor(line, row.cells, problems) if readable else ("", None)))
    plan = _whole(factors, problems)
    return problems or FramePlan(plan)


class _Lines(yaml.SafeLoader):
    """Every mapping gets its line in the file under LINE, for problems by line."""


LINE = "\x00line"


def _mapping_with_line(loader: _Lines, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


_Lines.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def read_frame_yaml(data: bytes) -> FramePlan | list[RowProblem]:
    """`factors:` (a list of mappings with the CSV's columns as keys) and an optional `title:`;
    or the list alone."""
    try:
        document = yaml.load(data.decode("utf-8-sig"), Loader=_Lines)  # noqa: S506 (a SafeLoader)
    except UnicodeDecodeError:
        return [RowProblem(1, None, "the file is not UTF-8")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return [RowProblem(line, None, f"not readable as YAML: {getattr(error, 'problem', error)}")]
    title = None
    items: object = document
    if isinstance(document, dict):
        items = document.get("factors")
        raw_title = document.get("title")
        title = _text(raw_title) if isinstance(raw_title, str) else None
    if not isinstance(items, list) or not items:
        return [RowProblem(1, None, "no factors: write a list under «factors:»")]
    problems: list[RowProblem] = []
    factors: list[tuple[int, tuple[str, Factor | None]]] = []
    by_name = {name: column for column, names in ALIASES.items() for name in (column, *names)}
    for item in items:
        if not isinstance(item, dict):
            problems.append(RowProblem(1, None, "each factor must be a mapping such as key: v01"))
            continue
        line = int(item.get(LINE, 1))
        cells: dict[str, object] = {}
        for name, cell in item.items():
            if name == LINE:
                continue
            column = by_name.get(str(name).strip().casefold())
            if column is None:
                problems.append(RowProblem(line, str(name), f"unknown; use {', '.join(COLUMNS)}"))
            else:
                cells[column] = cell
        factors.append((line, _factor(line, cells, problems)))
    plan = _whole(factors, problems)
    if title is not None and len(title) > TITLE_MAX:
        problems.append(RowProblem(1, "title", f"longer than {TITLE_MAX} characters"))
    return problems or FramePlan(plan, title or None)


def read_frame(data: bytes, name: str) -> FramePlan | list[RowProblem]:
    """By the file's name: .yaml/.yml as YAML, anything else as CSV."""
    if name.lower().endswith((".yaml", ".yml")):
        return read_frame_yaml(data)
    return read_frame_csv(data)
