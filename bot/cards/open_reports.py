"""«Opne avvik»: what is waiting for the leader, the longest waiting first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.cards import Card, adaptive_card, heading, list_item, paragraph, show_button
from bot.desks.handling import SHOW
from domain.categories import Categories
from domain.i18n import Texts
from domain.oslo_time import format_date
from storage.handling import OpenLine


def open_reports_card(texts: Texts, lines: Sequence[OpenLine], categories: Categories) -> Card:
    body: list[dict[str, Any]] = [heading(texts("open.title", count=len(lines)))]
    if not lines:
        body.append(paragraph(texts("open.none")))
    for line in lines:
        body.append(
            list_item(
                texts(
                    "open.line",
                    case=line.case_number,
                    severity=texts(f"severity.{line.severity}"),
                    status=texts(f"status.{line.status.value}"),
                ),
                texts(
                    "open.detail",
                    date=format_date(line.reported_at),
                    unit=line.unit_name or "–",
                    category=categories.label(line.category, texts.language),
                ),
                show_button(
                    texts("open.show", case=line.case_number), {"action": SHOW, "report": line.id}
                ),
            )
        )
    return adaptive_card(body, fallback_text=texts("open.title", count=len(lines)))
