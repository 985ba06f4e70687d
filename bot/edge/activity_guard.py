"""The HTTP edge of /api/messages: what is not a usable activity gets a 4xx, never a 500."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

MAX_BODY_BYTES = 256 * 1024  # Teams activities are far smaller; cards included
# What the bot stores of an activity's addresses (storage.models: ConversationRef, Person) fits
# these columns; longer, or with a NUL byte, PostgreSQL refuses it and the turn would fail.
_STORED_TEXT: dict[tuple[str, ...], int] = {
    ("serviceUrl",): 512,
    ("channelId",): 40,
    ("conversation", "id"): 512,
    ("conversation", "conversationType"): 40,
    ("conversation", "tenantId"): 100,
    ("channelData", "tenant", "id"): 100,
    ("recipient", "id"): 200,
    ("from", "id"): 200,
    ("from", "aadObjectId"): 200,
    ("from", "name"): 300,
}


def _refuse(status: type[web.HTTPClientError], reason: str) -> web.HTTPClientError:
    return status(text=json.dumps({"error": reason}), content_type="application/json")


def _too_large(size: int) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(
        max_size=MAX_BODY_BYTES,
        actual_size=size,
        text=json.dumps({"error": "activity too large"}),
        content_type="application/json",
    )


def _text_field(body: dict[str, Any], *path: str) -> str | None:
    value: Any = body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


async def read_activity_body(request: web.Request) -> dict[str, Any]:
    """The activity as a JSON object with what a reply needs, or an HTTP error to raise."""
    if request.content_type != "application/json":
        raise _refuse(web.HTTPUnsupportedMediaType, "Content-Type must be application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _too_large(request.content_length)
    raw = await request.read()  # aiohttp itself refuses more than client_max_size
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _refuse(web.HTTPBadRequest, "body is not JSON") from None
    if not isinstance(body, dict):
        raise _refuse(web.HTTPBadRequest, "an activity is a JSON object")
    for path in (("type",), ("serviceUrl",), ("channelId",), ("conversation", "id")):
        if _text_field(body, *path) is None:
            raise _refuse(web.HTTPBadRequest, f"activity lacks {'.'.join(path)}")
    # A missing sender is answered politely by the bot; a malformed one is a broken client.
    for account in ("from", "recipient"):
        if account in body and not _is_account(body[account]):
            raise _refuse(web.HTTPBadRequest, f"activity {account} is not an account")
    for field, longest in _STORED_TEXT.items():
        if not _storable(body, field, longest):
            raise _refuse(web.HTTPBadRequest, f"activity {'.'.join(field)} is not a usable text")
    return body


def _storable(body: dict[str, Any], path: tuple[str, ...], longest: int) -> bool:
    """Absent, or text that fits its column; Teams sends nothing else there."""
    value: Any = body
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return True
        value = value[key]
    if value is None:
        return True
    return isinstance(value, str) and len(value) <= longest and "\x00" not in value


def _is_account(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id", ""), str)
