"""The receipt: what was registered, under which case number."""

from __future__ import annotations

from bot.cards import Card, adaptive_card, facts, heading, paragraph
from dialogs.report_draft import ReportDraft
from domain.categories import Categories
from domain.i18n import Texts
from domain.oslo_time import format_moment


def receipt_card(
    texts: Texts,
    *,
    case_number: str,
    draft: ReportDraft,
    categories: Categories,
    first: bool = False,
) -> Card:
    """The case number and what was stored; after someone's first report, an offer of the
    training («opplæring»)."""
    when = format_moment(draft.occurred, texts, time_known=draft.occurred_time_known)
    offer = [paragraph(texts("training.offer"), subtle=True)] if first else []
    return adaptive_card(
        [
            heading(texts("card.receipt_title", case=case_number)),
            facts(
                [
                    (texts("card.case_number"), case_number),
                    (texts("field.category"), categories.label(draft.category, texts.language)),
                    (texts("field.severity"), texts(f"severity.{draft.severity}")),
                    (texts("field.unit"), draft.unit_name or texts("field.not_given")),
                    (texts("field.when"), when),
                    (texts("card.status"), texts("status.new")),
                ]
            ),
            paragraph(texts("card.receipt_next")),
            *offer,
        ],
        fallback_text=texts("report.receipt", case=case_number),
    )


def sent_form_card(texts: Texts, *, case_number: str, draft: ReportDraft) -> Card:
    """What the filled-in form becomes once stored: the reporter's own words and the case
    number, with no button left to press. The receipt itself follows as a new message."""
    return adaptive_card(
        [
            heading(texts("card.form_title")),
            paragraph(draft.description or ""),
            paragraph(texts("card.form_sent", case=case_number), subtle=True),
        ],
        fallback_text=texts("card.form_sent", case=case_number),
    )
