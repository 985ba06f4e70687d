"""Installing the app: one welcome, and an address kept for later proactive messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from bot.app import create_app
from bot.config import Settings
from storage.conversations import personal_conversation_of
from storage.db import create_async_db_engine, create_sync_db_engine, session_factory
from tests.chat import EN, NN
from tests.fake_connector import FakeConnector, teams_message

ClientMaker = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
PERSONAL = "a:1kari-personal"


def event(kind: str, connector: FakeConnector, **extra: Any) -> dict[str, Any]:
    activity = teams_message(None, service_url=connector.url, **extra)
    activity["type"] = kind
    return activity


async def install(client: TestClient[Any, Any], connector: FakeConnector, **extra: Any) -> None:
    """What Teams (and the Playground) send when a user adds the app: two announcements."""
    added = event("installationUpdate", connector, action="add", **extra)
    members = event(
        "conversationUpdate",
        connector,
        membersAdded=[{"id": "28:avviksboten"}, {"id": "29:1kari", "aadObjectId": "aad-kari"}],
        **extra,
    )
    for activity in (added, members):
        assert (await client.post("/api/messages", json=activity)).status == 201


async def test_one_welcome_in_the_users_language(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    client = await aiohttp_client(create_app(Settings(dev_mode=True, database_url=sqlite_url)))
    await install(client, connector)
    await install(client, connector)  # reinstalled, or the Playground page reloaded
    [welcome] = connector.texts(PERSONAL)
    assert NN("menu.greeting") in welcome
    assert NN("help.definition") in welcome
    assert NN("menu.what_now") in welcome
    [sent] = connector.sent[PERSONAL]
    first_button = sent["suggestedActions"]["actions"][0]["title"]
    assert first_button == NN("menu.button_report")

    english = "a:1ola-personal"
    await install(
        client,
        connector,
        conversation_id=english,
        locale="en-US",
        user_id="29:ola",
        aad_object_id="aad-ola",
    )
    [welcome] = connector.texts(english)
    assert EN("menu.greeting") in welcome


async def test_the_address_is_kept_and_follows_a_moved_service_url(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    client = await aiohttp_client(create_app(Settings(dev_mode=True, database_url=sqlite_url)))
    engine = create_async_db_engine(sqlite_url)
    sessions = session_factory(engine)
    await install(client, connector)
    async with sessions() as session:
        address = await personal_conversation_of(session, aad_object_id="aad-kari")
    assert address is not None
    assert (address.conversation_id, address.service_url, address.tenant_id) == (
        PERSONAL,
        connector.url,
        "tenant-voss",
    )
    assert address.bot_id == "28:avviksboten"

    moved = FakeConnector()
    await moved.start()
    try:
        message = teams_message("hei", service_url=moved.url)
        assert (await client.post("/api/messages", json=message)).status == 201
        async with sessions() as session:
            address = await personal_conversation_of(session, aad_object_id="aad-kari")
        assert address is not None
        assert address.service_url == moved.url
        assert moved.texts(PERSONAL)  # and the reply went to the new place
    finally:
        await moved.stop()
        await engine.dispose()


async def test_reports_stay_out_of_group_chats_and_channels(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    client = await aiohttp_client(create_app(Settings(dev_mode=True, database_url=sqlite_url)))
    group = "19:groupchat@thread.v2"
    added = event(
        "conversationUpdate",
        connector,
        conversation_id=group,
        membersAdded=[{"id": "28:avviksboten"}],
    )
    added["conversation"]["conversationType"] = "groupChat"
    assert (await client.post("/api/messages", json=added)).status == 201
    assert connector.texts(group) == [NN("menu.welcome_shared")]

    for text in ("meld avvik", "mine avvik"):
        message = teams_message(text, service_url=connector.url, conversation_id=group)
        message["conversation"]["conversationType"] = "groupChat"
        assert (await client.post("/api/messages", json=message)).status == 201
    assert connector.texts(group)[1:] == [NN("menu.personal_only")] * 2


def test_the_models_and_the_migrations_agree(sqlite_url: str) -> None:
    """A table or column added to the models without a migration fails here."""
    engine = create_sync_db_engine(sqlite_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert differences == []
