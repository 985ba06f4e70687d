"""Issue 15's Show in Microsoft's Teams emulator: Kari goes through «Kvifor det er viktig å
melde» in her Playground and answers its question; Liv adapts the shared risk-assessment frame
for Vossevangen skule (adjusts one factor, marks one not relevant, adds a local one) and signs
it off with the verneombod; Hanne, the HMS adviser, sees the completion in «opplæring
oversikt» and the signed unit with its matrix in «risikovurdering oversikt»."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from tests.bot_process import BotProcess, admin_command
from tests.chat import EN, NN
from tests.e2e.harness import (
    HANNE,
    KARI,
    LIV,
    Message,
    PlaygroundUser,
    playground_for,
    require_playground,
    words,
)
from tests.e2e.test_leaders_in_playground import import_organisation
from tests.test_training import buttons_anywhere


def submits(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every submit button's data on a message's card, in order."""
    return buttons_anywhere(message["attachments"][0]["content"])


FRAME = Path(__file__).resolve().parents[2] / "docs" / "risk" / "vald-og-truslar-barnehage.yaml"
TITLE = "Vald og truslar – oppvekst"


def op(message: Message, name: str) -> dict[str, Any]:
    return next(b for b in submits(message) if b.get("op") == name)


async def adapt_and_sign(liv: PlaygroundUser) -> Message:
    """Liv goes through the ten factors: adjusts the first, marks the second not relevant,
    keeps the rest; adds a local factor; signs off with the verneombod. The signed card."""
    [card] = await liv.say(
        "risikovurdering", until=NN("risk.answered_line", answered=0, factors=10)
    )
    [factor] = await liv.press(card, op(card, "next"), {}, until="faktor 1 av 10")
    adjust = {
        "risk_decision": "adjust",
        "risk_probability": "3",
        "risk_consequence": "2",
        "risk_reason": "Skulebarn, ikkje småbarn: sjeldnare og mindre alvorleg",
    }
    *_, factor = await liv.press(factor, op(factor, "answer"), adjust, until="faktor 2 av 10")
    not_relevant = {"risk_decision": "not_relevant", "risk_reason": "Vi har ikkje opningsvakt"}
    *_, factor = await liv.press(factor, op(factor, "answer"), not_relevant, until="faktor 3 av 10")
    for number in range(4, 12):
        until = f"faktor {number} av 10" if number <= 10 else NN("risk.all_answered")
        keep = {"risk_decision": "keep"}
        *_, factor = await liv.press(factor, op(factor, "answer"), keep, until=until)
    local = {
        "risk_situation": "Konflikt mellom elevar spreier seg til tilsette i friminutt",
        "risk_probability": "3",
        "risk_consequence": "3",
        "risk_measures": "To vaksne ute i storefri",
    }
    [card] = await liv.press(
        factor,
        op(factor, "local"),
        local,
        until=NN("risk.local_added", situation=local["risk_situation"]),
    )
    [signed] = await liv.press(
        card, op(card, "sign"), {"risk_verneombod": "Marit Verneombod"}, until=NN("risk.signed_now")
    )
    return signed


async def test_kari_trains_liv_signs_the_risk_assessment_and_the_adviser_sees_both(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_playground()
    import_organisation(sqlite_url)
    # The adviser publishes the shared frame to Oppvekst's units (Liv leads the school).
    admin_command(
        sqlite_url, "risk", "import", str(FRAME), "--title", TITLE, "--department", "Oppvekst"
    )
    bot = BotProcess(sqlite_url)
    await bot.start()
    try:
        async with (
            playground_for(KARI, bot.url, tmp_path) as kari,
            playground_for(LIV, bot.url, tmp_path) as liv,
            playground_for(HANNE, bot.url, tmp_path) as hanne,
        ):
            for person in (kari, liv, hanne):
                await person.install(until=EN("help.definition"))
                await person.say("språk nynorsk", until=NN("language.switched"))

            [listing] = await kari.say("opplæring", until=NN("training.title"))
            start = next(b for b in submits(listing) if b["module"] == "kvifor-det-er-viktig")
            [card] = await kari.press(listing, start, {}, until="Mange meldingar er eit godt teikn")
            [card] = await kari.press(card, submits(card)[0], {}, until="Det farlege er")
            [question] = await kari.press(card, submits(card)[0], {}, until="Kva seier det?")
            [answer] = await kari.press(
                question, submits(question)[0], {"training_answer": "1"}, until=NN("training.right")
            )
            [done] = await kari.press(
                answer, submits(answer)[0], {}, until=NN("training.score", right=1, answered=1)
            )
            assert NN("training.done", module="Kvifor det er viktig å melde") in words(done)

            [overview] = await hanne.say(
                "opplæring oversikt", until=NN("training.completion_title")
            )
            assert NN("training.by_department") in words(overview)
            facts = {
                fact["title"]: fact["value"]
                for block in overview["attachments"][0]["content"]["body"]
                if block["type"] == "FactSet"
                for fact in block["facts"]
            }
            # Kari, one of the people the organisation file puts in a unit, has done it.
            assert facts["Kvifor det er viktig å melde"].startswith("1 av ")
            assert facts["Kva er eit HMS-avvik?"].startswith("0 av ")

            signed = await adapt_and_sign(liv)
            assert "Marit Verneombod" in words(signed)
            assert NN("risk.answered_line", answered=10, factors=10) not in words(signed)

            [overview] = await hanne.say(
                "risikovurdering oversikt", until=NN("risk.overview_title")
            )
            said = words(overview)
            assert NN("risk.frame_heading", frame=TITLE, version=1) in said
            assert "Vossevangen skule (Oppvekst)" in said
            assert NN("risk.status_signed") in said
            content = overview["attachments"][0]["content"]
            statuses = {
                f["title"]: f["value"]
                for block in content["body"]
                if block["type"] == "FactSet"
                for f in block["facts"]
            }
            assert statuses[NN("risk.status_signed")] == NN("risk.of_units", count=1, units=2)
            assert statuses[NN("risk.status_not_started")] == NN("risk.of_units", count=1, units=2)
            [matrix] = [b for b in content["body"] if b["type"] == "Image"]
            async with aiohttp.ClientSession() as http, http.get(matrix["url"]) as response:
                assert response.status == 200
                assert (await response.read()).startswith(b"\x89PNG")
            # What Liv did is input for the frame's next version.
            assert "justert i 1, ikkje relevant i 0" in said
            assert "justert i 0, ikkje relevant i 1" in said

            [school] = await hanne.press(
                overview,
                next(
                    buttons_anywhere(item)[0]
                    for item in content["body"]
                    if item["type"] == "Container" and "Vossevangen skule" in str(item)
                ),
                {},
                until=NN("risk.title", frame=TITLE, unit="Vossevangen skule"),
            )
            assert "Konflikt mellom elevar" in words(school)
    finally:
        bot.stop()
