"""Installing the bot's Teams app for a person through Microsoft Graph, where the admin has
granted the bot's Entra app `TeamsAppInstallation.ReadWriteSelfForUser.All`: Graph lets an app
install itself (the Teams app whose `webApplicationInfo.id` is the caller) and nothing else.

`POST /users/{id}/teamwork/installedApps` answers 201 (installed) or 409 (it already was): both
mean the bot may now open the chat. 403 (no consent) and 404 (no such user, or the app is not in
the organisation's catalogue) are kept as the reason the person cannot be reached; 429, 5xx and
no answer are tried again later. The token comes from MSAL's client-credentials flow with the
bot's own id and secret, cached by MSAL until it expires (docs/outbox.md).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import msal

from bot.proactive.outbox_sender import RETRIED, Later, Unreachable

logger = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com"
LOGIN_URL = "https://login.microsoftonline.com"
_SCOPE = ["https://graph.microsoft.com/.default"]


class NoToken(Exception):
    """No Graph token: the reason, and whether trying again later may help."""

    def __init__(self, reason: str, *, later: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.later = later


class GraphTokens(Protocol):
    async def token(self, tenant_id: str) -> str:
        """An app-only Graph token in the tenant; raises NoToken."""


class AppInstaller(Protocol):
    async def install(self, aad_object_id: str, tenant_id: str) -> Unreachable | Later | None:
        """None once the app is installed for the person (or already was)."""


class MsalTokens:
    """Client credentials (the bot's app id and secret) through MSAL, one client per tenant."""

    def __init__(self, app_id: str, secret: str, *, login_url: str = LOGIN_URL) -> None:
        self._app_id = app_id
        self._secret = secret
        self._login_url = login_url.rstrip("/")
        self._clients: dict[str, msal.ConfidentialClientApplication] = {}

    async def token(self, tenant_id: str) -> str:
        # MSAL is synchronous (requests); its first call also reads the tenant's metadata.
        result = await asyncio.to_thread(self._acquire, tenant_id)
        token = result.get("access_token")
        if isinstance(token, str) and token:
            return token
        error = result.get("error") or "no answer"
        # invalid_client and the like are for the admin to mend; anything else may pass.
        raise NoToken(f"no Graph token: {error}", later=not str(error).startswith("invalid_"))

    def _acquire(self, tenant_id: str) -> dict[str, Any]:
        try:
            client = self._clients.get(tenant_id)
            if client is None:
                client = msal.ConfidentialClientApplication(
                    self._app_id,
                    client_credential=self._secret,
                    authority=f"{self._login_url}/{tenant_id}",
                )
                self._clients[tenant_id] = client
            result = client.acquire_token_for_client(scopes=_SCOPE)
        except Exception as error:  # network, metadata: MSAL raises many kinds
            logger.warning("no Graph token", exc_info=True)
            return {"error": f"unavailable ({type(error).__name__})"}
        return result if isinstance(result, dict) else {}


class GraphAppInstaller:
    def __init__(
        self,
        tokens: GraphTokens,
        catalog_app_id: str,
        *,
        graph_url: str = GRAPH_URL,
        timeout_seconds: float = 15.0,
    ) -> None:
        self._tokens = tokens
        self._catalog_app_id = catalog_app_id
        self._graph_url = graph_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def install(self, aad_object_id: str, tenant_id: str) -> Unreachable | Later | None:
        try:
            token = await self._tokens.token(tenant_id)
        except NoToken as no:
            return Later(no.reason) if no.later else Unreachable(no.reason)
        url = f"{self._graph_url}/v1.0/users/{quote(aad_object_id, safe='')}/teamwork/installedApps"
        app = f"{self._graph_url}/v1.0/appCatalogs/teamsApps/{quote(self._catalog_app_id)}"
        try:
            # A session per installation: there is one per person, ever.
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.post(
                    url,
                    json={"teamsApp@odata.bind": app},
                    headers={"Authorization": f"Bearer {token}"},
                ) as response,
            ):
                status = response.status
                code = await _error_code(response)
                retry_after = _seconds(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as error:
            return Later(f"Graph did not answer ({type(error).__name__})")
        if status in (200, 201, 409):
            return None
        answer = f"{status} {code}".strip()
        if status in RETRIED:
            return Later(f"Graph is busy: {answer}", retry_after)
        if status in (401, 403):
            return Unreachable(
                f"Graph refused to install the app ({answer}): has the admin granted "
                "TeamsAppInstallation.ReadWriteSelfForUser.All?"
            )
        if status == 404:
            return Unreachable(
                f"Graph could not install the app ({answer}): no such user, or the app is not "
                "in the organisation's app catalogue (AVVIK_TEAMS_CATALOG_APP_ID)"
            )
        return Unreachable(f"Graph could not install the app ({answer})")


async def _error_code(response: aiohttp.ClientResponse) -> str:
    if response.status < 400:
        return ""
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else ""


def _seconds(value: str | None) -> float | None:
    try:
        return min(float(value), 600.0) if value else None
    except ValueError:
        return None
