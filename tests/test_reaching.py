"""Reaching people who never opened the bot (bot/proactive/chat_opener.py, app_install.py):
Teams opens the chat when the app is installed for them; otherwise the app is installed through
a local fake of Microsoft Graph where the admin allowed it; otherwise their messages wait and
the HMS adviser is told. On SQLite and PostgreSQL, against the fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import col

from bot.config import SettingsError, load_settings
from bot.proactive.app_install import GraphAppInstaller
from bot.proactive.chat_opener import OpenerSettings
from bot.proactive.conversation_book import ConversationBook
from bot.proactive.nudges import nudge_message
from bot.proactive.outbox_sender import OutboxSender
from storage import outbox
from storage.conversations import ConversationAddress
from storage.db import SessionFactory
from storage.models import ConversationRef
from tests.chat import NN
from tests.fake_connector import FakeConnector
from tests.fake_graph import TOKEN, FakeGraph, FakeTokens
from tests.test_outbox import QUICK, Post, reach_json, voss_post

CATALOG_APP_ID = "0c9a4b7e-avviksboten-catalog"
LARS_CHAT = "a:1aad-lars-opened"  # the chat the fake connector opens with Lars


@pytest.fixture
async def lars(sessions: SessionFactory, connector: FakeConnector) -> AsyncIterator[Post]:
    """Lars (deputy leader at Vossevangen skule) has never written to the bot; the others
    have."""
    async with voss_post(sessions, connector) as post:
        async with post.sessions() as session, session.begin():
            await session.execute(
                delete(ConversationRef).where(
                    col(ConversationRef.person_aad_object_id) == "aad-lars"
                )
            )
        yield post


@pytest.fixture
async def graph(connector: FakeConnector) -> AsyncIterator[FakeGraph]:
    fake = FakeGraph(connector)
    await fake.start()
    yield fake
    await fake.stop()


def installer(graph: FakeGraph, tokens: FakeTokens | None = None, timeout: float = 5.0) -> Any:
    return GraphAppInstaller(
        tokens or FakeTokens(), CATALOG_APP_ID, graph_url=graph.url, timeout_seconds=timeout
    )


def with_graph(post: Post, graph: FakeGraph, **kwargs: Any) -> OutboxSender:
    return post.sender(installer=installer(graph, **kwargs))


def nudge(i: int = 0) -> str:
    return nudge_message(NN, unit_name=f"Eining {i}", month=202611)


async def status_of(post: Post, name: str) -> tuple[str, str | None]:
    [row] = [r for r in await post.rows() if r.person_id == post.ids[name]]
    return row.status, row.last_error


async def adviser_told(post: Post) -> list[str]:
    return [t for t in post.connector.texts("a:1hanne-personal") if "Lars" in t]


async def test_teams_opens_the_chat_when_the_app_is_installed_for_them(lars: Post) -> None:
    """An admin's policy installed the app for Lars: the bot opens the chat itself, with his
    Entra id in Voss's tenant, writes it down, and the next message needs no new chat."""
    lars.connector.installed.add("aad-lars")
    await lars.queue("lars", 2)
    await lars.sender().drain()
    assert lars.connector.texts(LARS_CHAT) == [nudge(0), nudge(1)]
    [opened] = lars.connector.opened
    assert opened["members"] == [{"id": "aad-lars"}]
    assert opened["tenantID"] == "tenant-voss"  # as the SDK spells it
    assert opened["channelData"] == {"tenant": {"id": "tenant-voss"}}
    assert opened["bot"]["id"] == "28:avviksboten"
    async with lars.sessions() as session:
        ref = await session.get(ConversationRef, LARS_CHAT)
    assert ref is not None
    assert ref.person_aad_object_id == "aad-lars"
    await lars.queue("lars", 3)  # a third message
    await lars.sender().drain()
    assert len(lars.connector.opened) == 1
    assert lars.connector.texts(LARS_CHAT)[-1] == nudge(2)


async def test_without_the_app_and_without_graph_the_message_waits(lars: Post) -> None:
    await lars.queue("lars")
    await lars.sender().drain()
    assert await status_of(lars, "lars") == ("waiting", "the app is not installed for them")
    assert len(await adviser_told(lars)) == 1


async def test_graph_installs_the_app_and_the_card_goes_out(lars: Post, graph: FakeGraph) -> None:
    await lars.queue("lars")
    await with_graph(lars, graph).drain()
    assert lars.connector.texts(LARS_CHAT) == [nudge()]
    [(user, body, authorization)] = graph.requests
    assert user == "aad-lars"
    assert body == {
        "teamsApp@odata.bind": f"{graph.url}/v1.0/appCatalogs/teamsApps/{CATALOG_APP_ID}"
    }
    assert authorization == f"Bearer {TOKEN}"
    assert await status_of(lars, "lars") == ("sent", None)
    assert await adviser_told(lars) == []


async def test_graph_409_means_it_was_installed_already(lars: Post, graph: FakeGraph) -> None:
    """Teams said «not in the roster» a moment before someone installed it: Graph answers
    409, which is as good as 201."""
    graph.answers.append((409, "Conflict", {}))
    lars.connector.failures.append((403, {}))  # the first «open» came before the install
    lars.connector.installed.add("aad-lars")
    await lars.queue("lars")
    await with_graph(lars, graph).drain()
    assert lars.connector.texts(LARS_CHAT) == [nudge()]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((403, "Forbidden", {}), "Graph refused to install the app (403 Forbidden)"),
        ((404, "NotFound", {}), "Graph could not install the app (404 NotFound): no such user"),
    ],
    ids=["403 no consent", "404 no such user"],
)
async def test_graph_refusing_leaves_the_message_waiting_with_the_reason(
    lars: Post,
    graph: FakeGraph,
    answer: tuple[int, str, dict[str, str]],
    reason: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    graph.answers.append(answer)
    await lars.queue("lars", 2)
    sender = with_graph(lars, graph)
    await sender.drain()
    for row in [r for r in await lars.rows() if r.person_id == lars.ids["lars"]]:
        assert row.status == "waiting"
        assert (row.last_error or "").startswith(reason)
    assert len(graph.requests) == 1  # one try for his two messages, not one each
    assert lars.connector.texts(LARS_CHAT) == []
    assert len(await adviser_told(lars)) == 1
    people = await reach_json(database_url, monkeypatch, capsys)
    assert people["Lars Nestleiar"]["reachable"] is False
    assert reason in people["Lars Nestleiar"]["reason"]
    assert people["Lars Nestleiar"]["waiting"] == 2


async def test_a_graph_that_does_not_answer_in_time_is_tried_again(
    lars: Post, graph: FakeGraph
) -> None:
    graph.delay = 2.0
    await lars.queue("lars")
    await with_graph(lars, graph, timeout=0.3).drain()
    status, error = await status_of(lars, "lars")
    assert (status, error) == ("queued", "Graph did not answer (TimeoutError)")
    assert await adviser_told(lars) == []  # not yet: it may well work in a moment
    graph.delay = 0.0
    lars.clock.now += timedelta(seconds=QUICK.longest_wait_seconds)
    await with_graph(lars, graph, timeout=0.3).drain()
    assert lars.connector.texts(LARS_CHAT) == [nudge()]


async def test_graph_busy_is_tried_again_after_its_retry_after(
    lars: Post, graph: FakeGraph
) -> None:
    graph.answers.append((429, "TooManyRequests", {"Retry-After": "30"}))
    await lars.queue("lars")
    await with_graph(lars, graph).drain()
    [row] = [r for r in await lars.rows() if r.person_id == lars.ids["lars"]]
    assert (row.status, row.last_error) == ("queued", "Graph is busy: 429 TooManyRequests")
    assert row.not_before >= lars.clock.now + timedelta(seconds=30)
    lars.clock.now = row.not_before
    await with_graph(lars, graph).drain()
    assert lars.connector.texts(LARS_CHAT) == [nudge()]


async def test_without_a_graph_token_the_reason_is_kept(lars: Post, graph: FakeGraph) -> None:
    tokens = FakeTokens()
    tokens.refusal = "no Graph token: invalid_client"
    await lars.queue("lars")
    await with_graph(lars, graph, tokens=tokens).drain()
    assert await status_of(lars, "lars") == ("waiting", "no Graph token: invalid_client")
    assert graph.requests == []


async def test_installed_but_teams_opens_the_chat_later(lars: Post, graph: FakeGraph) -> None:
    """Graph installed the app, but Teams is not ready to open the chat: the message is tried
    again shortly, and goes the moment Teams tells the bot of the installation."""
    graph.teams_lags = True
    await lars.queue("lars")
    await with_graph(lars, graph).drain()
    status, error = await status_of(lars, "lars")
    assert status == "queued"
    assert error == "installed for them through Graph; Teams has not opened the chat yet"
    assert await adviser_told(lars) == []
    # Teams tells the bot (installationUpdate in Lars's new chat): the handler writes it down.
    await ConversationBook(lars.sessions).remember(
        ConversationAddress(
            "a:1lars-installed",
            "personal",
            "aad-lars",
            "msteams",
            lars.connector.url,
            "tenant-voss",
            "28:avviksboten",
        )
    )
    lars.clock.now += timedelta(seconds=QUICK.longest_wait_seconds)
    await with_graph(lars, graph).drain()
    assert lars.connector.texts("a:1lars-installed") == [nudge()]


async def test_an_admin_who_keeps_the_bot_from_someone_is_not_worked_around(
    lars: Post, graph: FakeGraph
) -> None:
    """403 «BotDisabledByAdmin»: the tenant's admin blocks the bot for Lars. Installing it
    behind the admin's back would not help, and is not tried."""
    lars.connector.disabled.add("aad-lars")
    await lars.queue("lars")
    await with_graph(lars, graph).drain()
    assert await status_of(lars, "lars") == (
        "waiting",
        "Teams refused to open a chat: 403 BotDisabledByAdmin",
    )
    assert graph.requests == []


async def test_before_anyone_has_written_the_tenant_comes_from_the_settings(
    lars: Post, graph: FakeGraph
) -> None:
    """A fresh installation: nobody has written to the bot yet. Without the tenant in the
    settings nothing can be opened; with it (and the connector's address), it can."""
    async with lars.sessions() as session, session.begin():
        await session.execute(delete(ConversationRef))
    lars.connector.installed.add("aad-lars")
    await lars.queue("lars")
    await lars.sender().drain()
    status, error = await status_of(lars, "lars")
    assert status == "waiting"
    assert "tenant is not known" in (error or "")
    settings = OpenerSettings(
        service_url=lars.connector.url, tenant_id="tenant-voss", bot_id="28:avviksboten"
    )
    async with lars.sessions() as session, session.begin():
        await outbox.wake_person(session, aad_object_id="aad-lars")
    await lars.sender(opener=settings).drain()
    assert lars.connector.texts(LARS_CHAT) == [nudge()]


def test_installing_through_graph_needs_the_bots_secret() -> None:
    base = {"MicrosoftAppId": "6f1b6e0e-2c3a-4a57-9b1e-0d3c5a7e9f11", "AVVIK_GRAPH_INSTALL": "1"}
    settings = load_settings({**base, "MicrosoftAppPassword": "s3cret"})
    assert settings.graph_install
    with pytest.raises(SettingsError, match="AVVIK_GRAPH_INSTALL"):
        load_settings({**base, "MicrosoftAppType": "UserAssignedMSI", "MicrosoftAppTenantId": "t"})
    assert not load_settings(
        {**base, "AVVIK_GRAPH_INSTALL": "0", "MicrosoftAppPassword": "s"}
    ).graph_install
