"""The one-card quick report: the same fields, limits and wording as the typed dialog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cards import SUBMIT_REPORT, Card, adaptive_card, heading, paragraph
from domain.categories import Categories
from domain.i18n import Texts
from domain.oslo_time import to_oslo
from domain.vocabulary import (
    DESCRIPTION_MAX,
    OPTIONAL_TEXT_MAX,
    SHORT_TEXT_MAX,
    Harm,
    Severity,
)


def _text(
    texts: Texts,
    field: str,
    *,
    required: bool,
    max_length: int,
    multiline: bool = False,
    value: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.Text",
        "id": field,
        "label": texts(f"card.label_{field}"),
        "placeholder": texts(f"card.placeholder_{field}"),
        "maxLength": max_length,
        "isMultiline": multiline,
        "isRequired": required,
    }
    if required:
        element["errorMessage"] = texts(f"card.error_{field}")
    if value:
        element["value"] = value
    return element


def _choices(texts: Texts, field: str, codes: Any, *, style: str) -> dict[str, Any]:
    titled = [(texts(f"{field}.{c.value}"), c.value) for c in codes]
    return _choice_set(texts, field, titled, style=style)


def _choice_set(
    texts: Texts, field: str, titled: list[tuple[str, str]], *, style: str
) -> dict[str, Any]:
    element = {
        "type": "Input.ChoiceSet",
        "id": field,
        "label": texts(f"card.label_{field}"),
        "style": style,
        "isRequired": True,
        "errorMessage": texts(f"card.error_{field}"),
        "choices": [{"title": title, "value": value} for title, value in titled],
    }
    if style == "compact":  # a closed list says what to do; radio buttons show it
        element["placeholder"] = texts(f"card.placeholder_{field}")
    return element


def report_form_card(
    texts: Texts,
    *,
    card_id: str,
    conversation_id: str,
    now: datetime,
    own_unit: str | None,
    categories: Categories,
) -> Card:
    """`categories`: the municipality's list; a retired one is not offered."""
    offered = [(c.label(texts.language), c.code) for c in categories.active()]
    today = to_oslo(now).date().isoformat()
    body = [
        heading(texts("card.form_title")),
        paragraph(texts("card.form_intro"), subtle=True),
        _text(texts, "description", required=True, max_length=DESCRIPTION_MAX, multiline=True),
        _choices(texts, "harm", Harm, style="expanded"),
        _choice_set(texts, "category", offered, style="compact"),
        _choices(texts, "severity", Severity, style="expanded"),
        paragraph(texts("card.severity_help"), subtle=True),
        _text(texts, "unit", required=True, max_length=SHORT_TEXT_MAX, value=own_unit),
        _text(texts, "location", required=True, max_length=SHORT_TEXT_MAX),
        {
            "type": "Input.Date",
            "id": "date",
            "label": texts("card.label_date"),
            "value": today,
            "max": today,
            "isRequired": True,
            "errorMessage": texts("card.error_date"),
        },
        {"type": "Input.Time", "id": "time", "label": texts("card.label_time")},
        _text(
            texts, "immediate_action", required=False, max_length=OPTIONAL_TEXT_MAX, multiline=True
        ),
        _text(
            texts, "suggested_measure", required=False, max_length=OPTIONAL_TEXT_MAX, multiline=True
        ),
        {
            "type": "Input.Toggle",
            "id": "anonymous",
            "title": texts("card.label_anonymous"),
            "value": "false",
            "valueOn": "true",
            "valueOff": "false",
        },
        paragraph(texts("card.anonymous_help"), subtle=True),
        # Off: free text that looks like a fødselsnummer, phone or e-mail is refused, with why.
        {
            "type": "Input.Toggle",
            "id": "keep_sensitive",
            "title": texts("card.label_keep_sensitive"),
            "value": "false",
            "valueOn": "true",
            "valueOff": "false",
            "wrap": True,
        },
    ]
    submit = {
        "type": "Action.Submit",
        "title": texts("report.submit"),
        "style": "positive",
        "data": {"action": SUBMIT_REPORT, "card": card_id, "conversation": conversation_id},
    }
    return adaptive_card(body, [submit])
