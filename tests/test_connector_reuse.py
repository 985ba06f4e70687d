"""Connector clients are built once per service URL; the OAuth client only when used."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    ClaimsIdentity,
    MicrosoftAppCredentials,
)

from bot.edge.connector_reuse import ReusingAuthentication
from bot.edge.connector_transport import use_aiohttp
from bot.proactive.messenger import _retry_after, _retryable, status_of


class CountingFactory:
    def __init__(self, built: list[str]) -> None:
        self.built = built

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        self.built.append(service_url)
        return FakeClient(service_url)


class FakeClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.closed = False

    async def __aexit__(self, *exc: object) -> None:
        self.closed = True


class FakeTokenClient:
    async def get_user_token(self, user_id: str, connection: str, channel: str, code: str) -> str:
        return f"token for {user_id}"


class FakeAuthentication:
    def __init__(self) -> None:
        self.built: list[str] = []
        self.token_clients = 0

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        result = AuthenticateRequestResult()
        result.claims_identity = ClaimsIdentity({"appid": "bot-app"}, True)
        result.connector_factory = CountingFactory(self.built)
        result.audience = "https://api.botframework.com"
        return result

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        self.token_clients += 1
        return FakeTokenClient()


async def test_one_client_per_service_url_across_turns() -> None:
    inner = FakeAuthentication()
    reusing = ReusingAuthentication(inner)  # type: ignore[arg-type]
    clients = []
    for url in ["https://smba.emea/", "https://smba.emea/", "https://smba.amer/"]:
        result = await reusing.authenticate_request(None, "Bearer x")
        clients.append(await result.connector_factory.create(url, result.audience))
    assert inner.built == ["https://smba.emea/", "https://smba.amer/"]
    assert clients[0] is clients[1]
    assert clients[0] is not clients[2]

    await reusing.close()
    assert all(client.closed for client in clients)


async def test_the_token_client_is_built_only_when_asked_for_a_token() -> None:
    inner = FakeAuthentication()
    reusing = ReusingAuthentication(inner)  # type: ignore[arg-type]
    lazy = await reusing.create_user_token_client(ClaimsIdentity({}, True))
    assert inner.token_clients == 0
    assert await lazy.get_user_token("kari", "aad", "msteams", "") == "token for kari"
    assert await lazy.get_user_token("kari", "aad", "msteams", "") == "token for kari"
    assert inner.token_clients == 1


# ---- the client's HTTP on aiohttp (bot/edge/connector_transport.py) -------------------------


class _Credentials(MicrosoftAppCredentials):  # type: ignore[misc]  # the SDK is untyped
    """The bot's credentials with MSAL left out: its token is «token-42»."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return "token-42"


async def _connector(aiohttp_server: Any, answer: int) -> tuple[Any, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        seen.append({"auth": request.headers.get("Authorization"), "body": await request.json()})
        if answer == 429:
            return web.json_response({}, status=429, headers={"Retry-After": "3"})
        return web.json_response({"id": "m1"})

    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities", receive)
    return await aiohttp_server(app), seen


@pytest.mark.parametrize(("app_id", "auth"), [("bot-app", "Bearer token-42"), ("", None)])
async def test_a_message_goes_with_its_body_and_the_bots_token(
    aiohttp_server: Any, app_id: str, auth: str | None
) -> None:
    server, seen = await _connector(aiohttp_server, 200)
    client = use_aiohttp(ConnectorClient(_Credentials(app_id, "secret"), str(server.make_url("/"))))
    async with client:
        sent = await client.conversations.send_to_conversation(
            "a:1kari", Activity(type="message", text="Hei Kari")
        )
    assert sent.id == "m1"
    assert seen == [{"auth": auth, "body": seen[0]["body"]}]
    assert seen[0]["body"]["text"] == "Hei Kari"


async def test_a_429_reaches_the_messenger_with_its_status_and_retry_after(
    aiohttp_server: Any,
) -> None:
    server, _ = await _connector(aiohttp_server, 429)
    client = use_aiohttp(ConnectorClient(_Credentials("", ""), str(server.make_url("/"))))
    async with client:
        with pytest.raises(Exception) as raised:  # noqa: PT011 (the SDK's own exception type)
            await client.conversations.send_to_conversation(
                "a:1kari", Activity(type="message", text="Hei")
            )
    assert status_of(raised.value) == 429
    assert _retry_after(raised.value) == 3.0


@pytest.mark.parametrize(("status", "retried"), [(202, False), (429, True), (502, True)])
async def test_an_answer_without_a_body_is_read_by_its_status(
    aiohttp_server: Any, status: int, retried: bool
) -> None:
    # A gateway's bare 502, Teams' 202 for an update: no body, and no «Body is not available».
    async def bare(_request: web.Request) -> web.Response:
        return web.Response(status=status)

    app = web.Application()
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", bare)
    server = await aiohttp_server(app)
    client = use_aiohttp(ConnectorClient(_Credentials("", ""), str(server.make_url("/"))))
    async with client:
        try:
            await client.conversations.update_activity(
                "a:1kari", "m1", Activity(type="message", text="Motteke")
            )
            failed: BaseException | None = None
        except Exception as error:
            failed = error
    if retried:
        assert failed is not None
        assert status_of(failed) == status
        assert _retryable(failed)
    else:
        assert failed is None
