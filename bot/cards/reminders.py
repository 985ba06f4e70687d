"""The weekly digest for a leader, and the adviser's «forfalne»: what is open and what is
overdue, oldest first, each with a button that opens the report's card."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from bot.cards import Card, adaptive_card, heading, list_item, paragraph, show_button
from bot.desks.handling import SHOW
from domain.handling_times import HandlingFigures
from domain.i18n import Texts
from domain.oslo_time import format_date
from domain.vocabulary import Status
from storage.handling import OpenLine
from storage.reminders import Overdue

DIGEST_OLDEST = 3  # reports shown by name in the digest
OVERDUE_SHOWN = 15  # of each kind in «forfalne»; the rest are counted


def _show(texts: Texts, report_id: int, case: str) -> dict[str, Any]:
    return show_button(texts("open.show", case=case), {"action": SHOW, "report": report_id})


def _handled_line(texts: Texts, open_count: int, figures: HandlingFigures | None) -> str | None:
    """«Eininga di i år: 3 opne, median 1,0 arbeidsdag til motteke.»"""
    if figures is None or figures.acknowledge_median is None:
        return None
    median = f"{figures.acknowledge_median:.1f}"
    if texts.language != "en":
        median = median.replace(".", ",")
    return texts("digest.handling", open=open_count, median=median)


def digest_card(
    texts: Texts, lines: Sequence[OpenLine], handled: HandlingFigures | None = None
) -> Card:
    """Open reports in the leader's units: how many in each state, the oldest by name, and
    how fast the units have acknowledged this year's avvik."""
    counts = Counter(line.status for line in lines)
    body: list[dict[str, Any]] = [
        heading(texts("digest.title", count=len(lines))),
        paragraph(
            texts(
                "digest.counts",
                new=counts[Status.NEW],
                acknowledged=counts[Status.ACKNOWLEDGED],
                in_progress=counts[Status.IN_PROGRESS],
            )
        ),
    ]
    handled_line = _handled_line(texts, len(lines), handled)
    if handled_line is not None:
        body.append(paragraph(handled_line))
    body.append(paragraph(texts("digest.oldest")))
    for line in lines[:DIGEST_OLDEST]:
        body.append(
            list_item(
                texts(
                    "digest.line",
                    case=line.case_number,
                    status=texts(f"status.{line.status.value}"),
                ),
                texts(
                    "digest.detail", date=format_date(line.reported_at), unit=line.unit_name or "–"
                ),
                _show(texts, line.id, line.case_number),
            )
        )
    body.append(paragraph(texts("digest.all"), subtle=True))
    return adaptive_card(body, fallback_text=texts("digest.title", count=len(lines)))


def overdue_card(texts: Texts, overdue: Overdue, *, acknowledge_days: int) -> Card:
    late, measures = overdue.not_acknowledged, overdue.measures_overdue
    body: list[dict[str, Any]] = [heading(texts("overdue.title"))]
    if not late and not measures:
        body.append(paragraph(texts("overdue.none")))
    if late:
        body.append(
            paragraph(texts("overdue.not_acknowledged", days=acknowledge_days, count=len(late)))
        )
        for report in late[:OVERDUE_SHOWN]:
            body.append(
                list_item(
                    report.case_number,
                    texts(
                        "overdue.report_detail",
                        unit=report.unit_name or "–",
                        date=format_date(report.reported_at),
                    ),
                    _show(texts, report.report_id, report.case_number),
                )
            )
        if len(late) > OVERDUE_SHOWN:
            body.append(paragraph(texts("overdue.more", count=len(late) - OVERDUE_SHOWN)))
    if measures:
        body.append(paragraph(texts("overdue.measures", count=len(measures))))
        for measure in measures[:OVERDUE_SHOWN]:
            body.append(
                list_item(
                    measure.case_number,
                    texts(
                        "overdue.measure_detail",
                        what=measure.description,
                        unit=measure.unit_name or "–",
                        due=measure.due.strftime("%d.%m.%Y"),
                    ),
                    _show(texts, measure.report_id, measure.case_number),
                )
            )
        if len(measures) > OVERDUE_SHOWN:
            body.append(paragraph(texts("overdue.more", count=len(measures) - OVERDUE_SHOWN)))
    return adaptive_card(body, fallback_text=texts("overdue.title"))
