"""The leader's card for one report: everything needed to act, and the actions allowed now.

Rebuilt from the database after every change and put in place of every copy, so each leader's
chat shows the current state. The buttons carry the report's version: a card that is behind
is refused, not obeyed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.cards import Card, adaptive_card, facts, heading, paragraph
from bot.cards.risk import RISK
from bot.desks.handling import DUTY_PREFIX, HANDLE, Op
from domain.categories import Categories
from domain.duties import LOVDATA, Answer, Duty, open_duties
from domain.i18n import Texts
from domain.oslo_time import format_date, format_moment
from domain.reminders import SNOOZE_LONGEST
from domain.vocabulary import Severity, Status
from storage.handling import HandlingView


def _submit(title: str, view: HandlingView, op: Op, *, style: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": title,
        "data": {"action": HANDLE, "op": op.value, "report": view.id, "version": view.version},
    }
    if style:
        action["style"] = style
    return action


def _input(texts: Texts, field: str, *, multiline: bool, max_length: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.Text",
        "id": field,
        "label": texts(f"handling.label_{field}"),
        "isMultiline": multiline,
        "maxLength": max_length,
        "isRequired": True,
        "errorMessage": texts(f"handling.error_{field}"),
    }
    if field == "measure_owner":
        element["placeholder"] = texts("handling.placeholder_measure_owner")
    return element


def _show_card(title: str, body: list[dict[str, Any]], submit: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {"type": "AdaptiveCard", "body": body, "actions": [submit]},
    }


def _choices(
    field: str, label: str, options: list[tuple[str, str]], value: str | None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": field,
        "label": label,
        "style": "compact",
        "choices": [{"title": title, "value": code} for code, title in options],
    }
    if value is not None:
        element["value"] = value
    return element


def _offered(codes: Categories, current: str | None, language: str) -> list[tuple[str, str]]:
    """The active entries, and the report's own even when it has been retired since."""
    return [(c.code, c.label(language)) for c in codes if c.active or c.code == current]


def _cause_inputs(
    texts: Texts, view: HandlingView, causes: Categories, *, required: bool, prefix: str = ""
) -> list[dict[str, Any]]:
    """The cause's choice and words; `prefix` keeps the close form's ids its own (every input
    id on a card is unique, or a client may send one form's value for another's)."""
    choice = _choices(
        f"{prefix}cause",
        texts("handling.label_cause"),
        _offered(causes, view.cause, texts.language),
        view.cause,
    )
    if required:
        choice |= {"isRequired": True, "errorMessage": texts("handling.error_cause")}
    words: dict[str, Any] = {
        "type": "Input.Text",
        "id": f"{prefix}cause_text",
        "label": texts("handling.label_cause_text"),
        "maxLength": 500,
        "isMultiline": True,
    }
    if view.cause_text:
        words["value"] = view.cause_text
    return [choice, words]


def _judge_inputs(texts: Texts, view: HandlingView, categories: Categories) -> list[dict[str, Any]]:
    severities = [(s.value, texts(f"severity.{s.value}")) for s in Severity]
    return [
        _choices("judge_severity", texts("field.severity"), severities, view.severity),
        _choices(
            "judge_category",
            texts("field.category"),
            _offered(categories, view.category, texts.language),
            view.category,
        ),
        {
            "type": "Input.Text",
            "id": "judge_reason",
            "label": texts("handling.label_judge_reason"),
            "maxLength": 200,
            "isRequired": True,
            "errorMessage": texts("handling.error_judge_reason"),
        },
    ]


def _actions(
    texts: Texts, view: HandlingView, today: date, categories: Categories, causes: Categories
) -> list[dict[str, Any]]:
    """At most six, as Teams shows them: motteke (or «under handsaming» once motteke), a
    measure, the judgement, the cause, snooze and close. The duties are answered beside them."""
    actions = []
    if view.status is Status.NEW:
        actions.append(
            _submit(texts("handling.acknowledge"), view, Op.ACKNOWLEDGE, style="positive")
        )
    elif view.status is Status.ACKNOWLEDGED:
        actions.append(_submit(texts("handling.start"), view, Op.START))
    measure = [
        _input(texts, "measure_what", multiline=True, max_length=2000),
        _input(texts, "measure_owner", multiline=False, max_length=200),
        {
            "type": "Input.Date",
            "id": "measure_due",
            "label": texts("handling.label_measure_due"),
            "min": today.isoformat(),
            "isRequired": True,
            "errorMessage": texts("handling.error_measure_due"),
        },
    ]
    actions.append(
        _show_card(
            texts("handling.add_measure"),
            measure,
            _submit(texts("handling.save_measure"), view, Op.MEASURE),
        )
    )
    actions.append(
        _show_card(
            texts("handling.judge"),
            _judge_inputs(texts, view, categories),
            _submit(texts("handling.judge_confirm"), view, Op.JUDGE),
        )
    )
    actions.append(
        _show_card(
            texts("handling.cause"),
            _cause_inputs(texts, view, causes, required=True),
            _submit(texts("handling.cause_confirm"), view, Op.CAUSE),
        )
    )
    snooze = {
        "type": "Input.Date",
        "id": "snooze_until",
        "label": texts("handling.label_snooze_until"),
        "min": (today + timedelta(days=1)).isoformat(),
        "max": (today + SNOOZE_LONGEST).isoformat(),
        "isRequired": True,
        "errorMessage": texts("handling.error_snooze_until"),
    }
    actions.append(
        _show_card(
            texts("handling.snooze"),
            [snooze],
            _submit(texts("handling.snooze_confirm"), view, Op.SNOOZE),
        )
    )
    actions.append(
        _show_card(
            texts("handling.close"),
            [
                *_cause_inputs(texts, view, causes, required=True, prefix="close_"),
                _input(texts, "close_note", multiline=True, max_length=2000),
            ],
            _submit(texts("handling.close_confirm"), view, Op.CLOSE, style="positive"),
        )
    )
    return actions


def _answer_text(texts: Texts, view: HandlingView, duty: Duty) -> str:
    answer = view.answers.get(duty)
    if answer is None:
        return texts("duty.unanswered")
    if answer.answer is Answer.LATER and answer.later_until is not None:
        return texts("duty.later_until", date=_day(answer.later_until))
    return texts(f"duty.answer_{answer.answer.value}")


def _duties(
    texts: Texts, view: HandlingView, today: date, can_handle: bool
) -> list[dict[str, Any]]:
    """The legal duties the report sets off, each with its rule on lovdata and the leader's
    answer; while some wait, the form to answer them."""
    duties = view.duties
    if not duties:
        return []
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": texts("duty.heading"),
            "weight": "Bolder",
            "wrap": True,
            "separator": True,
        }
    ]
    for duty in duties:
        rule = f"[{texts(f'duty.{duty.value}_rule')}]({LOVDATA[duty]})"
        line = texts(
            "duty.line",
            duty=texts(f"duty.{duty.value}"),
            rule=rule,
            answer=_answer_text(texts, view, duty),
        )
        block = paragraph(line)
        if duty is Duty.NOTIFY_AUTHORITIES and duty not in view.answers:
            block["color"] = "Attention"
        body.append(block)
    # Kap. 23A: the unit's risk assessment is looked at again; the report can be tied to the
    # factor it shows (bot.desks.risk_desk), also once closed.
    risk = [
        {
            "type": "Action.Submit",
            "title": texts("risk.link_button"),
            "data": {"action": RISK, "op": "link_form", "report": view.id},
        }
    ]
    linking = {"type": "ActionSet", "actions": risk}
    waiting = open_duties(duties, view.answers)
    if not waiting or not can_handle or view.status is Status.CLOSED:
        if can_handle and Duty.RISK_REVIEW in duties:
            body.append(linking)
        return body
    answers = [(a.value, texts(f"duty.answer_{a.value}")) for a in Answer]
    inputs: list[dict[str, Any]] = [
        _choices(f"{DUTY_PREFIX}{duty.value}", texts(f"duty.{duty.value}"), answers, None)
        for duty in waiting
    ]
    inputs.append(
        {
            "type": "Input.Date",
            "id": "duty_later",
            "label": texts("duty.label_later"),
            "min": (today + timedelta(days=1)).isoformat(),
            "max": (today + SNOOZE_LONGEST).isoformat(),
        }
    )
    show = _show_card(
        texts("duty.answer"), inputs, _submit(texts("duty.answer_confirm"), view, Op.DUTIES)
    )
    body.append(
        {"type": "ActionSet", "actions": [show, *(risk if Duty.RISK_REVIEW in duties else [])]}
    )
    return body


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _judged(texts: Texts, shown: str, first: str | None) -> str:
    """A value with the reporter's own beside it when the leader changed it."""
    if first is None or first == shown:
        return shown
    return texts("handling.reported_as", value=shown, first=first)


def handling_card(
    texts: Texts,
    view: HandlingView,
    categories: Categories,
    *,
    show_reporter: bool,
    can_handle: bool,
    today: date,
    causes: Categories | None = None,
) -> Card:
    causes = causes if causes is not None else Categories(())
    unit = view.unit_name or texts("handling.no_unit", unit=view.unit_text or "")
    reporter = view.reporter_name if show_reporter else texts("handling.anonymous")
    body: list[dict[str, Any]] = [
        heading(
            texts(
                "handling.title", case=view.case_number, severity=texts(f"severity.{view.severity}")
            )
        ),
        paragraph(texts("handling.status_line", status=texts(f"status.{view.status.value}"))),
        facts(
            [
                (
                    texts("field.severity"),
                    _judged(
                        texts,
                        texts(f"severity.{view.severity}"),
                        texts(f"severity.{view.reported_severity}")
                        if view.reported_severity
                        else None,
                    ),
                ),
                (
                    texts("field.category"),
                    _judged(
                        texts,
                        categories.label(view.category, texts.language),
                        categories.label(view.reported_category, texts.language)
                        if view.reported_category
                        else None,
                    ),
                ),
                # Imported history may not say (harm ""): shown as «not stated».
                (texts("field.harm"), texts(f"harm_short.{view.harm or 'unknown'}")),
                (texts("field.unit"), unit),
                (texts("field.location"), view.location),
                (
                    texts("field.when"),
                    format_moment(view.occurred_at, texts, time_known=view.occurred_time_known),
                ),
                (texts("handling.reported_by"), reporter or "–"),
                (texts("handling.reported_at"), format_date(view.reported_at)),
            ]
        ),
        paragraph(f"**{texts('handling.description')}:** {view.description}"),
    ]
    for label, text in (
        ("handling.immediate_action", view.immediate_action),
        ("handling.suggested_measure", view.suggested_measure),
    ):
        if text:
            body.append(paragraph(f"**{texts(label)}:** {text}"))
    if view.cause is not None:
        cause = causes.label(view.cause, texts.language)
        if view.cause_text:
            cause = f"{cause} – {view.cause_text}"
        body.append(paragraph(f"**{texts('handling.cause_line')}:** {cause}"))
    body += _duties(texts, view, today, can_handle)
    body.append(
        {"type": "TextBlock", "text": texts("handling.measures"), "weight": "Bolder", "wrap": True}
    )
    lines = [
        texts(
            "handling.measure_line",
            what=m.description,
            owner=m.owner,
            due=m.due.strftime("%d.%m.%Y"),
        )
        for m in view.measures
    ]
    body.append(paragraph("\n\n".join(lines) if lines else texts("handling.measure_none")))
    if view.closing_note:
        body.append(paragraph(f"**{texts('handling.closing_note')}:** {view.closing_note}"))
    if (
        view.snoozed_until is not None
        and view.status is not Status.CLOSED
        and view.snoozed_until > today
    ):
        body.append(
            paragraph(texts("handling.snoozed_line", date=_day(view.snoozed_until)), subtle=True)
        )
    actions = (
        _actions(texts, view, today, categories, causes)
        if can_handle and view.status is not Status.CLOSED
        else None
    )
    return adaptive_card(
        body,
        actions,
        fallback_text=texts(
            "handling.title", case=view.case_number, severity=texts(f"severity.{view.severity}")
        ),
    )
