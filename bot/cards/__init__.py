"""Adaptive Cards (version 1.5) built from data as plain JSON; validated in the tests."""

from __future__ import annotations

from typing import Any

Card = dict[str, Any]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SUBMIT_REPORT = "avvik.report.submit"


def adaptive_card(
    body: list[dict[str, Any]],
    actions: list[dict[str, Any]] | None = None,
    *,
    fallback_text: str | None = None,
) -> Card:
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    if fallback_text:
        # Shown by clients that cannot draw the card, and read by screen readers.
        card["fallbackText"] = fallback_text
    return card


def heading(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "size": "Medium", "weight": "Bolder", "wrap": True}


def paragraph(text: str, *, subtle: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": text, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    return block


def facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in pairs]}


def list_item(title: str, detail: str, *more: dict[str, Any]) -> dict[str, Any]:
    """One entry of a list card: a bold line, a quiet line under it, and anything else."""
    bold = {"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}
    return {
        "type": "Container",
        "separator": True,
        "items": [bold, paragraph(detail, subtle=True), *more],
    }


def show_button(title: str, data: dict[str, Any]) -> dict[str, Any]:
    """One button under a list item (open a report, for instance)."""
    return {
        "type": "ActionSet",
        "actions": [{"type": "Action.Submit", "title": title, "data": data}],
    }
