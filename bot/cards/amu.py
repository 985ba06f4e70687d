"""The adviser's «AMU-rapport»: what the quarter came to, and the PDF and XLSX behind signed
links (bot/statistics/links.py), fetched with the adviser's rights at the time."""

from __future__ import annotations

from typing import Any

from bot.cards import Card, adaptive_card, heading, paragraph
from domain.i18n import Texts


def amu_card(
    texts: Texts, *, title: str, lines: list[str], pdf: str | None, xlsx: str | None
) -> Card:
    body: list[dict[str, Any]] = [heading(title), *(paragraph(line) for line in lines)]
    actions: list[dict[str, Any]] = []
    if pdf is not None and xlsx is not None:
        body.append(paragraph(texts("amu.card_files"), subtle=True))
        actions = [
            {"type": "Action.OpenUrl", "title": texts("amu.card_pdf"), "url": pdf},
            {"type": "Action.OpenUrl", "title": texts("amu.card_xlsx"), "url": xlsx},
        ]
    else:
        body.append(paragraph(texts("stats.no_links"), subtle=True))
    return adaptive_card(body, actions or None, fallback_text=title)
