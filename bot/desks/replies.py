"""What the bot says outside a dialog. Pure: data and texts in, message text out."""

from __future__ import annotations

from collections.abc import Sequence

from domain.categories import Categories
from domain.i18n import Texts
from domain.oslo_time import format_date
from storage.reports import ReportLine


def help_text(texts: Texts) -> str:
    return "\n\n".join(
        texts(key) for key in ("help.definition", "help.example", "help.why", "help.general")
    )


def welcome_text(texts: Texts) -> str:
    return "\n\n".join(texts(key) for key in ("menu.greeting", "help.definition", "menu.what_now"))


def my_reports_text(lines: Sequence[ReportLine], texts: Texts, categories: Categories) -> str:
    if not lines:
        return texts("mine.none")
    rows = [
        texts(
            "mine.line",
            case=line.case_number,
            date=format_date(line.reported_at),
            category=categories.label(line.category, texts.language),
            severity=texts(f"severity.{line.severity}"),
            status=texts(f"status.{line.status}"),
        )
        for line in lines
    ]
    return "\n\n".join([texts("mine.title"), *rows])


def menu_buttons(texts: Texts) -> list[str]:
    return [texts("menu.button_report"), texts("menu.button_mine"), texts("menu.button_help")]
