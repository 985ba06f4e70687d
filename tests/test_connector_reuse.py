"""Connector clients are built once per service URL; the OAuth client only when used."""

from __future__ import annotations

from typing import Any

from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity

from bot.edge.connector_reuse import ReusingAuthentication


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
