"""Statistics in Microsoft's Teams emulator: an admin loads the organisation and an old
system's history with the CLI; Hanne (HMS adviser) asks for the year, gets the card, its charts
load from the bot's links, and she opens the list of units that report little; Liv (leader)
sees her own unit's figures only."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import aiohttp
from PIL import Image

from bench.generated_history import generate, history_csv
from tests.bot_process import BotProcess, admin_command
from tests.chat import EN, NN
from tests.e2e.harness import HANNE, LIV, buttons, playground_for, require_playground, words
from tests.e2e.test_leaders_in_playground import import_organisation


def import_history(database_url: str, path: Path) -> None:
    """As an admin does it: `python -m bot history import`."""
    admin_command(database_url, "history", "import", str(path))


async def test_the_adviser_and_a_leader_see_their_figures(sqlite_url: str, tmp_path: Path) -> None:
    require_playground()
    import_organisation(sqlite_url)
    history = list(generate(seed=3, per_year={2024: 240, 2025: 260}))
    path = tmp_path / "history.csv"
    path.write_text(history_csv(history), encoding="utf-8")
    import_history(sqlite_url, path)
    in_2025 = [r for r in history if r.csv_row()["reported_at"].startswith("2025")]
    per_unit = Counter(r.unit.name for r in in_2025)

    bot = BotProcess(sqlite_url)
    await bot.start()
    try:
        async with (
            playground_for(HANNE, bot.url, tmp_path) as hanne,
            playground_for(LIV, bot.url, tmp_path) as liv,
            aiohttp.ClientSession() as http,
        ):
            for person in (hanne, liv):
                await person.install(until=EN("help.definition"))
                await person.say("språk nynorsk", until=NN("language.switched"))

            [card] = await hanne.say("statistikk 2025", until=NN("stats.scope_all"))
            assert f"**{len(in_2025)}** avvik i 2025" in words(card)
            content = card["attachments"][0]["content"]
            charts = [block["url"] for block in content["body"] if block["type"] == "Image"]
            assert len(charts) == 4
            for url in charts:  # as the Teams client fetches them: no bot authentication
                async with http.get(url) as response:
                    assert response.status == 200
                    picture = Image.open(io.BytesIO(await response.read()))
                    assert picture.format == "PNG"
                    assert picture.width >= 600

            await hanne.press(
                card,
                buttons(card)["avvik.under_reporting"],
                {},
                until=NN("under_reporting.rule"),
            )

            [mine] = await liv.say("statistikk 2025", until=NN("stats.scope_units"))
            text = words(mine)
            assert f"**{per_unit['Vossevangen skule']}** avvik i 2025" in text
            assert "Heimetenesta" not in text
    finally:
        bot.stop()
