"""Training in the chat (domain.training): the list of modules with one's own progress, a
module's cards one at a time, the kind feedback on an answer, and completion for leaders and
the adviser (counts and shares per unit; never who got what wrong)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.cards import Card, adaptive_card, facts, heading, list_item, paragraph
from domain.i18n import Texts
from domain.training import Module
from storage.training import Progress, UnitCompletion

TRAINING = "avvik.training"


def _button(title: str, op: str, module: str, step: int = 0) -> dict[str, Any]:
    return {
        "type": "Action.Submit",
        "title": title,
        "data": {"action": TRAINING, "op": op, "module": module, "step": step},
    }


def _status(texts: Texts, module: Module, progress: Progress | None) -> tuple[str, str]:
    """What the list says of a module for this person, and its button's title."""
    if progress is None:
        return texts("training.not_started"), texts("training.start")
    if progress.completed and progress.step >= len(module.cards):
        return texts("training.completed"), texts("training.again")
    shown = texts("training.at_card", card=progress.step + 1, cards=len(module.cards))
    if progress.completed:
        shown = f"{texts('training.completed')} · {shown}"
    return shown, texts("training.resume")


def modules_card(texts: Texts, modules: Sequence[Module], progress: dict[str, Progress]) -> Card:
    body: list[dict[str, Any]] = [
        heading(texts("training.title")),
        paragraph(texts("training.intro")),
    ]
    for module in modules:
        status, title = _status(texts, module, progress.get(module.id))
        op = "start" if title in (texts("training.start"), texts("training.again")) else "show"
        step = 0 if op == "start" else progress[module.id].step
        body.append(
            list_item(
                module.title,
                texts("training.line", minutes=module.minutes, status=status),
                {"type": "ActionSet", "actions": [_button(title, op, module.id, step)]},
            )
        )
    done = sum(1 for m in modules if (p := progress.get(m.id)) is not None and p.completed)
    body.append(paragraph(texts("training.own", done=done, modules=len(modules)), subtle=True))
    return adaptive_card(body, fallback_text=texts("training.title"))


def step_card(texts: Texts, module: Module, step: int) -> Card:
    card = module.cards[step]
    last = step == len(module.cards) - 1
    body: list[dict[str, Any]] = [
        paragraph(
            texts("training.position", module=module.title, card=step + 1, cards=len(module.cards)),
            subtle=True,
        ),
        heading(card.heading),
    ]
    if card.text:
        body.append(paragraph(card.text))
    if card.practice:
        body += [
            {
                "type": "Input.Text",
                "id": "practice_what",
                "label": texts("field.practice_what"),
                "isMultiline": True,
                "maxLength": 4000,
                "isRequired": True,
                "errorMessage": texts("training.practice_what_missing"),
            },
            {
                "type": "Input.Text",
                "id": "practice_where",
                "label": texts("field.practice_where"),
                "maxLength": 200,
                "isRequired": True,
                "errorMessage": texts("training.practice_where_missing"),
            },
        ]
        return adaptive_card(
            body,
            [_button(texts("training.practice_send"), "practice", module.id, step)],
            fallback_text=card.heading,
        )
    if card.question is None:
        title = texts("training.finish") if last else texts("training.next")
        return adaptive_card(
            body, [_button(title, "next", module.id, step)], fallback_text=card.heading
        )
    question = card.question
    body.append(
        {
            "type": "Input.ChoiceSet",
            "id": "training_answer",
            "label": question.text,
            "style": "expanded",
            "isRequired": True,
            "errorMessage": texts("training.choose"),
            "choices": [
                {"title": option, "value": str(number)}
                for number, option in enumerate(question.options)
            ],
        }
    )
    return adaptive_card(
        body,
        [_button(texts("training.answer"), "answer", module.id, step)],
        fallback_text=question.text,
    )


def feedback_card(texts: Texts, module: Module, step: int, chosen: int) -> Card:
    """Right, or a kind word and the right answer; the explanation either way."""
    question = module.cards[step].question
    assert question is not None
    right = chosen == question.right
    body: list[dict[str, Any]] = [
        {
            **heading(texts("training.right") if right else texts("training.not_quite")),
            "color": "Good" if right else "Default",
        }
    ]
    if not right:
        body.append(
            paragraph(texts("training.right_answer", answer=question.options[question.right]))
        )
    body.append(paragraph(question.explanation))
    last = step == len(module.cards) - 1
    title = texts("training.finish") if last else texts("training.next")
    op = "done" if last else "show"
    return adaptive_card(
        body, [_button(title, op, module.id, step + 1)], fallback_text=body[0]["text"]
    )


def practice_card(texts: Texts, module: Module, step: int, what: str, where: str) -> Card:
    """The practice report as a leader would have read it, and that nothing was stored."""
    body: list[dict[str, Any]] = [
        {**heading(texts("training.practice_ok")), "color": "Good"},
        paragraph(texts("training.practice_as_leader")),
        facts([(texts("field.practice_what"), what), (texts("field.practice_where"), where)]),
        paragraph(texts("training.practice_not_stored"), subtle=True),
    ]
    last = step == len(module.cards) - 1
    title = texts("training.finish") if last else texts("training.next")
    op = "done" if last else "show"
    return adaptive_card(
        body,
        [_button(title, op, module.id, step + 1)],
        fallback_text=texts("training.practice_ok"),
    )


def done_card(texts: Texts, module: Module, progress: Progress | None) -> Card:
    body: list[dict[str, Any]] = [heading(texts("training.done", module=module.title))]
    if progress is not None and progress.answered:
        body.append(
            paragraph(texts("training.score", right=progress.right, answered=progress.answered))
        )
    body.append(paragraph(texts("training.done_next")))
    return adaptive_card(
        body,
        [_button(texts("training.more"), "list", module.id)],
        fallback_text=texts("training.done", module=module.title),
    )


def completion_card(
    texts: Texts,
    modules: Sequence[Module],
    units: Sequence[UnitCompletion],
    *,
    whole: bool,
    as_tips: bool = False,
) -> Card:
    """Completion per module, and per unit (and department, for the adviser): counts and
    shares of the people the bot knows in each unit."""
    people = sum(u.people for u in units)

    def share(done: int, of: int) -> str:
        return (
            texts("training.share", done=done, of=of, percent=round(100 * done / of)) if of else "–"
        )

    body: list[dict[str, Any]] = [
        heading(texts("training.completion_title")),
        paragraph(texts("training.completion_intro", people=people)),
        facts(
            [
                (m.title, share(sum(u.completed.get(m.id, 0) for u in units), people))
                for m in modules
            ]
        ),
    ]
    if as_tips:
        # The adviser may send a module to an audience as a tip (bot/desks/tips_desk.py); one
        # button each, in sets of five (what Teams draws in one row of buttons).
        body.append(paragraph(texts("training.as_tip_intro"), subtle=True))
        buttons = [_button(texts("training.as_tip", module=m.title), "tip", m.id) for m in modules]
        for start in range(0, len(buttons), 5):
            body.append({"type": "ActionSet", "actions": buttons[start : start + 5]})
    if whole:
        departments: dict[str, list[UnitCompletion]] = {}
        for unit in units:
            departments.setdefault(unit.department, []).append(unit)
        body.append({**paragraph(texts("training.by_department")), "weight": "Bolder"})
        body.append(
            facts(
                [
                    (
                        name,
                        share(sum(u.all_modules for u in found), sum(u.people for u in found)),
                    )
                    for name, found in departments.items()
                ]
            )
        )
    body.append({**paragraph(texts("training.by_unit")), "weight": "Bolder"})
    body.append(
        facts([(u.unit, share(u.all_modules, u.people)) for u in units if u.people])
        if any(u.people for u in units)
        else paragraph(texts("training.nobody"))
    )
    return adaptive_card(body, fallback_text=texts("training.completion_title"))
