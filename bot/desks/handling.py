"""A leader's card actions, read and decided. Pure: no Teams, no SQL.

A handling card's button posts {action, op, report, version} and the card's inputs. The
request is checked like any answer (types, lengths, dates); the move it asks for is checked
against the report's status. Permission is `domain.access`; staleness is the version.

A measure's text, the closing note, a judgement's reason and a cause's words pass the
sensitive-data guard (`domain.sensitive`) with no way round it: the note goes to the reporter
and the rest to everyone who reads the report, and what is to be done can always be written
without a fødselsnummer or a phone number.
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
from domain.causes import CAUSE_TEXT_MAX
from domain.duties import Answer, Duty, DutyAnswer
from domain.reminders import SNOOZE_LONGEST
from domain.sensitive import sensitive_problem
from domain.vocabulary import (
    OPTIONAL_TEXT_MAX,
    SHORT_TEXT_MAX,
    SHORT_TEXT_MIN,
    Severity,
    Status,
)

HANDLE = "avvik.handle"
SHOW = "avvik.show"
NOTE_MIN = 10
REASON_MIN = 5  # «Feil kategori» says enough
LATEST_DUE = timedelta(days=3 * 365)


class Op(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    START = "start"  # «under handsaming», without a measure yet
    MEASURE = "measure"
    JUDGE = "judge"  # change severity and/or category, with a reason
    CAUSE = "cause"  # why it happened
    DUTIES = "duties"  # answers to the legal duties
    CLOSE = "close"
    SNOOZE = "snooze"  # put the report's reminders off until a day


DUTY_PREFIX = "duty_"
# Every input a handling card has; Teams may send those of other parts of the card too.
INPUTS = (
    "measure_what",
    "measure_owner",
    "measure_due",
    "close_note",
    "snooze_until",
    "judge_severity",
    "judge_category",
    "judge_reason",
    "cause",
    "cause_text",
    "close_cause",
    "close_cause_text",
    "duty_later",
    *(f"{DUTY_PREFIX}{duty.value}" for duty in Duty),
)
CONTROLS = ("action", "op", "report", "version")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class MeasureInput:
    description: str
    owner: str
    due: date


@dataclass(frozen=True)
class Judgement:
    severity: str
    category: str  # a code; whether the municipality still offers it is checked at the desk
    reason: str


@dataclass(frozen=True)
class CauseInput:
    code: str  # checked against the cause list at the desk
    text: str | None


@dataclass(frozen=True)
class HandlingRequest:
    op: Op
    report_id: int
    version: int
    measure: MeasureInput | None = None
    note: str | None = None
    snooze_until: date | None = None
    judgement: Judgement | None = None
    cause: CauseInput | None = None  # with CLOSE: None when the report has its cause already
    duties: tuple[DutyAnswer, ...] = ()


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
        problems: list[FieldProblem] = []
        cause = _cause(value, problems, required=False, prefix="close_")
        checked = guarded_text(value, "close_note", NOTE_MIN, OPTIONAL_TEXT_MAX, problems)
        if problems or checked is None:
            return problems
        return HandlingRequest(operation, report_id, version, note=checked, cause=cause)
    if operation is Op.JUDGE:
        judged = _judgement(value)
        if isinstance(judged, list):
            return judged
        return HandlingRequest(operation, report_id, version, judgement=judged)
    if operation is Op.CAUSE:
        problems = []
        cause = _cause(value, problems, required=True)
        if problems or cause is None:
            return problems
        return HandlingRequest(operation, report_id, version, cause=cause)
    if operation is Op.DUTIES:
        answers = _duty_answers(value, today)
        if isinstance(answers, list):
            return answers
        return HandlingRequest(operation, report_id, version, duties=answers)
    if operation is Op.SNOOZE:
        until = _snooze_until(value.get("snooze_until"), today)
        if isinstance(until, FieldProblem):
            return [until]
        return HandlingRequest(operation, report_id, version, snooze_until=until)
    return HandlingRequest(operation, report_id, version)


def _snooze_until(raw: Any, today: date, field: str = "snooze_until") -> date | FieldProblem:
    """A day after today and within three months: a leader on holiday, not a report forgotten."""
    day = _date(raw)
    if day is None:
        problem = "empty" if not isinstance(raw, str) or not raw.strip() else "when_unparsed"
        return FieldProblem(field, Problem(problem))
    if day <= today:
        return FieldProblem(field, Problem("snooze_past"))
    if day > today + SNOOZE_LONGEST:
        return FieldProblem(field, Problem("snooze_far"))
    return day


def guarded_text(
    value: Mapping[str, Any], name: str, least: int, most: int, problems: list[FieldProblem]
) -> str | None:
    """A text others will read: present, within its length, and without personal data."""
    raw = value.get(name)
    if raw is not None and not isinstance(raw, str):
        problems.append(FieldProblem(name, Problem("form_type")))
        return None
    checked = clean_text(raw, min_length=least, max_length=most)
    if isinstance(checked, str):
        checked = sensitive_problem(checked) or checked
    if isinstance(checked, Problem):
        problems.append(FieldProblem(name, checked))
        return None
    return checked


def _code(raw: Any) -> str | None:
    return raw.strip() if isinstance(raw, str) and raw.strip() else None


def _cause(
    value: Mapping[str, Any], problems: list[FieldProblem], *, required: bool, prefix: str = ""
) -> CauseInput | None:
    """The cause chosen, with its optional words (the close form's fields are `close_…`);
    without a choice, None (closing checks that the report has one already) or, when
    `required`, a problem."""
    name, words_name = f"{prefix}cause", f"{prefix}cause_text"
    code = _code(value.get(name))
    raw_text = value.get(words_name)
    words = None
    if isinstance(raw_text, str) and raw_text.strip():
        words = guarded_text(value, words_name, SHORT_TEXT_MIN, CAUSE_TEXT_MAX, problems)
    elif raw_text is not None and not isinstance(raw_text, str):
        problems.append(FieldProblem(words_name, Problem("form_type")))
    if code is None:
        if required or words is not None:
            problems.append(FieldProblem(name, Problem("cause_needed")))
        return None
    return CauseInput(code, words)


def _judgement(value: Mapping[str, Any]) -> Judgement | list[FieldProblem]:
    problems: list[FieldProblem] = []
    severity = _code(value.get("judge_severity"))
    if severity not in Severity._value2member_map_:
        problems.append(FieldProblem("judge_severity", Problem("form_choice")))
    category = _code(value.get("judge_category"))
    if category is None:
        problems.append(FieldProblem("judge_category", Problem("form_choice")))
    reason = guarded_text(value, "judge_reason", REASON_MIN, SHORT_TEXT_MAX, problems)
    if problems or severity is None or category is None or reason is None:
        return problems
    return Judgement(severity, category, reason)


def _duty_answers(
    value: Mapping[str, Any], today: date
) -> tuple[DutyAnswer, ...] | list[FieldProblem]:
    """The duties answered on the card (those left blank stay as they were)."""
    chosen: list[tuple[Duty, Answer]] = []
    for duty in Duty:
        raw = _code(value.get(f"{DUTY_PREFIX}{duty.value}"))
        if raw is None:
            continue
        if raw not in Answer._value2member_map_:
            return [FieldProblem(f"{DUTY_PREFIX}{duty.value}", Problem("form_choice"))]
        chosen.append((duty, Answer(raw)))
    if not chosen:
        return [FieldProblem(None, Problem("duty_none"))]
    later: date | None = None
    if any(answer is Answer.LATER for _, answer in chosen):
        until = _snooze_until(value.get("duty_later"), today, "duty_later")
        if isinstance(until, FieldProblem):
            return [until]
        later = until
    return tuple(
        DutyAnswer(duty, answer, later if answer is Answer.LATER else None)
        for duty, answer in chosen
    )


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
    ALREADY_IN_PROGRESS = "already_in_progress"
    STALE = "stale"


def next_status(op: Op, current: Status) -> Status | Refusal:
    """ny → motteke → under handsaming → lukka. A measure (or «under handsaming») moves it on
    from any open state; a judgement, a cause or an answered duty shows the leader has taken
    it in, so a new report becomes motteke. A report can be closed from any open state (some
    need no measure), never reopened by a card."""
    if current is Status.CLOSED:
        return Refusal.CLOSED
    if op is Op.ACKNOWLEDGE:
        return Status.ACKNOWLEDGED if current is Status.NEW else Refusal.ALREADY_ACKNOWLEDGED
    if op is Op.START:
        return (
            Status.IN_PROGRESS
            if current is not Status.IN_PROGRESS
            else (Refusal.ALREADY_IN_PROGRESS)
        )
    if op is Op.SNOOZE:
        return current
    if op in (Op.JUDGE, Op.CAUSE, Op.DUTIES):
        return Status.ACKNOWLEDGED if current is Status.NEW else current
    if op is Op.MEASURE:
        return Status.IN_PROGRESS
    return Status.CLOSED
