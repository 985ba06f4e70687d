"""«Statistikk»: the year beside the year before, with charts and downloads.

Pure: the statistics document, the reader's texts and the links in, a card out. Numbers are
written the Norwegian way (1 317, −5,0 %) in nn and nb, and the English way in en.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.cards import Card, adaptive_card, facts, heading, paragraph
from domain.access import Scope
from domain.i18n import Texts
from storage.stats import Pair, Statistics, UnitFigures

STATS = "avvik.stats"
UNDER_REPORTING = "avvik.under_reporting"
# A card is read on a phone too: beyond this many units, the spreadsheet has them all.
MAX_UNITS_SHOWN = 12


@dataclass(frozen=True)
class StatsLinks:
    charts: Mapping[str, str]  # chart name → URL
    csv: str
    xlsx: str


def number(texts: Texts, value: float, *, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    if texts.language == "en":
        return text
    # Norwegian: a (narrow) space between thousands, a comma for decimals.
    return text.replace(",", "\u202f").replace(".", ",")


def signed(texts: Texts, value: float, *, decimals: int = 0) -> str:
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + number(texts, abs(value), decimals=decimals)


def change_text(texts: Texts, pair: Pair) -> str:
    if pair.change_percent is None:
        return texts("stats.change_no_percent", change=signed(texts, pair.change))
    return texts(
        "stats.change",
        change=signed(texts, pair.change),
        percent=signed(texts, pair.change_percent, decimals=1),
    )


def _pair_value(texts: Texts, pair: Pair, previous_year: int) -> str:
    return texts(
        "stats.pair",
        count=number(texts, pair.count),
        previous_year=previous_year,
        previous=number(texts, pair.previous),
    )


def _month_name(texts: Texts, month: int) -> str:
    return texts.words("stats.month_names")[month - 1]


def _headline(texts: Texts, stats: Statistics) -> list[dict[str, Any]]:
    year, before = stats.year, stats.year - 1
    if stats.complete_months >= 12:
        line = texts(
            "stats.total_year",
            year=year,
            count=number(texts, stats.total.count),
            previous_year=before,
            previous=number(texts, stats.total.previous),
            change=change_text(texts, stats.total),
        )
        return [paragraph(line)]
    blocks = [
        paragraph(texts("stats.total_so_far", year=year, count=number(texts, stats.total.count)))
    ]
    if stats.complete_months > 0:
        comparable = stats.comparable
        months = (
            _month_name(texts, 1)
            if stats.complete_months == 1
            else f"{_month_name(texts, 1)}–{_month_name(texts, stats.complete_months)}"
        )
        blocks.append(
            paragraph(
                texts(
                    "stats.comparable",
                    months=months,
                    year=year,
                    count=number(texts, comparable.count),
                    previous_year=before,
                    previous=number(texts, comparable.previous),
                    change=change_text(texts, comparable),
                )
            )
        )
    return blocks


def _busiest_month(texts: Texts, stats: Statistics) -> dict[str, Any] | None:
    counts = [m.count for m in stats.months]
    if not any(counts):
        return None
    month = counts.index(max(counts)) + 1
    return paragraph(
        texts(
            "stats.busiest_month",
            month=_month_name(texts, month),
            count=number(texts, max(counts)),
        )
    )


def _image(url: str, alt: str) -> dict[str, Any]:
    return {"type": "Image", "url": url, "altText": alt, "size": "Stretch"}


def _section(title: str) -> dict[str, Any]:
    return {
        "type": "TextBlock",
        "text": title,
        "weight": "Bolder",
        "wrap": True,
        "separator": True,
        "spacing": "Medium",
    }


def scope_title(texts: Texts, scope: Scope) -> str:
    """Whose figures: «heile kommunen», a department, or «einingane dine»."""
    if scope.department is not None:
        return texts("stats.scope_department", department=scope.department)
    if scope.unit_ids is not None:
        return texts("stats.scope_units")
    return texts("stats.scope_all")


def statistics_card(
    texts: Texts,
    stats: Statistics,
    *,
    scope_title: str,
    links: StatsLinks | None,
    can_see_under_reporting: bool,
) -> Card:
    before = stats.year - 1
    title = texts("stats.title", year=stats.year, scope=scope_title)
    body: list[dict[str, Any]] = [heading(title), *_headline(texts, stats)]
    busiest = _busiest_month(texts, stats)
    if busiest is not None:
        body.append(busiest)
    charts = links.charts if links else {}

    def chart(name: str) -> None:
        if name in charts:
            body.append(_image(charts[name], texts(f"stats.alt_{name}", year=stats.year)))

    chart("months")
    body.append(_section(texts("stats.by_severity")))
    body.append(
        facts(
            [
                (texts(f"severity.{code.value}"), _pair_value(texts, pair, before))
                for code, pair in stats.severities
            ]
        )
    )
    chart("severity")
    body.append(_section(texts("stats.by_category")))
    ranked = sorted(stats.categories, key=lambda item: -item[1].count)
    body.append(
        facts(
            [
                (code.label(texts.language), _pair_value(texts, pair, before))
                for code, pair in ranked
                if pair.count or pair.previous
            ]
            or [(texts("stats.nothing"), "–")]
        )
    )
    chart("category")
    if len(stats.departments) > 1:
        body.append(_section(texts("stats.by_department")))
        body.append(
            facts(
                [
                    (name or texts("stats.unknown_unit"), _pair_value(texts, pair, before))
                    for name, pair in stats.departments
                ]
            )
        )
        chart("departments")
    if stats.scope.unit_ids is not None or stats.scope.department is not None:
        shown = stats.units[:MAX_UNITS_SHOWN]
        body.append(_section(texts("stats.by_unit")))
        body.append(facts([(_unit_title(texts, u.name), _unit_value(texts, u)) for u in shown]))
        if len(stats.units) > len(shown):
            body.append(paragraph(texts("stats.more_units", count=len(stats.units)), subtle=True))
    body += _handling(texts, stats)
    sick_leave = _sick_leave_facts(texts, stats)
    if sick_leave:
        body.append(_section(texts("stats.sick_leave_title", year=stats.year)))
        body.append(facts(sick_leave))
        body.append(paragraph(texts("stats.sick_leave_note"), subtle=True))
    body.append(paragraph(texts("stats.counted_by"), subtle=True))
    if links is None:
        body.append(paragraph(texts("stats.no_links"), subtle=True))

    actions: list[dict[str, Any]] = []
    if links is not None:
        actions.append({"type": "Action.OpenUrl", "title": texts("stats.xlsx"), "url": links.xlsx})
        actions.append({"type": "Action.OpenUrl", "title": texts("stats.csv"), "url": links.csv})
    previous_year: dict[str, Any] = {"action": STATS, "year": before}
    if stats.scope.department is not None:
        previous_year["department"] = stats.scope.department
    actions.append(
        {
            "type": "Action.Submit",
            "title": texts("stats.show_year", year=before),
            "data": previous_year,
        }
    )
    if can_see_under_reporting:
        actions.append(
            {
                "type": "Action.Submit",
                "title": texts("stats.under_reporting"),
                "data": {"action": UNDER_REPORTING},
            }
        )
    return adaptive_card(body, actions, fallback_text=title)


def _days(texts: Texts, days: float | None) -> str:
    return "–" if days is None else texts("stats.days", days=number(texts, days, decimals=1))


def _share(texts: Texts, part: int, whole: int) -> str:
    if not whole:
        return "–"
    percent = number(texts, 100 * part / whole)
    return texts("stats.share", percent=percent, part=part, whole=whole)


def _handling(texts: Texts, stats: Statistics) -> list[dict[str, Any]]:
    """How fast the year's avvik were handled, and what the leaders found: the figures an HMS
    adviser follows up (docs/statistics.md, «handling»)."""
    section = stats.handling
    if section is None or not section.everything.reports:
        return []
    figures = section.everything
    lines = [
        (texts("stats.acknowledge_median"), _days(texts, figures.acknowledge_median)),
        (texts("stats.acknowledge_p90"), _days(texts, figures.acknowledge_p90)),
        (
            texts("stats.acknowledged_in_time"),
            _share(texts, figures.acknowledged_in_time, figures.acknowledge_due),
        ),
        (texts("stats.close_median"), _days(texts, figures.close_median)),
        (
            texts("stats.closed_in_time"),
            _share(texts, figures.closed_in_time, figures.close_due),
        ),
        (
            texts("stats.open_at_end")
            if stats.complete_months < 12
            else texts("stats.open_at_year_end", year=stats.year),
            number(texts, figures.open_at_end),
        ),
        (
            texts("stats.judged"),
            texts(
                "stats.judged_value",
                severity=section.severity_changed,
                category=section.category_changed,
            ),
        ),
    ]
    if section.causes:
        top = ", ".join(
            f"{section.cause_list.label(code, texts.language)} ({n})"
            for code, n in section.causes[:3]
        )
        lines.append((texts("stats.top_causes"), top))
    unanswered = sum(d.unanswered for d in section.duties)
    if section.duties:
        lines.append((texts("stats.duties_unanswered"), number(texts, unanswered)))
    body = [_section(texts("stats.handling_title")), facts(lines)]
    note = texts("stats.handling_note")
    if figures.unknown:
        note += " " + texts("stats.handling_unknown", count=number(texts, figures.unknown))
    body.append(paragraph(note, subtle=True))
    return body


def _unit_title(texts: Texts, name: str | None) -> str:
    return name or texts("stats.unknown_unit")


def _unit_value(texts: Texts, unit: UnitFigures) -> str:
    value = texts(
        "stats.unit_value",
        count=number(texts, unit.counts.count),
        previous=number(texts, unit.counts.previous),
    )
    if unit.per_10_employees is not None:
        value += " · " + texts(
            "stats.per_10", rate=number(texts, unit.per_10_employees, decimals=1)
        )
    return value


def _sick_leave_facts(texts: Texts, stats: Statistics) -> list[tuple[str, str]]:
    """Quarter by quarter: the avvik beside the sector's sick leave, and beside each unit's
    own figure where the scope is a few units."""
    lines: list[tuple[str, str]] = []
    for quarter in stats.quarters:
        if quarter.sick_leave_percent is None:
            continue
        lines.append(
            (
                texts("stats.quarter", quarter=quarter.quarter),
                texts(
                    "stats.quarter_sector",
                    count=number(texts, quarter.counts.count),
                    percent=number(texts, quarter.sick_leave_percent, decimals=1),
                ),
            )
        )
    if stats.scope.unit_ids is None:
        return lines
    for unit in stats.units[:MAX_UNITS_SHOWN]:
        for quarter in unit.quarters:
            if quarter.sick_leave_percent is None:
                continue
            lines.append(
                (
                    texts(
                        "stats.unit_quarter",
                        unit=_unit_title(texts, unit.name),
                        quarter=quarter.quarter,
                    ),
                    texts(
                        "stats.quarter_unit",
                        count=number(texts, quarter.counts.count),
                        percent=number(texts, quarter.sick_leave_percent, decimals=1),
                    ),
                )
            )
    return lines
