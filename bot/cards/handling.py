"""The leader's card for one report: everything needed to act, and the actions allowed now.

Rebuilt from the database after every change and put in place of every copy, so each leader's
chat shows the current state. The buttons carry the report's version: a card that is behind
is refused, not obeyed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.cards import Card, adaptive_card, facts, heading, paragraph
from bot.desks.handling import HANDLE, Op
from domain.categories import Categories
from domain.i18n import Texts
from domain.oslo_time import format_date, format_moment
from domain.reminders import SNOOZE_LONGEST
from domain.vocabulary import Harm, Severity, Status
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


def _actions(texts: Texts, view: HandlingView, today: date) -> list[dict[str, Any]]:
    actions = []
    if view.status is Status.NEW:
        actions.append(
            _submit(texts("handling.acknowledge"), view, Op.ACKNOWLEDGE, style="positive")
        )
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
            [_input(texts, "close_note", multiline=True, max_length=2000)],
            _submit(texts("handling.close_confirm"), view, Op.CLOSE, style="positive"),
        )
    )
    return actions


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def handling_card(
    texts: Texts,
    view: HandlingView,
    categories: Categories,
    *,
    show_reporter: bool,
    can_handle: bool,
    today: date,
) -> Card:
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
                (texts("field.category"), categories.label(view.category, texts.language)),
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
    if view.harm == Harm.INJURY.value:
        if view.severity == Severity.HIGH.value:
            body.append({**paragraph(texts("handling.duty_serious")), "color": "Attention"})
        body.append(paragraph(texts("handling.duty_nav"), subtle=True))
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
        _actions(texts, view, today) if can_handle and view.status is not Status.CLOSED else None
    )
    return adaptive_card(
        body,
        actions,
        fallback_text=texts(
            "handling.title", case=view.case_number, severity=texts(f"severity.{view.severity}")
        ),
    )
