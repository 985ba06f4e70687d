"""Logging: one JSON object per line in production, a request id on every record.

The request id comes from the caller (`X-Request-Id`, or Teams' `MS-CV` correlation vector)
or is made here; it is set for the whole turn, and background work started by the turn
(telling leaders) carries it too, because asyncio copies context into new tasks.
What people wrote never goes in a log line at INFO or above (tests/test_logging.py).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar

from aiohttp import web
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_HEADER = "X-Request-Id"
_SAFE_ID_LENGTH = 100


# A statistics link (bot/statistics/links.py) works for anyone who has it: never in a log line.
_LINK_TOKEN = re.compile(r"/stats/[^/\s]+/")


class _MaskLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/stats/" in message:
            record.msg, record.args = _LINK_TOKEN.sub("/stats/…/", message), None
        return True


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def configure_logging(env: Mapping[str, str], *, dev_mode: bool) -> None:
    """`AVVIK_LOG_FORMAT=json|text` (default: json, or text in dev mode), `AVVIK_LOG_LEVEL`."""
    fmt = env.get("AVVIK_LOG_FORMAT", "text" if dev_mode else "json").strip().lower()
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.addFilter(_MaskLinkTokens())
    if fmt == "text":
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    else:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(env.get("AVVIK_LOG_LEVEL", "INFO").strip().upper() or "INFO")


def _request_id(request: web.Request) -> str:
    given = request.headers.get(_HEADER) or request.headers.get("MS-CV") or ""
    # Keep a caller's id only when it is short and plain: it is written into every log line.
    if (
        given
        and len(given) <= _SAFE_ID_LENGTH
        and given.replace("-", "").replace(".", "").isalnum()
    ):
        return given
    return uuid.uuid4().hex


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Not reset afterwards: aiohttp writes the access log line after this returns, and it
    # should carry the id too; the next request on the connection sets its own.
    REQUEST_ID.set(_request_id(request))
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers[_HEADER] = REQUEST_ID.get()
        raise
    response.headers[_HEADER] = REQUEST_ID.get()
    return response
