"""Training in the chat (issue 15, its first half): the module files every language has and
every card they make valid Adaptive Card 1.5; a module gone through over HTTP with kind
feedback, an answer sent twice or out of order changing nothing; completion for leaders and
the adviser in counts; and the offer after someone's first report."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bot.cards.tips import tip_card
from bot.cards.training import (
    TRAINING,
    completion_card,
    done_card,
    feedback_card,
    modules_card,
    practice_card,
    step_card,
)
from domain.tips import Tip
from domain.training import (
    Module,
    ModuleFileError,
    check_modules,
    load_modules,
    parse_module,
)
from storage.training import Progress, UnitCompletion
from tests.chat import CATALOGUES, NN
from tests.fake_connector import FakeConnector
from tests.test_card_report import FILLED_IN, words
from tests.test_cards import card_errors
from tests.test_http import ClientMaker
from tests.test_leader_handling import Voss, voss_in_teams
from tests.test_tips import submits

MODULES = load_modules()


def test_every_language_has_every_module_with_the_same_questions() -> None:
    assert check_modules(MODULES) == []
    assert [m.id for m in MODULES["nn"]] == [
        "kva-er-eit-avvik",
        "korleis-melde",
        "leiaren-handsamar",
        "kvifor-det-er-viktig",
    ]
    assert all(m.questions >= 1 for found in MODULES.values() for m in found)


@pytest.mark.parametrize("language", ["nn", "nb", "en"])
def test_every_card_of_every_module_is_valid_adaptive_card_1_5(language: str) -> None:
    texts = CATALOGUES[language]
    modules = MODULES[language]
    cards: dict[str, Any] = {
        "list, nothing begun": modules_card(texts, modules, {}),
        "list, all states": modules_card(
            texts,
            modules,
            {
                modules[0].id: Progress(modules[0].id, len(modules[0].cards), 2, 1, True),
                modules[1].id: Progress(modules[1].id, 1, 0, 0, False),
            },
        ),
        "completion, adviser": completion_card(
            texts,
            modules,
            [UnitCompletion(1, "Vossevangen skule", "Oppvekst", 12, {modules[0].id: 3}, 1)],
            whole=True,
            as_tips=True,
        ),
        "completion, nobody": completion_card(texts, modules, [], whole=False),
        "a module as a tip": tip_card(
            texts,
            Tip(modules[0].title, {"news": "Tre minutt."}, training=modules[0].id),
            delivery_id=3,
        ),
    }
    for module in modules:
        cards[f"{module.id}: done"] = done_card(texts, module, Progress(module.id, 9, 2, 1, True))
        for step, card in enumerate(module.cards):
            if card.practice:
                cards[f"{module.id}: practice {step}"] = practice_card(
                    texts, module, step, "Ein elev sparka ein assistent.", "Skuleplassen"
                )
        for step, card in enumerate(module.cards):
            cards[f"{module.id}: card {step}"] = step_card(texts, module, step)
            if card.question is not None:
                for chosen in range(len(card.question.options)):
                    cards[f"{module.id}: card {step}, answer {chosen}"] = feedback_card(
                        texts, module, step, chosen
                    )
    for name, card in cards.items():
        assert card_errors(card) == [], name


GOOD = """---
id: prove
order: 1
title: "Prøve"
language: nn
---

## Kort

Tekst.

## Spørsmål

? Kva er rett?
- [x] Dette
- [ ] Ikkje dette
> Fordi.
"""


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda t: t.replace("- [ ] Ikkje dette", "- [x] Ikkje dette"), "exactly one option"),
        (lambda t: t.replace("> Fordi.\n", ""), "explanation"),
        (lambda t: t.replace("- [ ] Ikkje dette\n", ""), "2-5 options"),
        (lambda t: t.replace("id: prove", "id: Prøve"), "lower-case letters"),
        (lambda t: t.replace("language: nn", "language: se"), "language is one of"),
        (lambda t: t.replace("---\n\n## Kort", "---\nLaus tekst\n\n## Kort"), "before the first"),
        (lambda t: t.replace("Tekst.", ""), "the card is empty"),
        (lambda t: t.replace("order: 1", "order: første"), "whole numbers"),
    ],
)
def test_a_module_file_with_a_mistake_is_refused_saying_where(edit: Any, said: str) -> None:
    assert parse_module(GOOD).questions == 1
    with pytest.raises(ModuleFileError, match=said):
        parse_module(edit(GOOD), where="training/nn/prove.md")


def test_languages_that_drift_apart_are_caught() -> None:
    nn = MODULES["nn"]
    first = nn[0]
    card = next(c for c in first.cards if c.question is not None)
    assert card.question is not None
    moved = replace(card, question=replace(card.question, right=1 - card.question.right))
    drifted: Module = replace(first, cards=tuple(moved if c is card else c for c in first.cards))
    problems = check_modules({"nn": nn, "nb": (drifted, *nn[1:]), "en": nn[:-1]})
    assert "nb/kva-er-eit-avvik: the cards or answers differ" in problems
    assert "en: module kvifor-det-er-viktig is missing" in problems
    assert "en/kva-er-eit-avvik: says language nn" in problems


# ---- in Teams --------------------------------------------------------------------------


@pytest.fixture
async def voss(aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str) -> Voss:
    return await voss_in_teams(aiohttp_client, connector, database_url)


def card_of(message: dict[str, Any]) -> dict[str, Any]:
    return message["attachments"][0]["content"]  # type: ignore[no-any-return]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's card's submit buttons, in the card's order."""
    return buttons_anywhere(card_of(message))


async def press(voss: Voss, name: str, data: dict[str, Any], **inputs: Any) -> list[dict[str, Any]]:
    user = voss.user(name)
    body = user.submit_body({"actions": [{"data": data}]}, "card-1", **inputs)
    assert await user.post(body) == 201
    return voss.inbox(name)


async def test_kari_goes_through_a_module_with_kind_feedback(voss: Voss) -> None:
    [listing] = await voss.user("kari").send("opplæring")
    assert NN("training.title") in words(listing)
    module = MODULES["nn"][0]
    start = buttons(listing)[0]
    assert start == {"action": TRAINING, "op": "start", "module": module.id, "step": 0}

    [first] = await press(voss, "kari", start)
    assert module.cards[0].heading in words(first)
    [second] = await press(voss, "kari", buttons(first)[0])  # «Neste»
    assert module.cards[1].heading in words(second)
    [question] = await press(voss, "kari", buttons(second)[0])
    asked = module.cards[2].question
    assert asked is not None
    assert asked.text in words(question)
    answer = buttons(question)[0]
    assert answer["op"] == "answer"

    # No choice made: asked to choose, nothing counted.
    [told] = await press(voss, "kari", answer)
    assert words(told) == NN("training.choose")
    wrong = str(1 - asked.right)
    [feedback] = await press(voss, "kari", answer, training_answer=wrong)
    shown = words(feedback)
    assert NN("training.not_quite") in shown
    assert NN("training.right_answer", answer=asked.options[asked.right]) in shown
    assert asked.explanation in shown
    # The same answer again (a double tap, or the old card): said, and not counted twice.
    again = await press(voss, "kari", answer, training_answer=str(asked.right))
    assert words(again[0]) == NN("training.moved_on")
    assert module.cards[3].question is not None
    assert module.cards[3].question.text in words(again[1])

    [last] = await press(voss, "kari", buttons(feedback)[0])  # «Neste» to the last question
    last_question = module.cards[3].question
    [feedback] = await press(
        voss, "kari", buttons(last)[0], training_answer=str(last_question.right)
    )
    assert NN("training.right") in words(feedback)
    [done] = await press(voss, "kari", buttons(feedback)[0])  # «Ferdig»
    assert NN("training.done", module=module.title) in words(done)
    assert NN("training.score", right=1, answered=2) in words(done)

    [listing] = await voss.user("kari").send("opplæring")
    assert NN("training.completed") in words(listing)
    assert NN("training.own", done=1, modules=4) in words(listing)


async def test_a_module_not_begun_or_unknown_is_a_friendly_word(voss: Voss) -> None:
    second = MODULES["nn"][1]
    told = await press(
        voss, "kari", {"action": TRAINING, "op": "next", "module": second.id, "step": 0}
    )
    assert words(told[0]) == NN("training.not_begun", module=second.title)
    assert NN("training.title") in words(told[1])
    told = await press(voss, "kari", {"action": TRAINING, "op": "next", "module": "x", "step": 0})
    assert words(told[0]) == NN("training.unknown_module")
    told = await press(voss, "kari", {"action": TRAINING, "op": "sprett", "module": second.id})
    assert words(told[0]) == NN("problem.form_stale")


async def test_leaders_see_their_units_completion_and_the_adviser_every_departments(
    voss: Voss,
) -> None:
    module = MODULES["nn"][0]
    await press(voss, "kari", {"action": TRAINING, "op": "start", "module": module.id, "step": 0})
    for step, card in enumerate(module.cards):
        inputs = {"training_answer": "0"} if card.question else {}
        op = "answer" if card.question else "next"
        data = {"action": TRAINING, "op": op, "module": module.id, "step": step}
        await press(voss, "kari", data, **inputs)
    [liv] = await voss.user("liv").send("opplæring oversikt")
    shown = json.dumps(card_of(liv), ensure_ascii=False)
    # The school: Kari, Liv, Lars and Vera the bot knows; Kari has done the first module.
    assert NN("training.share", done=1, of=4, percent=25) in shown
    assert "Helse og omsorg" not in shown  # not Liv's
    [hanne] = await voss.user("hanne").send("opplæring oversikt")
    shown = json.dumps(card_of(hanne), ensure_ascii=False)
    assert NN("training.by_department") in shown
    assert "Helse og omsorg" in shown
    [kari] = await voss.user("kari").send("opplæring oversikt")
    assert words(kari) == NN("training.completion_not_allowed")


async def test_the_first_report_offers_the_training(voss: Voss) -> None:
    kari = voss.user("kari")
    form_id, form = await kari.ask_for_form()
    [receipt] = await kari.submit(form, form_id, **FILLED_IN)
    assert NN("training.offer") in words(receipt)
    form_id, form = await kari.ask_for_form()
    [receipt] = await kari.submit(form, form_id, **FILLED_IN)
    assert NN("card.receipt_title", case="2026-0002") in words(receipt)
    assert NN("training.offer") not in words(receipt)


async def test_the_adviser_sends_a_module_to_everyone_as_a_tip(voss: Voss) -> None:
    module = MODULES["nn"][0]
    [overview] = await voss.user("hanne").send("opplæring oversikt")
    as_tip = next(b for b in buttons_anywhere(card_of(overview)) if b.get("op") == "tip")
    assert as_tip["module"] == module.id
    # A leader who is not the adviser cannot, even with the button copied.
    [refused] = await press(voss, "liv", as_tip)
    assert words(refused) == NN("tips.not_allowed")
    shown, preview = await press(voss, "hanne", as_tip)
    assert module.title in words(shown)
    start = next(b for b in buttons_anywhere(card_of(shown)) if b.get("action") == TRAINING)
    assert start == {"action": TRAINING, "op": "start", "module": module.id, "step": 0}
    send = submits(card_of(preview))["tip.send"]
    await press(voss, "hanne", send)
    await voss.settle()
    [tip] = voss.inbox("kari")  # everyone: Kari too, who is staff
    assert module.title in words(tip)
    [first] = await press(voss, "kari", start)
    assert module.cards[0].heading in words(first)


def buttons_anywhere(card: Any) -> list[dict[str, Any]]:
    """Every submit button's data, anywhere on a card."""
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if card.get("type") == "Action.Submit":
            found.append(card["data"])
        for value in card.values():
            found += buttons_anywhere(value)
    elif isinstance(card, list):
        for value in card:
            found += buttons_anywhere(value)
    return found


async def test_a_practice_report_is_checked_like_a_real_one_and_never_stored(voss: Voss) -> None:
    module = MODULES["nn"][1]  # «Korleis melde eit avvik»
    practice = next(n for n, c in enumerate(module.cards) if c.practice)
    await press(voss, "kari", {"action": TRAINING, "op": "start", "module": module.id, "step": 0})
    for step in range(practice):
        card = module.cards[step]
        op = "answer" if card.question else "next"
        inputs = {"training_answer": str(card.question.right)} if card.question else {}
        data = {"action": TRAINING, "op": op, "module": module.id, "step": step}
        shown = await press(voss, "kari", data, **inputs)
    data = {"action": TRAINING, "op": "practice", "module": module.id, "step": practice}
    # A name and a phone number: the same guard as a real report meets.
    [told] = await press(
        voss,
        "kari",
        data,
        practice_what="Per Olsen sparka Kari, ring mor på 912 34 567.",
        practice_where="Skuleplassen",
    )
    assert NN("sensitive.phone") in words(told)
    [told] = await press(voss, "kari", data, practice_what="Kort", practice_where="")
    assert NN("field.practice_what") in words(told)
    what = "Ein elev sparka ein assistent i leggen i friminuttet."
    [ok] = await press(voss, "kari", data, practice_what=what, practice_where="Skuleplassen")
    assert NN("training.practice_ok") in words(ok)
    assert what in words(ok)
    assert NN("training.practice_not_stored") in words(ok)
    # Nothing reported: no avvik, nobody told.
    assert await voss.reports() == []
    assert voss.inbox("liv") == []
    again = await press(voss, "kari", data, practice_what=what, practice_where="Skuleplassen")
    assert words(again[0]) == NN("training.moved_on")
    assert shown  # the cards before it were shown


async def test_odd_presses_and_taking_a_module_again(voss: Voss) -> None:
    module = MODULES["nn"][3]  # «Kvifor det er viktig å melde»: two cards, then a question
    start = {"action": TRAINING, "op": "start", "module": module.id, "step": 0}
    await press(voss, "kari", start)
    await press(voss, "kari", {**start, "op": "next"})
    # The tip's «Start opplæringa» pressed mid-way: she goes on where she was.
    [resumed] = await press(voss, "kari", start)
    assert module.cards[1].heading in words(resumed)
    await press(voss, "kari", {**start, "op": "next", "step": 1})
    question = {**start, "op": "answer", "step": 2}
    for odd in ("²", "9" * 5000, "-1", "7"):
        [told] = await press(voss, "kari", question, training_answer=odd)
        assert words(told) == NN("training.choose")
    await press(voss, "kari", question, training_answer="0")  # wrong
    # Past the end, a forged press is the done card, not a crash.
    [done] = await press(voss, "kari", {**start, "op": "next", "step": 3})
    assert NN("training.score", right=0, answered=1) in words(done)
    # Taken again: a fresh score.
    await press(voss, "kari", start)
    await press(voss, "kari", {**start, "op": "next"})
    await press(voss, "kari", {**start, "op": "next", "step": 1})
    await press(voss, "kari", question, training_answer="1")
    [done] = await press(voss, "kari", {**start, "op": "done", "step": 3})
    assert NN("training.score", right=1, answered=1) in words(done)
