"""The shared risk assessment in Teams (domain.risk, docs/risk.md): a unit's assessment with
its factors and matrix, one factor to keep, adjust or mark not relevant, the adviser's overview
of a frame, and the card that ties a «vald og truslar» report to a factor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cards import Card, adaptive_card, facts, heading, list_item, paragraph, show_button
from domain.i18n import Texts
from domain.oslo_time import format_date
from domain.risk import (
    MEASURES_MAX,
    REASON_MAX,
    SCALE,
    SITUATION_MAX,
    VERNEOMBOD_MAX,
    Answer,
    Decision,
    Factor,
    Level,
    level,
    rating,
)
from storage.risk import AssessmentView, FrameInfo

RISK = "avvik.risk"


@dataclass(frozen=True)
class AssessmentLinks:
    matrix: str  # of the assessment shown
    pdf: str  # the binder's files: the last signed revision, or the draft when none is
    xlsx: str
    signed_at: datetime | None = None
    revision: int = 1


@dataclass(frozen=True)
class FrameOverview:
    frame: FrameInfo
    units: list[AssessmentView]
    adjusted: list[tuple[Factor, int, int]]  # factor, units that adjusted it, not relevant
    linked: list[tuple[str, int]]  # a factor's situation, reports tied to it
    matrix_url: str | None
    level_counts: dict[Level, int]


def _submit(title: str, op: str, **data: Any) -> dict[str, Any]:
    return {"type": "Action.Submit", "title": title, "data": {"action": RISK, "op": op, **data}}


def _rated(texts: Texts, p: int, c: int) -> str:
    return texts(
        "risk.rated", p=p, c=c, score=p * c, level=texts(f"risk.level_{level(p, c).value}")
    )


def _answer_line(texts: Texts, factor: Factor | None, answer: Answer | None) -> str:
    if answer is None:
        return texts("risk.unanswered")
    said = texts(f"risk.decision_{answer.decision.value}")
    if answer.decision is Decision.ADJUST and answer.probability and answer.consequence:
        said = f"{said}: {_rated(texts, answer.probability, answer.consequence)}"
    if answer.reason:
        said = f"{said} – {answer.reason}"
    if answer.measures:
        said = f"{said}\n\n{texts('risk.local_measures')}: {answer.measures}"
    if answer.carried:
        said = f"{said}\n\n{texts('risk.carried')}"
    return said


def _frame_rating(texts: Texts, factor: Factor) -> str:
    return f"{texts('risk.frame_rating')}: {_rated(texts, factor.probability, factor.consequence)}"


def _answered(texts: Texts, view: AssessmentView) -> str:
    return texts("risk.answered_line", answered=view.answered, factors=len(view.factors))


def _status_text(texts: Texts, view: AssessmentView) -> str:
    if view.signed_at is not None:
        return texts(
            "risk.signed_line",
            date=format_date(view.signed_at),
            signer=view.signed_by or "–",
            verneombod=view.verneombod or "–",
        )
    return texts("risk.answered_line", answered=view.answered, factors=len(view.factors))


def _scale_choices(texts: Texts, which: str, value: int, field_id: str) -> dict[str, Any]:
    return {
        "type": "Input.ChoiceSet",
        "id": field_id,
        "label": texts(f"risk.{which}"),
        "style": "compact",
        "value": str(value),
        "isRequired": True,
        "errorMessage": texts("risk.error_scale"),
        "choices": [{"title": texts(f"risk.{which}_{n}"), "value": str(n)} for n in SCALE],
    }


def _text_input(
    texts: Texts, field_id: str, label: str, max_length: int, value: str = ""
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": "Input.Text",
        "id": field_id,
        "label": texts(label),
        "isMultiline": True,
        "maxLength": max_length,
    }
    if value:
        found["value"] = value
    return found


def assessment_card(
    texts: Texts,
    view: AssessmentView,
    *,
    can_edit: bool,
    links: AssessmentLinks | None,
    note: str | None = None,
) -> Card:
    title = texts("risk.title", frame=view.frame.title, unit=view.unit)
    body: list[dict[str, Any]] = [heading(title)]
    if note:
        body.append(paragraph(f"**{note}**"))
    body.append(
        paragraph(
            texts(
                "risk.version_line",
                version=view.frame.version,
                revision=view.revision,
                department=view.department,
            ),
            subtle=True,
        )
    )
    body.append(paragraph(_status_text(texts, view)))
    # A unit that assessed the version before is asked only about what changed; one that
    # joins with this version simply starts.
    carried = any(a.carried for a in view.answers.values())
    if carried and view.signed_at is None:
        to_review = sum(1 for f in view.factors if f.key not in view.answers)
        body.append(paragraph(texts("risk.review_only", count=to_review), subtle=True))
    if not view.current:
        body.append(paragraph(texts("risk.not_current"), subtle=True))
    editable = can_edit and view.current and view.signed_at is None
    for number, factor in enumerate(view.factors, start=1):
        answer = view.answers.get(factor.key)
        lines = [
            _frame_rating(texts, factor),
            _answer_line(texts, factor, answer),
        ]
        if carried and factor.key in view.changed:
            lines.insert(0, texts("risk.changed"))
        if view.linked.get(factor.key):
            lines.append(texts("risk.linked_reports", count=view.linked[factor.key]))
        more = []
        if editable:
            button = texts("risk.change" if answer else "risk.assess")
            more.append(show_button(button, _data("factor", view, key=factor.key)))
        body.append(list_item(f"{number}. {factor.situation}", "\n\n".join(lines), *more))
    for number, answer in enumerate(view.local, start=len(view.factors) + 1):
        rated = _rated(texts, answer.probability or 0, answer.consequence or 0)
        detail = f"{texts('risk.decision_local')}: {rated}"
        if answer.measures:
            detail += f"\n\n{texts('risk.local_measures')}: {answer.measures}"
        if view.linked.get(answer.key):
            detail += "\n\n" + texts("risk.linked_reports", count=view.linked[answer.key])
        more = [_remove_local(texts, view, answer)] if editable else []
        body.append(list_item(f"{number}. {answer.situation}", detail, *more))
    body.append(paragraph(f"**{texts('risk.heading_matrix')}**"))
    if links is not None:
        body.append(
            {
                "type": "Image",
                "url": links.matrix,
                "altText": texts("risk.matrix_alt"),
                "size": "Stretch",
            }
        )
    actions: list[dict[str, Any]] = []
    if editable:
        if any(f.key not in view.answers for f in view.factors):
            actions.append(_submit(texts("risk.go_through"), "next", assessment=view.id))
        actions.append(_local_form(texts, view))
        actions.append(_sign_form(texts, view))
    elif can_edit and view.current and view.signed_at is not None:
        actions.append(_submit(texts("risk.revise"), "revise", assessment=view.id))
    if links is not None:
        for kind, url in (("pdf", links.pdf), ("xlsx", links.xlsx)):
            title = (
                texts(f"risk.{kind}_signed", date=format_date(links.signed_at))
                if links.signed_at is not None
                else texts(f"risk.{kind}_draft")
            )
            actions.append({"type": "Action.OpenUrl", "title": title, "url": url})
    return adaptive_card(body, actions or None, fallback_text=title)


def _data(op: str, view: AssessmentView, **more: Any) -> dict[str, Any]:
    return {"action": RISK, "op": op, "assessment": view.id, **more}


def _local_form(texts: Texts, view: AssessmentView) -> dict[str, Any]:
    inputs = [
        {
            "type": "Input.Text",
            "id": "risk_situation",
            "label": texts("risk.label_situation"),
            "isRequired": True,
            "maxLength": SITUATION_MAX,
            "errorMessage": texts("risk.problem_situation"),
        },
        _scale_choices(texts, "probability", 3, "risk_probability"),
        _scale_choices(texts, "consequence", 3, "risk_consequence"),
        _text_input(texts, "risk_measures", "risk.label_measures", MEASURES_MAX),
    ]
    return {
        "type": "Action.ShowCard",
        "title": texts("risk.add_local"),
        "card": {
            "type": "AdaptiveCard",
            "body": inputs,
            "actions": [_submit(texts("risk.save"), "local", assessment=view.id)],
        },
    }


def _remove_local(texts: Texts, view: AssessmentView, answer: Answer) -> dict[str, Any]:
    """«Fjern» under a local factor, asked once more (to change one: remove it, add it again)."""
    confirm = {
        "type": "AdaptiveCard",
        "body": [paragraph(texts("risk.remove_question", situation=answer.situation))],
        "actions": [
            _submit(
                texts("risk.remove_confirm"), "remove_local", assessment=view.id, key=answer.key
            )
        ],
    }
    show = {"type": "Action.ShowCard", "title": texts("risk.remove"), "card": confirm}
    return {"type": "ActionSet", "actions": [show]}


def _sign_form(texts: Texts, view: AssessmentView) -> dict[str, Any]:
    name = {
        "type": "Input.Text",
        "id": "risk_verneombod",
        "label": texts("risk.label_verneombod"),
        "isRequired": True,
        "maxLength": VERNEOMBOD_MAX,
        "errorMessage": texts("risk.problem_verneombod"),
    }
    if view.verneombod:
        name["value"] = view.verneombod
    return {
        "type": "Action.ShowCard",
        "title": texts("risk.sign"),
        "card": {
            "type": "AdaptiveCard",
            "body": [paragraph(texts("risk.sign_intro")), name],
            "actions": [_submit(texts("risk.sign_confirm"), "sign", assessment=view.id)],
        },
    }


def factor_card(texts: Texts, view: AssessmentView, factor: Factor) -> Card:
    """One factor to keep, adjust or mark not relevant, with what the frame says of it."""
    number = next(n for n, f in enumerate(view.factors, start=1) if f.key == factor.key)
    answer = view.answers.get(factor.key)
    body: list[dict[str, Any]] = [
        paragraph(
            texts("risk.position", unit=view.unit, number=number, factors=len(view.factors)),
            subtle=True,
        ),
        heading(factor.situation),
    ]
    if any(a.carried for a in view.answers.values()) and factor.key in view.changed:
        body.append(paragraph(texts("risk.changed")))
    shown = [(texts("risk.frame_rating"), _rated(texts, factor.probability, factor.consequence))]
    if factor.existing:
        shown.append((texts("risk.existing"), factor.existing))
    if factor.suggested:
        shown.append((texts("risk.suggested"), factor.suggested))
    body.append(facts(shown))
    p, c = rating(factor, answer) or (factor.probability, factor.consequence)
    decision: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": "risk_decision",
        "label": texts("risk.label_decision"),
        "style": "expanded",
        "isRequired": True,
        "errorMessage": texts("risk.problem_decision"),
        "choices": [
            {"title": texts(f"risk.choose_{d.value}"), "value": d.value}
            for d in (Decision.KEEP, Decision.ADJUST, Decision.NOT_RELEVANT)
        ],
    }
    if answer is not None:
        decision["value"] = answer.decision.value
    body += [
        decision,
        paragraph(texts("risk.adjust_intro"), subtle=True),
        _scale_choices(texts, "probability", p, "risk_probability"),
        _scale_choices(texts, "consequence", c, "risk_consequence"),
        _text_input(
            texts,
            "risk_measures",
            "risk.label_measures",
            MEASURES_MAX,
            answer.measures if answer else "",
        ),
        _text_input(
            texts, "risk_reason", "risk.label_reason", REASON_MAX, answer.reason if answer else ""
        ),
    ]
    actions = [
        _submit(texts("risk.save"), "answer", assessment=view.id, key=factor.key),
        _submit(texts("risk.back"), "show", assessment=view.id),
    ]
    return adaptive_card(body, actions, fallback_text=factor.situation)


def list_card(texts: Texts, views: Sequence[AssessmentView]) -> Card:
    """A leader's assessments, when they lead more than one unit or a unit has more frames."""
    body: list[dict[str, Any]] = [heading(texts("risk.list_title"))]
    for view in views:
        body.append(
            list_item(
                texts("risk.title", frame=view.frame.title, unit=view.unit),
                texts(f"risk.status_{view.status}")
                + " · "
                + texts("risk.answered_line", answered=view.answered, factors=len(view.factors)),
                show_button(texts("risk.open"), _data("show", view)),
            )
        )
    return adaptive_card(body, fallback_text=texts("risk.list_title"))


def overview_card(texts: Texts, frames: Sequence[FrameOverview]) -> Card:
    """The adviser's view of each frame: status per unit, the whole frame's matrix, which
    factors units adjust most (input for the next version), and reports tied to factors."""
    body: list[dict[str, Any]] = [heading(texts("risk.overview_title"))]
    if not frames:
        body.append(paragraph(texts("risk.no_frames")))
    for overview in frames:
        views = overview.units
        counts = {
            s: sum(1 for v in views if v.status == s)
            for s in ("signed", "in_progress", "not_started")
        }
        body.append(
            {
                "type": "TextBlock",
                "text": texts(
                    "risk.frame_heading", frame=overview.frame.title, version=overview.frame.version
                ),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "separator": True,
            }
        )
        body.append(
            facts(
                [
                    (texts(f"risk.status_{s}"), texts("risk.of_units", count=n, units=len(views)))
                    for s, n in counts.items()
                ]
            )
        )
        for view in views:
            status = texts(f"risk.status_{view.status}")
            if view.status == "signed" and view.signed_at is not None:
                status = f"{status} {format_date(view.signed_at)}"
            elif view.status == "in_progress":
                status = f"{status} · {_answered(texts, view)}"
            body.append(
                list_item(
                    f"{view.unit} ({view.department})",
                    status,
                    show_button(texts("risk.open"), _data("show", view)),
                )
            )
        body.append(paragraph(f"**{texts('risk.heading_matrix_frame')}**"))
        if overview.matrix_url:
            body.append(
                {
                    "type": "Image",
                    "url": overview.matrix_url,
                    "altText": texts("risk.matrix_alt"),
                    "size": "Stretch",
                }
            )
        body.append(
            paragraph(
                texts(
                    "risk.level_counts",
                    high=overview.level_counts.get(Level.HIGH, 0),
                    medium=overview.level_counts.get(Level.MEDIUM, 0),
                    low=overview.level_counts.get(Level.LOW, 0),
                ),
                subtle=True,
            )
        )
        body.append(paragraph(f"**{texts('risk.heading_adjusted')}**"))
        adjusted = [
            texts("risk.adjusted_line", situation=f.situation, adjusted=a, not_relevant=n)
            for f, a, n in overview.adjusted
        ]
        body.append(paragraph("\n\n".join(adjusted) if adjusted else texts("risk.none_adjusted")))
        if overview.linked:
            body.append(paragraph(f"**{texts('risk.heading_linked')}**"))
            body.append(
                paragraph(
                    "\n\n".join(
                        texts("risk.linked_line", situation=s, count=n) for s, n in overview.linked
                    )
                )
            )
    return adaptive_card(body, fallback_text=texts("risk.overview_title"))


def link_card(
    texts: Texts, view: AssessmentView, *, report_id: int, case_number: str, chosen: str | None
) -> Card:
    """Tie a report to the factor it shows: «this happened; review the factor»."""
    choices = [
        {"title": f"{n}. {f.situation}", "value": f.key}
        for n, f in enumerate(view.factors, start=1)
    ] + [
        {"title": f"{n}. {a.situation}", "value": a.key}
        for n, a in enumerate(view.local, start=len(view.factors) + 1)
    ]
    field: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": "risk_factor",
        "label": texts("risk.label_factor"),
        "style": "expanded",
        "isRequired": True,
        "errorMessage": texts("risk.problem_factor"),
        "choices": choices,
    }
    if chosen:
        field["value"] = chosen
    title = texts("risk.link_title", case=case_number)
    body = [
        heading(title),
        paragraph(texts("risk.link_intro", frame=view.frame.title, unit=view.unit)),
        field,
    ]
    actions = [
        _submit(texts("risk.link_confirm"), "link", assessment=view.id, report=report_id),
        _submit(texts("risk.open"), "show", assessment=view.id),
    ]
    return adaptive_card(body, actions, fallback_text=title)
