"""GET /metrics for the operator (AVVIK_METRICS=1): on its own port on 127.0.0.1, never on the
bot's public port, and off unless asked for."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
import pytest

from bot.app import OUTBOX, create_app
from bot.config import load_settings
from storage.db import create_async_db_engine, session_factory
from tests.bot_process import free_port
from tests.chat import NOW
from tests.fake_connector import FakeConnector
from tests.test_card_report import FILLED_IN, CardUser
from tests.test_http import ClientMaker, dev_settings
from tests.voss_org import make_voss


async def scrape(port: int) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as got:
        assert got.status == 200
        assert got.headers["Content-Type"].startswith("text/plain")
        return await got.text()


def value(text: str, name: str) -> float:
    [line] = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])


async def test_turns_and_the_outbox_as_prometheus_reads_them(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    port = free_port()
    settings = replace(dev_settings(sqlite_url), metrics=True, metrics_port=port)
    client = await aiohttp_client(create_app(settings, clock=lambda: NOW))
    engine = create_async_db_engine(sqlite_url)
    await make_voss(session_factory(engine))
    await engine.dispose()
    kari = CardUser(client, connector, aad_object_id="aad-kari")
    form_id, form = await kari.ask_for_form()
    # Nobody but Kari has a chat with the bot: Liv's and Lars's cards wait, and so do the two
    # words to Hanne (the adviser) that they cannot be reached.
    await kari.submit(form, form_id, **FILLED_IN)
    await client.app[OUTBOX].drain()
    text = await scrape(port)
    assert value(text, "avviksboten_turns_total") == 2
    assert value(text, "avviksboten_failed_turns_total") == 0
    assert value(text, 'avviksboten_outbox_rows{status="waiting"}') == 4
    assert value(text, 'avviksboten_outbox_rows{status="due"}') == 0
    assert "avviksboten_outbox_oldest_due_seconds" in text
    assert "avviksboten_teams_throttled_total 0.0" in text
    # Not on the bot's own port.
    assert (await client.get("/metrics")).status == 404


def test_metrics_are_off_unless_asked_for() -> None:
    assert load_settings({"AVVIK_DEV_MODE": "1"}).metrics is False
    on = load_settings({"AVVIK_DEV_MODE": "1", "AVVIK_METRICS": "1"})
    assert (on.metrics, on.metrics_host, on.metrics_port) == (True, "127.0.0.1", 9464)
    with pytest.raises(Exception, match="AVVIK_METRICS_PORT"):
        load_settings({"AVVIK_DEV_MODE": "1", "AVVIK_METRICS_PORT": "http"})
