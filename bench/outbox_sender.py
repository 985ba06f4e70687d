"""One outbox sender as its own process, for `bench/outbox.py`: what a bot replica runs, minus
the web server. `python -m bench.outbox_sender DATABASE_URL LEASE_SECONDS`; stops on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta

from bot.app import build_adapter
from bot.config import Settings
from bot.desks.leader_desk import LeaderDesk
from bot.proactive.messenger import ONE_TRY, TeamsMessenger
from bot.proactive.outbox_messages import OutboxMessages
from bot.proactive.outbox_sender import OutboxSender, SenderSettings
from domain.i18n import Catalogues
from storage.db import create_async_db_engine, session_factory
from storage.types import utcnow


async def run(database_url: str, lease_seconds: float) -> None:
    engine = create_async_db_engine(database_url)
    sessions = session_factory(engine)
    adapter = build_adapter(Settings(dev_mode=True))
    messenger = TeamsMessenger(adapter, "", policy=ONE_TRY, limiter_factory=None)
    catalogues = Catalogues()
    leaders = LeaderDesk(sessions, catalogues, utcnow, "nn")
    drawer = OutboxMessages(leaders, catalogues, utcnow, "nn")
    settings = SenderSettings(lease=timedelta(seconds=lease_seconds))
    sender = OutboxSender(sessions, messenger, drawer, utcnow, settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await sender.run(stop)
    finally:
        await adapter.bot_framework_authentication.close()
        await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(sys.argv[1], float(sys.argv[2])))
