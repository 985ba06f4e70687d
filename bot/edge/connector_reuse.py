"""Reuse the Bot Connector clients across turns instead of building two new ones per turn.

Out of the box the SDK's CloudAdapter builds, for every incoming activity, a new
`ConnectorClient` (a new HTTP session: in production a new TLS handshake to Teams per turn) and
a new OAuth `TokenApiClient` that this bot never uses. Each costs a msrest retry-policy set-up
that, measured with py-spy under `bench/turns.py`, took a quarter of the bot's CPU.

`ReusingAuthentication` wraps the SDK's `BotFrameworkAuthentication` (the seam the SDK offers
for this): connector clients are kept per (bot app id, service URL, audience), and the token
client is created only when something asks it for a token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import requests
from botframework.connector.auth import (
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
)

from bot.edge.connector_transport import use_aiohttp

_ClientKey = tuple[str | None, str, str | None]


class _ReusingConnectorFactory(ConnectorFactory):  # type: ignore[misc]  # the SDK is untyped
    def __init__(self, inner: Any, app_id: str | None, clients: dict[_ClientKey, Any]) -> None:
        self._inner = inner
        self._app_id = app_id
        self._clients = clients

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience)
        client = self._clients.get(key)
        if client is None:
            client = use_aiohttp(await self._inner.create(service_url, audience))
            # Two turns may race here: the first one kept, the other's session closed.
            kept = self._clients.setdefault(key, client)
            if kept is not client:
                await client.__aexit__(None, None, None)
            client = kept
        return client


class _LazyUserTokenClient:
    """Stands in for the SDK's UserTokenClient; builds the real one on first use (OAuth)."""

    def __init__(self, create: Callable[[], Awaitable[Any]]) -> None:
        self._create = create
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if self._client is None:
                self._client = await self._create()
            return await getattr(self._client, name)(*args, **kwargs)

        return call


def _app_id(claims_identity: ClaimsIdentity | None) -> str | None:
    if claims_identity is None or not claims_identity.claims:
        return None
    app_id: str | None = JwtTokenValidation.get_app_id_from_claims(claims_identity.claims)
    return app_id


class AuthenticationUnavailable(Exception):
    """Authentication could not be checked right now (503, so the connector tries again)."""


class ReusingAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._clients: dict[_ClientKey, Any] = {}

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except requests.RequestException as error:
            # The Bot Framework's signing keys could not be fetched: not the caller's fault.
            raise AuthenticationUnavailable from error
        except Exception as error:
            # The SDK lets PyJWT's errors (expired, bad signature, garbage), an IndexError for an
            # unknown key id and bare Exceptions escape; each means «not authenticated», and a
            # 500 would make the connector retry a request that can never succeed.
            raise PermissionError(f"not authenticated: {type(error).__name__}") from error
        if result.connector_factory is not None:
            result.connector_factory = _ReusingConnectorFactory(
                result.connector_factory, _app_id(result.claims_identity), self._clients
            )
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ReusingConnectorFactory(
            self._inner.create_connector_factory(claims_identity),
            _app_id(claims_identity),
            self._clients,
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        return _LazyUserTokenClient(lambda: self._inner.create_user_token_client(claims_identity))

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        audience: str = self._inner.get_originating_audience()
        return audience

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

    async def close(self) -> None:
        """Close the kept HTTP sessions; called when the app stops."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.__aexit__(None, None, None)
