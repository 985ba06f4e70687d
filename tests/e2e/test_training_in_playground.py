"""Training in Microsoft's Teams emulator: Kari goes through «Kvifor det er viktig å melde» in
her Playground, answers its question, and Hanne, the HMS adviser, sees the completion in her
«opplæring oversikt» (issue 15's Show, its training half)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.bot_process import BotProcess
from tests.chat import EN, NN
from tests.e2e.harness import HANNE, KARI, playground_for, require_playground, words
from tests.e2e.test_leaders_in_playground import import_organisation
from tests.test_training import buttons_anywhere


def submits(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every submit button's data on a message's card, in order."""
    return buttons_anywhere(message["attachments"][0]["content"])


async def test_kari_completes_a_module_and_the_adviser_sees_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_playground()
    import_organisation(sqlite_url)
    bot = BotProcess(sqlite_url)
    await bot.start()
    try:
        async with (
            playground_for(KARI, bot.url, tmp_path) as kari,
            playground_for(HANNE, bot.url, tmp_path) as hanne,
        ):
            for person in (kari, hanne):
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
    finally:
        bot.stop()
