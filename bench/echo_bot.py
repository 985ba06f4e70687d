"""The baseline: a bare botbuilder echo bot on CloudAdapter and aiohttp, nothing else.

`python -m bench.echo_bot PORT`. No state, no dialogs, no database: the floor any bot built on
this SDK stands on.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity


@dataclass(frozen=True)
class _NoCredentials:
    APP_ID: str = ""
    APP_PASSWORD: str = ""


class EchoBot(ActivityHandler):  # type: ignore[misc]
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


def create_echo_app() -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_NoCredentials()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        activity = Activity().deserialize(await request.json())
        auth = request.headers.get("Authorization", "")
        await adapter.process_activity(auth, activity, bot.on_turn)
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    web.run_app(create_echo_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
