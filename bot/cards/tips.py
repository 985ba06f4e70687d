"""The adviser's tips as cards: the form to write one, the tip as its readers see it (with
«Nyttig» / «Ikkje nyttig»), the preview's send/change/cancel, the sending's report, and the
library of tips."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.cards import Card, adaptive_card, facts, heading, list_item, paragraph
from bot.cards.training import TRAINING
from domain.i18n import Texts
from domain.tips import (
    LINKS_MAX,
    SECTION_MAX,
    SECTIONS,
    TITLE_MAX,
    AudienceKind,
    Tip,
    When,
)
from domain.vocabulary import Role
from storage.tips import Figures, StoredTip

COMPOSE = "tip.compose"  # the form's «Førehandsvis»
SEND, EDIT, DISCARD = "tip.send", "tip.edit", "tip.discard"
CANCEL, AGAIN, VOTE = "tip.cancel", "tip.again", "tip.vote"
ACTIONS = (COMPOSE, SEND, EDIT, DISCARD, CANCEL, AGAIN, VOTE)
INPUTS = (
    "tip_title",
    *(f"tip_{name}" for name in SECTIONS),
    "tip_links",
    "tip_audience",
    "tip_when",
    "tip_date",
    "tip_time",
    "tip_every",
    "tip_deadline_date",  # not «tip_deadline»: that is the «Frist» section's text
    "tip_days_before",
)


@dataclass(frozen=True)
class Place:
    value: str  # «dep:3», «unit:7»
    title: str


def _text_input(
    texts: Texts, name: str, value: str, *, multiline: bool, most: int, required: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.Text",
        "id": f"tip_{name}",
        "label": texts(f"tips.label_{name}"),
        "isMultiline": multiline,
        "maxLength": most,
        "value": value,
    }
    if required:
        element["isRequired"] = True
        element["errorMessage"] = texts(f"tips.error_{name}")
    if name == "links":
        element["placeholder"] = texts("tips.placeholder_links")
    return element


def audience_value(stored: StoredTip | None) -> str:
    if stored is None:
        return AudienceKind.LEADERS.value
    audience = stored.audience
    if audience.kind is AudienceKind.PLACES:
        return ",".join(
            [*(f"dep:{d}" for d in audience.departments), *(f"unit:{u}" for u in audience.units)]
        )
    if audience.kind is AudienceKind.ROLE and audience.role:
        return f"role:{audience.role.value}"
    return audience.kind.value


def compose_card(texts: Texts, places: Sequence[Place], stored: StoredTip | None = None) -> Card:
    tip = stored.tip if stored else Tip("")
    schedule = stored.schedule if stored else None
    links = "\n".join(f"{link.title} | {link.url}" for link in tip.links)
    body: list[dict[str, Any]] = [
        heading(texts("tips.compose_title")),
        paragraph(texts("tips.compose_intro"), subtle=True),
        _text_input(texts, "title", tip.title, multiline=False, most=TITLE_MAX, required=True),
    ]
    for name in SECTIONS:
        body.append(
            _text_input(texts, name, tip.sections.get(name, ""), multiline=True, most=SECTION_MAX)
        )
    body.append(_text_input(texts, "links", links, multiline=True, most=LINKS_MAX * 300))
    choices = [
        {"title": texts("tips.audience_leaders"), "value": AudienceKind.LEADERS.value},
        {"title": texts("tips.audience_everyone"), "value": AudienceKind.EVERYONE.value},
        {"title": texts("tips.audience_safety_reps"), "value": f"role:{Role.SAFETY_REP.value}"},
        *({"title": p.title, "value": p.value} for p in places),
    ]
    body.append(
        {
            "type": "Input.ChoiceSet",
            "id": "tip_audience",
            "label": texts("tips.label_audience"),
            "isMultiSelect": True,
            "style": "compact",
            "choices": choices,
            "value": audience_value(stored),
        }
    )
    when = schedule.when.value if schedule else When.NOW.value
    at = schedule.at if schedule and schedule.at else None
    body += [
        {
            "type": "Input.ChoiceSet",
            "id": "tip_when",
            "label": texts("tips.label_when"),
            "style": "expanded",
            "choices": [{"title": texts(f"tips.when_{w.value}"), "value": w.value} for w in When],
            "value": when,
        },
        {
            "type": "Input.Date",
            "id": "tip_date",
            "label": texts("tips.label_date"),
            **({"value": at.date().isoformat()} if at else {}),
        },
        {
            "type": "Input.Time",
            "id": "tip_time",
            "label": texts("tips.label_time"),
            "value": at.strftime("%H:%M") if at else "09:00",
        },
        {
            "type": "Input.Number",
            "id": "tip_every",
            "label": texts("tips.label_every"),
            "min": 1,
            "max": 52,
            **({"value": schedule.every_weeks} if schedule and schedule.every_weeks else {}),
        },
        {
            "type": "Input.Date",
            "id": "tip_deadline_date",
            "label": texts("tips.label_deadline_date"),
            **({"value": schedule.deadline.isoformat()} if schedule and schedule.deadline else {}),
        },
        {
            "type": "Input.Number",
            "id": "tip_days_before",
            "label": texts("tips.label_days_before"),
            "min": 1,
            "max": 60,
            **({"value": schedule.days_before} if schedule and schedule.days_before else {}),
        },
    ]
    data: dict[str, Any] = {"action": COMPOSE}
    if stored is not None:
        data["tip"] = stored.id
    actions = [{"type": "Action.Submit", "title": texts("tips.preview"), "data": data}]
    return adaptive_card(body, actions, fallback_text=texts("tips.compose_title"))


def tip_card(texts: Texts, tip: Tip, *, delivery_id: int) -> Card:
    """The tip as a leader sees it, in the language it was written in. `delivery_id` 0: the
    adviser's preview, whose vote buttons count nothing."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": texts("tips.kicker"),
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        },
        heading(tip.title),
    ]
    for name in SECTIONS:
        text = tip.sections.get(name)
        if text:
            body.append(
                {
                    "type": "TextBlock",
                    "text": texts(f"tips.section_{name}"),
                    "weight": "Bolder",
                    "wrap": True,
                    "spacing": "Medium",
                }
            )
            body.append(paragraph(text))
    if tip.links:
        # The links right under what they belong to; the votes last, set apart.
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    {"type": "Action.OpenUrl", "title": link.title, "url": link.url}
                    for link in tip.links
                ],
            }
        )
    if tip.training:
        # The module the tip is about, one press away (bot/desks/training_desk.py).
        start = {"action": TRAINING, "op": "start", "module": tip.training, "step": 0}
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    {
                        "type": "Action.Submit",
                        "title": texts("tips.start_training"),
                        "data": start,
                        "style": "positive",
                    }
                ],
            }
        )
    body.append(
        {
            "type": "ActionSet",
            "separator": True,
            "spacing": "Medium",
            "actions": [
                {
                    "type": "Action.Submit",
                    "title": texts("tips.useful"),
                    "data": {"action": VOTE, "delivery": delivery_id, "useful": True},
                },
                {
                    "type": "Action.Submit",
                    "title": texts("tips.not_useful"),
                    "data": {"action": VOTE, "delivery": delivery_id, "useful": False},
                },
            ],
        }
    )
    return adaptive_card(body, fallback_text=tip.title)


def preview_card(
    texts: Texts,
    stored: StoredTip,
    *,
    recipients: int,
    reachable: int,
    when: str,
    moved: str | None,
) -> Card:
    body: list[dict[str, Any]] = [
        heading(texts("tips.preview_title")),
        paragraph(texts("tips.preview_count", count=recipients, reachable=reachable)),
        paragraph(texts("tips.preview_when", when=when)),
    ]
    if moved:
        body.append({**paragraph(moved), "color": "Attention"})
    if recipients == 0:
        body.append({**paragraph(texts("tips.problem_nobody")), "color": "Attention"})
    control = {"tip": stored.id, "version": stored.version}
    actions: list[dict[str, Any]] = []
    if recipients:
        actions.append(
            {
                "type": "Action.Submit",
                "title": texts("tips.send"),
                "style": "positive",
                "data": {"action": SEND, **control},
            }
        )
    actions += [
        {"type": "Action.Submit", "title": texts("tips.edit"), "data": {"action": EDIT, **control}},
        {
            "type": "Action.Submit",
            "title": texts("tips.discard"),
            "data": {"action": DISCARD, **control},
        },
    ]
    return adaptive_card(body, actions, fallback_text=texts("tips.preview_title"))


def report_card(
    texts: Texts, stored: StoredTip, figures: Figures, *, started: str, stoppable: bool
) -> Card:
    failed = sum(figures.failed.values())
    waiting = sum(figures.waiting.values())
    body: list[dict[str, Any]] = [
        heading(texts("tips.report_title", title=stored.tip.title)),
        paragraph(texts("tips.report_started", when=started), subtle=True),
        facts(
            [
                (texts("tips.report_recipients"), str(figures.recipients)),
                (texts("tips.report_sent"), str(figures.sent)),
                (texts("tips.report_queued"), str(figures.queued)),
                (texts("tips.report_failed"), str(failed)),
                (texts("tips.report_waiting"), str(waiting)),
                (texts("tips.useful"), str(figures.useful)),
                (texts("tips.not_useful"), str(figures.not_useful)),
            ]
        ),
    ]
    reasons = sorted({**figures.failed, **figures.waiting}.items(), key=lambda r: -r[1])
    for reason, count in reasons[:5]:
        body.append(paragraph(texts("tips.report_reason", count=count, reason=reason), subtle=True))
    actions = None
    if stoppable:
        actions = [
            {
                "type": "Action.Submit",
                "title": texts("tips.stop"),
                "style": "destructive",
                "data": {"action": CANCEL, "tip": stored.id},
            }
        ]
    return adaptive_card(
        body, actions, fallback_text=texts("tips.report_title", title=stored.tip.title)
    )


@dataclass(frozen=True)
class LibraryLine:
    stored: StoredTip
    when: str
    sent: int
    useful: int
    not_useful: int
    cancellable: bool


def library_card(texts: Texts, lines: Sequence[LibraryLine]) -> Card:
    body: list[dict[str, Any]] = [heading(texts("tips.library_title"))]
    if not lines:
        body.append(paragraph(texts("tips.library_none")))
    for line in lines:
        buttons = [
            {
                "type": "Action.Submit",
                "title": texts("tips.again"),
                "data": {"action": AGAIN, "tip": line.stored.id},
            }
        ]
        if line.cancellable:
            buttons.append(
                {
                    "type": "Action.Submit",
                    "title": texts("tips.cancel"),
                    "data": {"action": CANCEL, "tip": line.stored.id},
                }
            )
        body.append(
            list_item(
                line.stored.tip.title,
                texts(
                    "tips.library_line",
                    status=texts(f"tips.status_{line.stored.status}"),
                    when=line.when,
                    sent=line.sent,
                    useful=line.useful,
                    not_useful=line.not_useful,
                ),
                {"type": "ActionSet", "actions": buttons},
            )
        )
    return adaptive_card(body, fallback_text=texts("tips.library_title"))


def day(value: date) -> str:
    return value.strftime("%d.%m.%Y")
