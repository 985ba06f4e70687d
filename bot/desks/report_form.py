"""A submitted report card, read and checked exactly like typed answers. Pure: no Teams, no SQL.

A card is rebuilt from data and never trusted as data: every field is checked for type,
length and content, unknown fields are refused, and the card must belong to this conversation.
The free-text fields pass the sensitive-data guard (`domain.sensitive`) unless the reporter
switched on «keep as written» (`keep_sensitive`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dialogs.report_draft import FIELDS, ReportDraft
from domain.answers import Problem, When, clean_text, parse_when
from domain.categories import Categories
from domain.sensitive import sensitive_problem
from domain.vocabulary import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    OPTIONAL_TEXT_MAX,
    SHORT_TEXT_MAX,
    SHORT_TEXT_MIN,
    Harm,
    Severity,
)

# The card's inputs: the dialog's fields in the dialog's order, «when» as a date and a time.
WHEN_INPUTS = ("date", "time")
INPUTS = tuple(name for field in FIELDS for name in (WHEN_INPUTS if field == "when" else (field,)))
CONTROLS = ("action", "card", "conversation")
# Not a question of the dialog: a choice on the card (Input.Toggle sends "true" or "false").
ANONYMOUS = "anonymous"
# A choice on the card too: store the free text as typed even when it looks like personal data.
KEEP_SENSITIVE = "keep_sensitive"
TOGGLES = (ANONYMOUS, KEEP_SENSITIVE)
_CARD_ID = re.compile(r"^[0-9a-f]{32}$")
_CODES: dict[str, frozenset[str]] = {
    "harm": frozenset(h.value for h in Harm),
    "severity": frozenset(s.value for s in Severity),
}
_TEXTS = {
    "description": (DESCRIPTION_MIN, DESCRIPTION_MAX),
    "unit": (SHORT_TEXT_MIN, SHORT_TEXT_MAX),
    "location": (SHORT_TEXT_MIN, SHORT_TEXT_MAX),
}
_OPTIONAL = ("immediate_action", "suggested_measure")
# Free text that may hold personal data; the unit is a workplace's name.
_GUARDED = frozenset({"description", "location", *_OPTIONAL})


@dataclass(frozen=True)
class FieldProblem:
    field: str | None  # None: the card as a whole
    problem: Problem


@dataclass
class _Reading:
    value: Mapping[str, Any]
    problems: list[FieldProblem] = field(default_factory=list)
    keep_sensitive: bool = False

    def text(self, name: str) -> str | None:
        raw = self.value.get(name)
        if raw is None or isinstance(raw, str):
            return raw
        self.fail(name, Problem("form_type"))
        return None

    def fail(self, name: str | None, problem: Problem) -> None:
        """The first problem with a field is the one worth telling: a list where text was
        expected is not also «empty»."""
        if all(known.field != name for known in self.problems):
            self.problems.append(FieldProblem(name, problem))

    def toggle(self, name: str) -> bool:
        """An Input.Toggle: "true" or "false" (absent: off)."""
        value = self.value.get(name, "false")
        if value not in ("true", "false"):
            self.fail(name, Problem("form_choice"))
        return bool(value == "true")

    def guarded(self, name: str, text: str) -> bool:
        """True when the text may be stored: nothing sensitive in it, or kept on purpose."""
        problem = None if self.keep_sensitive else sensitive_problem(text)
        if problem is not None:
            self.fail(name, problem)
        return problem is None


def read_report_form(
    value: Any, *, conversation_id: str, now: datetime, categories: Categories
) -> ReportDraft | list[FieldProblem]:
    """The draft the card describes, or every problem with it. A category must be one of
    `categories` that is active now: a card drawn before one was retired offers it no more."""
    if not isinstance(value, Mapping):
        return [FieldProblem(None, Problem("form_stale"))]
    known = (*INPUTS, *CONTROLS, *TOGGLES)
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        return [FieldProblem(None, Problem("form_fields", {"fields": ", ".join(unknown)}))]
    card_id = value.get("card")
    if not isinstance(card_id, str) or not _CARD_ID.match(card_id):
        return [FieldProblem(None, Problem("form_stale"))]
    if value.get("conversation") != conversation_id:
        return [FieldProblem(None, Problem("form_foreign"))]

    reading = _Reading(value)
    reading.keep_sensitive = reading.toggle(KEEP_SENSITIVE)
    draft = ReportDraft(submission_key=card_id)
    for name, (least, most) in _TEXTS.items():
        checked = clean_text(reading.text(name), min_length=least, max_length=most)
        if isinstance(checked, Problem):
            reading.fail(name, checked)
        elif name not in _GUARDED or reading.guarded(name, checked):
            draft.record(name, {"id": None, "name": checked} if name == "unit" else checked)
    choices = {**_CODES, "category": frozenset(c.code for c in categories.active())}
    for name, codes in choices.items():
        code = reading.text(name)
        if code in codes:
            draft.record(name, code)
        else:
            reading.fail(name, Problem("form_choice"))
    for name in _OPTIONAL:
        raw = reading.text(name)
        checked = clean_text(raw, min_length=SHORT_TEXT_MIN, max_length=OPTIONAL_TEXT_MAX)
        if isinstance(checked, str):
            if reading.guarded(name, checked):
                draft.record(name, checked)
        elif checked.key == "empty":
            draft.record(name, "")
        else:
            reading.fail(name, checked)
    draft.anonymous = reading.toggle(ANONYMOUS)
    when = _when(reading, now)
    if isinstance(when, When):
        draft.record("when", {"at": when.at.isoformat(), "time_known": when.time_known})
    return reading.problems or draft


def _when(reading: _Reading, now: datetime) -> When | None:
    # Date and time are two inputs on the card but one answer, told as «when».
    date, clock = reading.value.get("date"), reading.value.get("time")
    if not isinstance(date, str | None) or not isinstance(clock, str | None):
        reading.fail("when", Problem("form_type"))
        return None
    if not date or not date.strip():
        reading.fail("when", Problem("empty"))
        return None
    parsed = parse_when(f"{date} {clock or ''}".strip(), now=now)
    if isinstance(parsed, Problem):
        reading.fail("when", parsed)
        return None
    return parsed
