"""A leader's card actions, read and decided. Pure: no Teams, no SQL.

A handling card's button posts {action, op, report, version} and the card's inputs. The
request is checked like any answer (types, lengths, dates); the move it asks for is checked
against the report's status. Permission is `domain.access`; staleness is the version.

A measure's text and the closing note pass the sensitive-data guard (`domain.sensitive`) with no
way round it: the note goes to the reporter and the measure to everyone who reads the report,
and what is to be done can always be written without a fødselsnummer or a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from bot.desks.report_form import FieldProblem
from domain.answers import Problem, clean_text
from domain.reminders import SNOOZE_LONGEST
from domain.sensitive import sensitive_problem
from domain.vocabulary import OPTIONAL_TEXT_MAX, SHORT_TEXT_MAX, SHORT_TEXT_MIN, Status

HANDLE = "avvik.handle"
SHOW = "avvik.show"
NOTE_MIN = 10
LATEST_DUE = timedelta(days=3 * 365)


class Op(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    MEASURE = "measure"
    CLOSE = "close"
    SNOOZE = "snooze"  # put the report's reminders off until a day


# Every input a handling card has; Teams may send those of other parts of the card too.
INPUTS = ("measure_what", "measure_owner", "measure_due", "close_note", "snooze_until")
CONTROLS = ("action", "op", "report", "version")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class MeasureInput:
    description: str
    owner: str
    due: date


@dataclass(frozen=True)
class HandlingRequest:
    op: Op
    report_id: int
    version: int
    measure: MeasureInput | None = None
    note: str | None = None
    snooze_until: date | None = None


def _positive_int(value: Any) -> int | None:
    # JSON numbers may arrive as int or float; a bool is not a number here.
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None


def read_request(value: Any, *, today: date) -> HandlingRequest | list[FieldProblem]:
    """The action a handling card's button asks for, or everything wrong with it."""
    if not isinstance(value, Mapping):
        return [FieldProblem(None, Problem("form_stale"))]
    unknown = sorted(str(k) for k in value if k not in INPUTS and k not in CONTROLS)
    if unknown:
        return [FieldProblem(None, Problem("form_fields", {"fields": ", ".join(unknown)}))]
    report_id, version = _positive_int(value.get("report")), _positive_int(value.get("version"))
    op = value.get("op")
    if report_id is None or version is None or not isinstance(op, str):
        return [FieldProblem(None, Problem("form_stale"))]
    if op not in Op._value2member_map_:
        return [FieldProblem(None, Problem("form_stale"))]
    operation = Op(op)
    if operation is Op.MEASURE:
        measure = _measure(value, today)
        if isinstance(measure, list):
            return measure
        return HandlingRequest(operation, report_id, version, measure=measure)
    if operation is Op.CLOSE:
        note = value.get("close_note")
        checked = clean_text(
            note if isinstance(note, str) else None,
            min_length=NOTE_MIN,
            max_length=OPTIONAL_TEXT_MAX,
        )
        if isinstance(checked, str):
            checked = sensitive_problem(checked) or checked
        if isinstance(checked, Problem):
            return [FieldProblem("close_note", checked)]
        return HandlingRequest(operation, report_id, version, note=checked)
    if operation is Op.SNOOZE:
        until = _snooze_until(value.get("snooze_until"), today)
        if isinstance(until, FieldProblem):
            return [until]
        return HandlingRequest(operation, report_id, version, snooze_until=until)
    return HandlingRequest(operation, report_id, version)


def _snooze_until(raw: Any, today: date) -> date | FieldProblem:
    """A day after today and within three months: a leader on holiday, not a report forgotten."""
    day = _date(raw)
    if day is None:
        problem = "empty" if not isinstance(raw, str) or not raw.strip() else "when_unparsed"
        return FieldProblem("snooze_until", Problem(problem))
    if day <= today:
        return FieldProblem("snooze_until", Problem("snooze_past"))
    if day > today + SNOOZE_LONGEST:
        return FieldProblem("snooze_until", Problem("snooze_far"))
    return day


def _date(raw: Any) -> date | None:
    if not isinstance(raw, str) or not _DATE.match(raw.strip()):
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _measure(value: Mapping[str, Any], today: date) -> MeasureInput | list[FieldProblem]:
    problems: list[FieldProblem] = []

    def text(name: str, least: int, most: int, *, guarded: bool = False) -> str | None:
        raw = value.get(name)
        if raw is not None and not isinstance(raw, str):
            problems.append(FieldProblem(name, Problem("form_type")))
            return None
        checked = clean_text(raw, min_length=least, max_length=most)
        if guarded and isinstance(checked, str):
            checked = sensitive_problem(checked) or checked
        if isinstance(checked, Problem):
            problems.append(FieldProblem(name, checked))
            return None
        return checked

    what = text("measure_what", SHORT_TEXT_MIN, OPTIONAL_TEXT_MAX, guarded=True)
    owner = text("measure_owner", SHORT_TEXT_MIN, SHORT_TEXT_MAX)
    due = _due(value.get("measure_due"), today, problems)
    if problems or what is None or owner is None or due is None:
        return problems
    return MeasureInput(what, owner, due)


def _due(raw: Any, today: date, problems: list[FieldProblem]) -> date | None:
    if not isinstance(raw, str) or not raw.strip():
        problems.append(FieldProblem("measure_due", Problem("empty")))
        return None
    due = _date(raw)
    if due is None:
        problems.append(FieldProblem("measure_due", Problem("when_unparsed")))
    elif due < today:
        problems.append(FieldProblem("measure_due", Problem("due_past")))
    elif due > today + LATEST_DUE:
        problems.append(FieldProblem("measure_due", Problem("due_far")))
    else:
        return due
    return None


class Refusal(StrEnum):
    """Why a move cannot be made; the texts are under `handling.refused_<value>`."""

    NOT_ALLOWED = "not_allowed"
    CLOSED = "closed"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    STALE = "stale"


def next_status(op: Op, current: Status) -> Status | Refusal:
    """ny → motteke → under handsaming → lukka. A measure acknowledges on the way; a report
    can be closed from any open state (some need no measure), never reopened by a card."""
    if current is Status.CLOSED:
        return Refusal.CLOSED
    if op is Op.ACKNOWLEDGE:
        return Status.ACKNOWLEDGED if current is Status.NEW else Refusal.ALREADY_ACKNOWLEDGED
    if op is Op.SNOOZE:
        return current
    if op is Op.MEASURE:
        return Status.IN_PROGRESS
    return Status.CLOSED
