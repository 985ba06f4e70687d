"""With a bot id set, only the Bot Framework may talk to /api/messages: every request carries a
JWT signed by its keys, for this bot, not expired. Anything else is a 401 and reaches nothing.

The SDK fetches the signing keys from login.botframework.com; here that fetch returns our own
test key instead (the network is closed in tests), and the SDK's own validation does the rest.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Settings
from storage.db import create_async_db_engine, session_factory
from storage.models import BotState, ConversationRef
from tests.fake_connector import FakeConnector, teams_message
from tests.test_http import ClientMaker

BOT_ID = "6f1b6e0e-2c3a-4a57-9b1e-0d3c5a7e9f11"
ISSUER = "https://api.botframework.com"
KEY_ID = "avvik-test-key"
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(autouse=True)
def _bot_framework_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Bot Framework's published keys are, for these tests, our test key."""
    from botframework.connector.auth import jwt_token_extractor

    jwk = json.loads(RSAAlgorithm.to_jwk(SIGNING_KEY.public_key()))
    jwk.update(kid=KEY_ID, endorsements=["msteams"])

    async def refresh(self: Any) -> None:
        self.keys = [jwk]
        self.last_updated = datetime.now()

    monkeypatch.setattr(jwt_token_extractor._OpenIdMetadata, "_refresh", refresh)
    # The SDK caches fetched keys for a day in a class attribute: start each test without.
    monkeypatch.setattr(jwt_token_extractor.JwtTokenExtractor, "metadataCache", {})


def token(
    *,
    audience: str = BOT_ID,
    issuer: str = ISSUER,
    expires_in: int = 3600,
    key: rsa.RSAPrivateKey = SIGNING_KEY,
    service_url: str | None = None,
    kid: str = KEY_ID,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": issuer,
        "nbf": now - 60,
        "exp": now + expires_in,
    }
    if service_url:
        claims["serviceurl"] = service_url
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def secured(database_url: str) -> Settings:
    return Settings(app_id=BOT_ID, app_password="not-used-here", database_url=database_url)


async def reached(database_url: str) -> tuple[int, int]:
    """Bot state and conversation references written: what any turn leaves behind."""
    engine = create_async_db_engine(database_url)
    async with session_factory(engine)() as session:
        states = await session.scalar(select(func.count()).select_from(BotState))
        refs = await session.scalar(select(func.count()).select_from(ConversationRef))
    await engine.dispose()
    return int(states or 0), int(refs or 0)


async def post(client: TestClient[Any, Any], body: Any, authorization: str | None) -> int:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.post("/api/messages", json=body, headers=headers)
    return response.status


async def test_a_token_from_the_bot_framework_is_let_in(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    """The control: the same setup lets a good token through, so the refusals below are real."""
    client = await aiohttp_client(create_app(secured(sqlite_url)))
    body = teams_message("meld avvik", service_url=connector.url)
    assert await post(client, body, f"Bearer {token(service_url=connector.url)}") == 201
    assert await reached(sqlite_url) != (0, 0)


BAD = {
    "no header": None,
    "empty": "",
    "not bearer": "Basic dXNlcjpwYXNz",
    "bearer, no token": "Bearer ",
    "garbage": "Bearer not.a.jwt",
    "expired": "expired",
    "for another bot": "other-audience",
    "wrong issuer": "other-issuer",
    "signed by someone else": "other-key",
    "unknown key id": "unknown-kid",
    "unsigned (alg none)": "alg-none",
}


def bad_header(kind: str | None, service_url: str) -> str | None:
    made = {
        "expired": lambda: token(expires_in=-3600, service_url=service_url),
        "other-audience": lambda: token(audience="someone-elses-bot", service_url=service_url),
        "other-issuer": lambda: token(issuer="https://evil.example", service_url=service_url),
        "other-key": lambda: token(key=OTHER_KEY, service_url=service_url),
        "unknown-kid": lambda: token(kid="not-a-published-key", service_url=service_url),
        "alg-none": lambda: jwt.encode(
            {"aud": BOT_ID, "iss": ISSUER, "exp": int(time.time()) + 3600}, None, algorithm="none"
        ),
    }
    if kind in made:
        return f"Bearer {made[kind]()}"
    return kind


@pytest.mark.parametrize("case", BAD)
async def test_anything_else_is_refused_and_reaches_nothing(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str, case: str
) -> None:
    client = await aiohttp_client(create_app(secured(sqlite_url)))
    body = teams_message("meld avvik", service_url=connector.url)
    assert await post(client, body, bad_header(BAD[case], connector.url)) == 401
    assert await reached(sqlite_url) == (0, 0)
    assert connector.sent == {}


def test_without_a_bot_id_the_service_does_not_start_unless_dev_mode_is_asked_for() -> None:
    from bot.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match="AVVIK_DEV_MODE"):
        load_settings({})
    assert load_settings({"AVVIK_DEV_MODE": "1"}).auth_enabled is False
    assert load_settings({"MicrosoftAppId": BOT_ID, "MicrosoftAppPassword": "x"}).auth_enabled


async def test_when_the_keys_cannot_be_fetched_the_connector_is_asked_to_retry(
    aiohttp_client: ClientMaker,
    connector: FakeConnector,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import requests
    from botframework.connector.auth import jwt_token_extractor

    async def unreachable(self: Any) -> None:
        raise requests.ConnectionError("login.botframework.com unreachable")

    monkeypatch.setattr(jwt_token_extractor._OpenIdMetadata, "_refresh", unreachable)
    monkeypatch.setattr(jwt_token_extractor.JwtTokenExtractor, "metadataCache", {})
    client = await aiohttp_client(create_app(secured(sqlite_url)))
    body = teams_message("meld avvik", service_url=connector.url)
    assert await post(client, body, f"Bearer {token(service_url=connector.url)}") == 503
    assert await reached(sqlite_url) == (0, 0)
