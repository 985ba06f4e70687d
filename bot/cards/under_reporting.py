"""The HMS adviser's list of units that may be under-reporting, with the numbers behind each
and how they were worked out (`domain.under_reporting`). Counts only: it names no reporter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.cards import Card, adaptive_card, facts, heading, list_item, paragraph
from domain.i18n import Texts
from domain.under_reporting import Comparison, Flagged

_P_SHOWN_DOWN_TO = 0.001


def decimal(texts: Texts, value: float, digits: int = 1) -> str:
    """`4,1` in Norwegian, `4.1` in English."""
    return f"{value:.{digits}f}".replace(".", texts("under_reporting.decimal_separator"))


def p_value_text(texts: Texts, p_value: float) -> str:
    if p_value < _P_SHOWN_DOWN_TO:
        return texts("under_reporting.p_tiny")
    return decimal(texts, p_value, 3)


def _comparison_facts(texts: Texts, comparison: Comparison | None) -> list[tuple[str, str]]:
    t = texts
    if comparison is None:
        return [(t("under_reporting.comparison"), t("under_reporting.not_compared"))]
    return [
        (
            t("under_reporting.comparison"),
            t(
                "under_reporting.comparison_value",
                rate=decimal(t, comparison.median_rate_per_10),
                units=comparison.compared_with,
            ),
        ),
        (t("under_reporting.expected"), decimal(t, comparison.expected)),
        (t("under_reporting.p_value"), p_value_text(t, comparison.p_value)),
    ]


def _unit(texts: Texts, item: Flagged) -> dict[str, Any]:
    t, unit = texts, item.unit
    year = str(unit.reports_12_months)
    if item.comparison is not None:
        year = t(
            "under_reporting.per_ten", count=year, rate=decimal(t, item.comparison.rate_per_10)
        )
    headcount = str(unit.headcount) if unit.headcount is not None else None
    pairs = [
        (t("under_reporting.headcount"), headcount or t("under_reporting.headcount_unknown")),
        (t("under_reporting.reports_12_months"), year),
        (t("under_reporting.reports_90_days"), str(unit.reports_90_days)),
        *_comparison_facts(t, item.comparison),
    ]
    return list_item(
        t("under_reporting.line", unit=unit.name, department=unit.department),
        " · ".join(t(f"under_reporting.reason_{reason.value}") for reason in item.reasons),
        facts(pairs),
    )


def under_reporting_card(texts: Texts, flagged: Sequence[Flagged]) -> Card:
    title = texts("under_reporting.title", count=len(flagged))
    body: list[dict[str, Any]] = [heading(title)]
    if not flagged:
        body.append(paragraph(texts("under_reporting.none")))
    body.extend(_unit(texts, item) for item in flagged)
    body.append(paragraph(texts("under_reporting.rule"), subtle=True))
    return adaptive_card(body, fallback_text=title)
