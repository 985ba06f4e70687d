"""Proactive sends: retried when Teams says «later» (429/412/502/504), final when it says «no»."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botbuilder.core import MessageFactory
from botbuilder.integration.aiohttp import CloudAdapter

from bot.app import build_adapter
from bot.config import Settings
from bot.proactive.messenger import DeliveryFailed, RetryPolicy, TeamsMessenger, steady_limiter
from storage.conversations import ConversationAddress
from tests.fake_connector import FakeConnector

QUICK = RetryPolicy(attempts=4, first_wait=0.01, longest_wait=0.05)


def address(connector: FakeConnector, conversation: str = "a:1liv-personal") -> ConversationAddress:
    return ConversationAddress(
        conversation_id=conversation,
        conversation_type="personal",
        person_aad_object_id="aad-liv",
        channel_id="msteams",
        service_url=connector.url,
        tenant_id="tenant-voss",
        bot_id="28:avviksboten",
    )


async def swallow(_context: Any, _error: Exception) -> None:
    return None


@pytest.fixture
async def adapter() -> AsyncIterator[CloudAdapter]:
    adapter = build_adapter(Settings(dev_mode=True))
    # As in the app: a turn-error handler that would swallow a failed proactive send.
    adapter.on_turn_error = swallow
    yield adapter
    await adapter.bot_framework_authentication.close()


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_a_busy_answer_is_retried_until_it_goes_through(
    connector: FakeConnector, adapter: CloudAdapter, status: int
) -> None:
    connector.failures = [(status, {}), (status, {})]
    messenger = TeamsMessenger(adapter, "", policy=QUICK)
    activity_id = await messenger.send(address(connector), MessageFactory.text("Nytt avvik"))
    assert activity_id.startswith("reply-")
    assert connector.requests == 3
    assert connector.texts("a:1liv-personal") == ["Nytt avvik"]  # once, not three times


async def test_retry_after_is_honoured(connector: FakeConnector, adapter: CloudAdapter) -> None:
    connector.failures = [(429, {"Retry-After": "0.3"})]
    messenger = TeamsMessenger(adapter, "", policy=QUICK)
    await messenger.send(address(connector), MessageFactory.text("Nytt avvik"))
    first, second = connector.request_times
    assert second - first >= 0.3


@pytest.mark.parametrize("status", [403, 404, 400])
async def test_a_refusal_is_final_and_reported(
    connector: FakeConnector, adapter: CloudAdapter, status: int
) -> None:
    # 403: the app is not installed for that person; asking again will not change it.
    connector.failures = [(status, {})]
    messenger = TeamsMessenger(adapter, "", policy=QUICK)
    with pytest.raises(DeliveryFailed):
        await messenger.send(address(connector), MessageFactory.text("Nytt avvik"))
    assert connector.requests == 1


async def test_it_gives_up_after_the_last_attempt(
    connector: FakeConnector, adapter: CloudAdapter
) -> None:
    connector.failures = [(429, {})] * 10
    messenger = TeamsMessenger(adapter, "", policy=QUICK)
    with pytest.raises(DeliveryFailed):
        await messenger.send(address(connector), MessageFactory.text("Nytt avvik"))
    assert connector.requests == QUICK.attempts


async def test_sends_keep_to_the_rate_limit(
    connector: FakeConnector, adapter: CloudAdapter
) -> None:
    # Teams allows 50 a second; the same limiter, at 10 a second so the test is short.
    messenger = TeamsMessenger(
        adapter, "", policy=QUICK, limiter_factory=lambda: steady_limiter(10)
    )
    many = [address(connector, f"a:1leader{n}-personal") for n in range(16)]
    await asyncio.gather(*(messenger.send(a, MessageFactory.text("Nytt avvik")) for a in many))
    assert connector.requests == 16
    assert connector.busiest_second() <= 10


async def test_an_update_replaces_the_message_in_place(
    connector: FakeConnector, adapter: CloudAdapter
) -> None:
    messenger = TeamsMessenger(adapter, "", policy=QUICK)
    sent = await messenger.send(address(connector), MessageFactory.text("Ny"))
    connector.failures = [(502, {})]
    await messenger.update(address(connector), sent, MessageFactory.text("Motteke"))
    [(activity_id, replacement)] = connector.updated["a:1liv-personal"]
    assert (activity_id, replacement["text"]) == (sent, "Motteke")


@pytest.mark.parametrize("what", ["send", "update"])
async def test_a_connection_closed_without_an_answer_is_tried_again(
    connector: FakeConnector, adapter: CloudAdapter, what: str
) -> None:
    # Under the app's turn-error handler, which would swallow anything it was handed: the
    # failure must come back to the messenger to be tried again (bot/edge/connector_transport).
    messenger = TeamsMessenger(adapter, "", policy=QUICK)
    if what == "send":
        connector.dropped = 1
        sent = await messenger.send(address(connector), MessageFactory.text("Nytt avvik"))
        assert sent.startswith("reply-")
        assert connector.texts("a:1liv-personal") == ["Nytt avvik"]
    else:
        sent = await messenger.send(address(connector), MessageFactory.text("Ny"))
        connector.dropped = 1
        await messenger.update(address(connector), sent, MessageFactory.text("Motteke"))
        [(activity_id, replacement)] = connector.updated["a:1liv-personal"]
        assert (activity_id, replacement["text"]) == (sent, "Motteke")
