"""The real HTTP path: Teams-shaped activities into /api/messages, replies out to a connector."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Settings
from storage.db import create_async_db_engine, session_factory
from storage.models import Report
from tests.chat import NB, NN, NOW, first_receipt
from tests.fake_connector import FakeConnector, teams_message

ClientMaker = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]

REPORT = [
    ("meld avvik", "report.ask_description"),
    ("Bebuar kasta ein stol mot tilsett under middagen. Ingen vart treft.", "report.ask_harm"),
    ("Nestenulukke", "report.ask_category"),
    ("1", "report.ask_severity"),
    ("Middels", "report.ask_unit"),
    ("Bu- og miljøteneste aust", "report.ask_location"),
    ("Fellesstova", "report.ask_when"),
    ("i dag 12:10", "report.ask_immediate_action"),
    ("Skjerma bebuar og snakka med kollega.", "report.ask_suggested_measure"),
    ("Hopp over", "report.summary_title"),
]


def dev_settings(database_url: str) -> Settings:
    return Settings(dev_mode=True, database_url=database_url)


class Teams:
    """One Teams user talking to the bot over HTTP."""

    def __init__(self, client: TestClient[Any, Any], connector: FakeConnector, **who: Any) -> None:
        self.client, self.connector, self.who = client, connector, who
        self.sequence = 0
        self.conversation_id = who.get("conversation_id", "a:1kari-personal")

    async def post(self, body: Any, **headers: str) -> int:
        response = await self.client.post("/api/messages", json=body, headers=headers)
        return response.status

    async def say(self, text: str | None, **extra: Any) -> list[str]:
        self.sequence += 1
        activity = teams_message(
            text, service_url=self.connector.url, sequence=self.sequence, **self.who, **extra
        )
        assert await self.post(activity) == 201
        return self.connector.take_texts(self.conversation_id)


async def test_a_whole_report_over_http(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    client = await aiohttp_client(create_app(dev_settings(sqlite_url), clock=lambda: NOW))
    kari = Teams(client, connector)
    for message, expected in REPORT:
        replies = await kari.say(message)
        assert any(NN(expected) in reply for reply in replies), (message, replies)
    assert await kari.say("Send inn") == [first_receipt("2026-0001")]

    engine = create_async_db_engine(sqlite_url)
    async with session_factory(engine)() as session:
        report = (await session.scalars(select(Report))).one()
    await engine.dispose()
    assert (report.case_number, report.category, report.harm) == (
        "2026-0001",
        "violence_threats",
        "near_miss",
    )


async def test_replies_go_to_the_conversation_and_answer_the_message(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    client = await aiohttp_client(create_app(dev_settings(sqlite_url)))
    status = await Teams(client, connector).post(
        teams_message("hei", service_url=connector.url, sequence=1)
    )
    assert status == 201
    [reply] = connector.sent["a:1kari-personal"]
    assert reply["replyToId"] == "1732000000001"
    assert reply["conversation"]["id"] == "a:1kari-personal"
    assert reply["recipient"]["aadObjectId"] == "aad-kari"
    assert [a["title"] for a in reply["suggestedActions"]["actions"]] == [
        NN("menu.button_report"),
        NN("menu.button_mine"),
        NN("menu.button_help"),
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'"message"', "application/json", 400),
        (b"", "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (json.dumps({"text": "no type"}).encode(), "application/json", 400),
        (
            json.dumps(
                {"type": "message", "serviceUrl": "http://127.0.0.1:9/", "channelId": "msteams"}
            ).encode(),
            "application/json",
            400,
        ),
        (
            json.dumps(
                {"type": "message", "conversation": {"id": "a:1"}, "channelId": "msteams"}
            ).encode(),
            "application/json",
            400,
        ),
        (
            json.dumps(
                {
                    "type": 5,
                    "serviceUrl": "http://127.0.0.1:9/",
                    "channelId": "msteams",
                    "conversation": {"id": "a:1"},
                }
            ).encode(),
            "application/json",
            400,
        ),
        (b"type=message", "application/x-www-form-urlencoded", 415),
        (b"{}" + b" " * 300_000, "application/json", 413),
    ],
    ids=[
        "not-json",
        "array",
        "string",
        "empty",
        "not-utf8",
        "no-type",
        "no-conversation",
        "no-service-url",
        "type-not-text",
        "form-encoded",
        "too-large",
    ],
)
async def test_malformed_bodies_get_4xx_never_500(
    aiohttp_client: ClientMaker, sqlite_url: str, body: bytes, content_type: str, status: int
) -> None:
    client = await aiohttp_client(create_app(dev_settings(sqlite_url)))
    response = await client.post("/api/messages", data=body, headers={"Content-Type": content_type})
    assert response.status == status


@pytest.mark.parametrize("sender", ["not an account", 5, [1], {"id": 7}, {"id": None}])
async def test_a_malformed_sender_gets_400(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str, sender: Any
) -> None:
    client = await aiohttp_client(create_app(dev_settings(sqlite_url)))
    activity = teams_message("hei", service_url=connector.url)
    activity["from"] = sender
    response = await client.post("/api/messages", json=activity)
    assert response.status == 400
    assert connector.sent == {}


async def test_a_message_without_from_is_answered_not_stored(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    client = await aiohttp_client(create_app(dev_settings(sqlite_url)))
    activity = teams_message("meld avvik", service_url=connector.url)
    del activity["from"]
    response = await client.post("/api/messages", json=activity)
    assert response.status == 201
    assert connector.texts("a:1kari-personal") == [NN("problem.missing_sender")]


async def test_with_credentials_an_unsigned_request_is_refused(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    settings = Settings(
        app_id="00000000-0000-0000-0000-000000000001",
        app_password="not-a-real-secret",
        database_url=sqlite_url,
    )
    client = await aiohttp_client(create_app(settings))
    response = await client.post(
        "/api/messages", json=teams_message("meld avvik", service_url=connector.url)
    )
    assert response.status == 401
    assert connector.sent == {}


async def test_health_reports_the_database(aiohttp_client: ClientMaker, sqlite_url: str) -> None:
    client = await aiohttp_client(create_app(dev_settings(sqlite_url)))
    response = await client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "ok", "database": "up"})

    unreachable = Settings(
        dev_mode=True,
        database_url="postgresql://nobody@127.0.0.1:1/none",
        migrate_on_start=False,
    )
    down = await aiohttp_client(create_app(unreachable))
    response = await down.get("/healthz")
    assert response.status == 503


async def test_a_failed_submit_loses_nothing_and_stores_once(
    aiohttp_client: ClientMaker,
    connector: FakeConnector,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.desks.report_desk

    client = await aiohttp_client(create_app(dev_settings(sqlite_url), clock=lambda: NOW))
    kari = Teams(client, connector)
    for message, _ in REPORT:
        await kari.say(message)

    real_submit = bot.desks.report_desk.submit_report

    async def database_hiccup(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("database went away")

    monkeypatch.setattr(bot.desks.report_desk, "submit_report", database_hiccup)
    assert await kari.say("Send inn") == [NN("problem.turn_error")]

    monkeypatch.setattr(bot.desks.report_desk, "submit_report", real_submit)
    assert await kari.say("Send inn") == [first_receipt("2026-0001")]

    engine = create_async_db_engine(sqlite_url)
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
    await engine.dispose()


async def test_quick_messages_in_one_conversation_are_taken_in_turn(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    """A double tap or two fast messages: each turn sees what the one before it saved."""
    client = await aiohttp_client(create_app(dev_settings(sqlite_url), clock=lambda: NOW))

    def message(text: str, sequence: int) -> dict[str, Any]:
        return teams_message(text, service_url=connector.url, sequence=sequence)

    for _ in range(3):  # the race is one of timing: give it several chances
        connector.sent.clear()
        first, second = await asyncio.gather(
            client.post("/api/messages", json=message("språk bokmål", 1)),
            client.post("/api/messages", json=message("meld avvik", 2)),
        )
        assert (first.status, second.status) == (201, 201)
        texts = connector.texts("a:1kari-personal")
        assert texts[0] == NB("language.switched")
        assert NB("report.ask_description") in texts  # the second turn saw the first's choice
        assert NN("problem.turn_error") not in texts
        await client.post("/api/messages", json=message("avbryt", 3))
        await client.post("/api/messages", json=message("Ja, avbryt", 4))
        await client.post("/api/messages", json=message("språk nynorsk", 5))
