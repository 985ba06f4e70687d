"""A local stand-in for the Bot Connector: records every activity the bot sends.

Used by the HTTP tests and by `bench/turns.py`. It listens on a free loopback port.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections import defaultdict
from typing import Any

from aiohttp import web


class FakeConnector:
    def __init__(self) -> None:
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        # conversation -> (activity id, the activity that replaced it)
        self.updated: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        # Answers to give instead of success, one per request, oldest first: (status, headers).
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.refused: set[str] = set()  # conversations that answer 403 (the app was removed)
        self.blocked: set[str] = set()  # 403 «MessageWritesBlocked»: Teams blocks the chat
        self.busy: set[str] = set()  # 429 with «Retry-After: 30»: tried again well after a test
        self.dropped = 0  # requests to answer by closing the connection, oldest first
        self.requests = 0  # every request, failed or not
        self.request_times: list[float] = []
        self.url = ""
        # People (Entra ids) for whom the app is installed: Teams opens a 1:1 chat with them.
        self.installed: set[str] = set()
        self.opened: list[dict[str, Any]] = []  # every request to open a chat, as it came
        self.disabled: set[str] = set()  # people the admin keeps the bot from (403 on opening)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._open)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._receive)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._receive)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def _failure(self, conversation: str) -> web.Response | None:
        self.requests += 1
        self.request_times.append(asyncio.get_running_loop().time())
        headers: dict[str, str] = {}
        code = "Failed"
        if conversation in self.blocked:
            status, code = 403, "MessageWritesBlocked"
        elif conversation in self.refused:
            status = 403
        elif conversation in self.busy:
            status, headers = 429, {"Retry-After": "30"}
        elif self.failures:
            status, headers = self.failures.pop(0)
        else:
            return None
        return web.json_response(
            {"error": {"code": code, "message": f"fake {status}"}},
            status=status,
            headers=headers,
        )

    def _drop(self, request: web.Request) -> web.Response | None:
        if not self.dropped:
            return None
        self.dropped -= 1
        self.requests += 1
        assert request.transport is not None
        request.transport.close()  # no answer at all: the connection closes
        return web.Response()

    async def _receive(self, request: web.Request) -> web.Response:
        dropped = self._drop(request)
        if dropped:
            return dropped
        failed = self._failure(request.match_info["conversation"])
        if failed:
            return failed
        activity = await request.json()
        # Kept as Teams keeps it: under the id the bot is told, which a card submit replies to.
        activity["id"] = f"reply-{next(self._ids)}"
        self.sent[request.match_info["conversation"]].append(activity)
        return web.json_response({"id": activity["id"]})

    async def _open(self, request: web.Request) -> web.Response:
        """create_conversation: the person's 1:1 chat, if the app is installed for them."""
        parameters = await request.json()
        self.opened.append(parameters)
        failed = self._failure("(new)")
        if failed:
            return failed
        [member] = parameters["members"]
        if member["id"] in self.disabled:
            return _error(403, "BotDisabledByAdmin")
        if member["id"] not in self.installed:
            return _error(403, "BotNotInConversationRoster")
        return web.json_response({"id": f"a:1{member['id']}-opened"})

    async def _update(self, request: web.Request) -> web.Response:
        failed = self._drop(request) or self._failure(request.match_info["conversation"])
        if failed:
            return failed
        activity_id = request.match_info["activity"]
        replacement = await request.json()
        self.updated[request.match_info["conversation"]].append((activity_id, replacement))
        return web.json_response({"id": activity_id})

    def busiest_second(self) -> int:
        """The most requests that arrived within any one second."""
        times = sorted(self.request_times)
        return max(
            (bisect.bisect_left(times, start + 1.0) - i for i, start in enumerate(times)), default=0
        )

    def texts(self, conversation_id: str) -> list[str]:
        return [
            a.get("text") or "" for a in self.sent[conversation_id] if a.get("type") == "message"
        ]

    def take_texts(self, conversation_id: str) -> list[str]:
        texts = self.texts(conversation_id)
        self.sent[conversation_id].clear()
        return texts


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": f"fake {code}"}}, status=status)


def teams_message(
    text: str | None,
    *,
    service_url: str,
    conversation_id: str = "a:1kari-personal",
    aad_object_id: str = "aad-kari",
    user_id: str = "29:1kari",
    locale: str = "nn-NO",
    sequence: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """A personal-chat message shaped like the ones Teams posts to /api/messages."""
    activity: dict[str, Any] = {
        "type": "message",
        "id": f"1732{sequence:09d}",
        "timestamp": "2026-11-24T13:30:00.000Z",
        "localTimestamp": "2026-11-24T14:30:00.000+01:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user_id, "name": "Kari Nordmann", "aadObjectId": aad_object_id},
        "conversation": {
            "conversationType": "personal",
            "tenantId": "tenant-voss",
            "id": conversation_id,
        },
        "recipient": {"id": "28:avviksboten", "name": "Avviksboten"},
        "textFormat": "plain",
        "locale": locale,
        "channelData": {"tenant": {"id": "tenant-voss"}},
        **extra,
    }
    if text is not None:
        activity["text"] = text
    return activity
