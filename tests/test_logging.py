"""Logs an operator can use and a personvernombod can accept: JSON lines, a request id on each,
and never what a person wrote (nor a token) at INFO or above."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import create_app
from bot.logs import configure_logging
from tests.chat import NOW
from tests.fake_connector import FakeConnector, teams_message
from tests.test_card_report import FILLED_IN, CardUser
from tests.test_http import REPORT, ClientMaker, dev_settings


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Call it once to start JSON logging into the captured stderr (pytest swaps stderr between
    setup and the test itself), then again for the lines logged since."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    started = False

    def lines() -> list[dict[str, Any]]:
        nonlocal started
        if not started:
            configure_logging(
                {"AVVIK_LOG_FORMAT": "json", "AVVIK_LOG_LEVEL": "DEBUG"}, dev_mode=False
            )
            capsys.readouterr()
            started = True
            return []
        err = capsys.readouterr().err
        bad = [line for line in err.splitlines() if line.strip() and not line.startswith("{")]
        assert not bad, bad[:5]
        return [json.loads(line) for line in err.splitlines() if line.strip()]

    yield lines
    root.handlers[:], root.level = saved, level


async def test_no_free_text_at_info_and_a_request_id_on_every_line(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str, json_logs: Any
) -> None:
    json_logs()
    client = await aiohttp_client(create_app(dev_settings(sqlite_url), clock=lambda: NOW))
    json_logs()  # start-up
    seen_ids = []
    for sequence, (text, _) in enumerate([*REPORT, ("Send inn", "")], 1):
        body = teams_message(text, service_url=connector.url, sequence=sequence)
        response = await client.post(
            "/api/messages", json=body, headers={"X-Request-Id": f"turn-{sequence}"}
        )
        assert response.status == 201
        assert response.headers["X-Request-Id"] == f"turn-{sequence}"
        seen_ids.append(f"turn-{sequence}")
    # A card report too, and a turn that fails: both log, neither leaks.
    connector.sent.clear()
    kari = CardUser(client, connector)
    form_id, card = await kari.ask_for_form()
    await kari.submit(card, form_id, **FILLED_IN)
    # A turn whose reply Teams refuses: logged as an error, with its traceback.
    connector.refused.add(kari.conversation_id)
    failing = teams_message(FILLED_IN["description"], service_url=connector.url, sequence=99)
    assert (await client.post("/api/messages", json=failing)).status == 201
    records = json_logs()
    assert any(r["level"] == "ERROR" for r in records)
    assert records, "the turns logged nothing at all: this test would prove nothing"
    typed = [text for text, _ in REPORT if len(text) > 12] + [
        FILLED_IN["description"],
        FILLED_IN["location"],
    ]
    for record in records:
        assert {"time", "level", "logger", "message", "request_id"} <= set(record)
        if record["level"] in ("INFO", "WARNING", "ERROR", "CRITICAL"):
            shown = json.dumps(record, ensure_ascii=False)
            assert not any(text in shown for text in typed), record
    assert {r["request_id"] for r in records} & set(seen_ids)


async def test_a_request_without_an_id_gets_one_and_odd_ids_are_replaced(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str, json_logs: Any
) -> None:
    json_logs()
    client = await aiohttp_client(create_app(dev_settings(sqlite_url)))
    body = teams_message("hei", service_url=connector.url)
    plain = await client.post("/api/messages", json=body)
    assert len(plain.headers["X-Request-Id"]) == 32
    odd = await client.post(
        "/api/messages", json=body, headers={"X-Request-Id": "a\\nb {} <script>"}
    )
    assert odd.headers["X-Request-Id"] != "a\\nb {} <script>"
    refused = await client.post(
        "/api/messages", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert refused.status == 400
    assert refused.headers["X-Request-Id"]


def test_a_statistics_link_never_reaches_the_log(json_logs: Any) -> None:
    """A chart or download link works for whoever has it (bot/statistics/links.py): the access
    log line for it keeps the path's shape and drops the token."""
    json_logs()
    token = "eyJwIjoxLCJrIjoieGxzeCJ9.c2lnbmF0dXJlLW9mLWEtbGluaw"
    logging.getLogger("aiohttp.access").info(
        '127.0.0.1 "GET /stats/%s/avvik-2025.xlsx HTTP/1.1" 200 5120', token
    )
    # aiohttp's own AccessLogger formats the line before it logs it.
    line = '127.0.0.1 "GET /stats/' + token + '/avvik-months-2025.png HTTP/1.1" 200 9800'
    logging.getLogger("aiohttp.access").info(line)
    lines = json_logs()
    assert [line["message"] for line in lines] == [
        '127.0.0.1 "GET /stats/…/avvik-2025.xlsx HTTP/1.1" 200 5120',
        '127.0.0.1 "GET /stats/…/avvik-months-2025.png HTTP/1.1" 200 9800',
    ]
