"""A local stand-in for Microsoft Graph's app installation for a user
(`POST /v1.0/users/{id}/teamwork/installedApps`), on a free loopback port. An installation
tells the fake Bot Connector, which then opens chats with that person, as Teams does."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.proactive.app_install import NoToken
from tests.fake_connector import FakeConnector

TOKEN = "graph-token-for-tests"


class FakeGraph:
    def __init__(self, connector: FakeConnector) -> None:
        self._connector = connector
        self.requests: list[tuple[str, dict[str, Any], str]] = []  # (user, body, authorization)
        # Answers instead of installing, one per request, oldest first: (status, code, headers).
        self.answers: list[tuple[int, str, dict[str, str]]] = []
        self.unknown: set[str] = set()  # users Entra ID has never heard of (404)
        self.delay = 0.0  # seconds before answering (a Graph that does not answer in time)
        # The app is installed, but Teams opens the chat only when told (installationUpdate).
        self.teams_lags = False
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1.0/users/{user}/teamwork/installedApps", self._install)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _install(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        body = await request.json()
        self.requests.append((user, body, request.headers.get("Authorization", "")))
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(401, "InvalidAuthenticationToken")
        if self.answers:
            status, code, headers = self.answers.pop(0)
            return _error(status, code, headers)
        if user in self.unknown:
            return _error(404, "NotFound")
        if user in self._connector.installed:
            return _error(409, "Conflict")
        if not self.teams_lags:
            self._connector.installed.add(user)
        return web.json_response({}, status=201)


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": f"fake {code}"}}, status=status, headers=headers
    )


class FakeTokens:
    """The token MSAL would get; or its refusal."""

    def __init__(self) -> None:
        self.refusal: str | None = None

    async def token(self, tenant_id: str) -> str:
        if self.refusal:
            raise NoToken(self.refusal)
        assert tenant_id == "tenant-voss"
        return TOKEN
