"""«Mine avvik»: the reporter's latest reports and where each stands."""

from __future__ import annotations

from collections.abc import Sequence

from bot.cards import Card, adaptive_card, heading, list_item, paragraph
from bot.desks.replies import my_reports_text
from domain.categories import Categories
from domain.i18n import Texts
from domain.oslo_time import format_date
from storage.reports import ReportLine


def my_reports_card(texts: Texts, lines: Sequence[ReportLine], categories: Categories) -> Card:
    body = [heading(texts("mine.card_title"))]
    if not lines:
        body.append(paragraph(texts("mine.none")))
    for line in lines:
        category = categories.label(line.category, texts.language)
        body.append(
            list_item(
                f"{line.case_number} · {texts(f'status.{line.status}')}",
                f"{format_date(line.reported_at)} · {category}"
                f" · {texts(f'severity.{line.severity}')}",
            )
        )
    return adaptive_card(body, fallback_text=my_reports_text(lines, texts, categories))
