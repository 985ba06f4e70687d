"""An adviser's tip to N people, by the real code path: the tip stored and its sending started
as the «Send» button does (storage.tips), every recipient's outbox row sent by the outbox's
sender (bot/proactive/outbox_sender.py) through the Bot Framework adapter, to a fake Bot
Connector that allows R requests a second per tenant and answers 429 with `Retry-After: 1`
above that. PostgreSQL, in a private schema dropped afterwards.

    python -m bench.broadcast [--recipients 5000] [--rate 500] [--senders 1]
                              [--concurrency N] [--latency 0.2]

Last line: recipients= delivered= duplicates= lost= seconds= achieved_ratio=, where seconds run
from the first request to the last delivery and achieved_ratio = delivered ÷ (R × seconds).
Goal: achieved_ratio ≥ 0.95, duplicates=0, lost=0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import time
from collections import Counter, deque
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any

from aiohttp import web
from sqlalchemy import insert

from bench.outbox import chats
from bot.app import build_adapter
from bot.config import Settings
from bot.desks.leader_desk import LeaderDesk
from bot.proactive.messenger import ONE_TRY, TeamsMessenger
from bot.proactive.outbox_messages import OutboxMessages
from bot.proactive.outbox_sender import OutboxSender, SenderSettings
from domain.i18n import Catalogues
from domain.reminders import ReminderRules
from domain.tips import Audience, AudienceKind, Schedule, Tip
from domain.vocabulary import Role
from domain.working_time import WorkingCalendar
from storage import tips
from storage.db import create_async_db_engine, create_sync_db_engine, session_factory
from storage.migrate import upgrade
from storage.models import ConversationRef, Person, PersonRole
from storage.types import utcnow
from tests.pg_schema import private_schema

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# A tip waits for working hours (bot/proactive/outbox_messages.py); the bench runs at any hour,
# so its sender works round the clock, as AVVIK_WORKING_DAYS and hours can make the service do.
ALL_HOURS = ReminderRules(
    calendar=WorkingCalendar(
        start=clock_time.min, end=clock_time.max, days_off=(), weekdays=frozenset(range(7))
    )
)
TIP = Tip(
    "Meld nestenulukkene",
    {
        "news": "Eit avvik er også det som kunne ha gått gale.",
        "reflection": "Kva «det gjekk jo bra»-hending har de aldri meldt?",
    },
)


class LimitedConnector:
    """Teams at a given limit: 429 with Retry-After above R requests in any second."""

    def __init__(self, rate: int, expected: int, latency: float = 0.0) -> None:
        self.rate = rate
        self.latency = latency  # seconds each answer takes, as Teams' do over the Internet
        self.expected = expected  # conversations to reach
        self.all_there = asyncio.Event()
        self.arrivals: list[float] = []
        self.window: deque[float] = deque()
        self.delivered: Counter[str] = Counter()
        self.last_delivery = 0.0
        self.throttled = 0

    async def receive(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        self.arrivals.append(now)
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.rate:
            self.throttled += 1
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"}
            )
        self.window.append(now)
        if self.latency:
            await asyncio.sleep(self.latency)
            now = time.monotonic()
        self.delivered[request.match_info["conversation"]] += 1
        self.last_delivery = now
        if len(self.delivered) >= self.expected:
            self.all_there.set()
        return web.json_response({"id": f"m{len(self.arrivals)}"})


def _fill(database_url: str, recipients: int, service_url: str) -> None:
    engine = create_sync_db_engine(database_url)
    at = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                {"id": n, "aad_object_id": f"aad-{n}", "name": f"Leiar {n}", "created_at": at}
                for n in range(1, recipients + 2)  # the last one is the adviser
            ],
        )
        connection.execute(
            insert(PersonRole),
            [{"person_id": n, "role": Role.LEADER.value} for n in range(1, recipients + 1)]
            + [{"person_id": recipients + 1, "role": Role.ADVISER.value}],
        )
        connection.execute(insert(ConversationRef), chats(recipients + 1, service_url, at))
    engine.dispose()


def _sender_process(database_url: str, rate: int, concurrency: int, stop: Any) -> None:
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(_send(database_url, rate, concurrency, stop))


async def _send(database_url: str, rate: int, concurrency: int, stopped: Any) -> None:
    """One outbox sender, as the service runs it, until the bench says stop."""
    engine = create_async_db_engine(database_url)
    sessions = session_factory(engine)
    adapter = build_adapter(Settings(dev_mode=True))
    messenger = TeamsMessenger(adapter, "", policy=ONE_TRY, limiter_factory=None)
    catalogues = Catalogues()
    drawer = OutboxMessages(
        LeaderDesk(sessions, catalogues, utcnow, "nn"), catalogues, utcnow, "nn", ALL_HOURS
    )
    settings = SenderSettings(tenant_rate=rate, batch=400, concurrency=concurrency)
    sender = OutboxSender(sessions, messenger, drawer, utcnow, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await asyncio.to_thread(stopped.wait)
    stop.set()
    await task
    await adapter.bot_framework_authentication.close()
    await engine.dispose()


async def _bench(database_url: str, recipients: int, rate: int, options: Any) -> dict[str, float]:
    # And the adviser's report.
    connector = LimitedConnector(rate, recipients + 1, options.latency)
    app = web.Application()
    for path in ("activities", "activities/{reply_to}"):
        app.router.add_post(f"/v3/conversations/{{conversation}}/{path}", connector.receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    service_url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    await asyncio.to_thread(_fill, database_url, recipients, service_url)

    engine = create_async_db_engine(database_url)
    sessions = session_factory(engine)
    # «Send», as the adviser presses it: the tip saved, its sending started in one transaction.
    async with sessions() as session, session.begin():
        tip_id = await tips.save_draft(
            session,
            tip=TIP,
            audience=Audience(AudienceKind.ROLE, role=Role.LEADER),
            schedule=Schedule(),
            author_id=recipients + 1,
            now=utcnow(),
        )
        now = utcnow()
        delivery = await tips.send_draft(
            session, tip_id=tip_id, version=1, planned_at=now, due_at=now
        )
        started = await tips.start_delivery(session, delivery_id=delivery, now=now)
    assert started == recipients

    await engine.dispose()
    # Each sender in a process of its own, as the service runs them on several machines or
    # cores; the fake connector alone in this one. They share the rate through the outbox.
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    processes = [
        context.Process(
            target=_sender_process, args=(database_url, rate, options.concurrency, stop)
        )
        for _ in range(options.senders)
    ]
    for process in processes:
        process.start()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(connector.all_there.wait(), 4 * recipients / rate + 60)
    finally:
        stop.set()
        for process in processes:
            await asyncio.to_thread(process.join, 30)
        await runner.cleanup()
    delivered = sum(1 for c in connector.delivered if c != f"a:{recipients + 1}")
    seconds = connector.last_delivery - connector.arrivals[0]
    return {
        "recipients": recipients,
        "delivered": delivered,
        "duplicates": sum(n - 1 for n in connector.delivered.values()),
        "lost": recipients - delivered,
        "seconds": round(seconds, 1),
        "achieved_ratio": round(delivered / (rate * seconds), 3),
        "throttled": connector.throttled,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=500, help="requests a second per tenant")
    parser.add_argument("--senders", type=int, default=1, help="sender processes")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=SenderSettings().concurrency,
        help="sends under way at once per sender (default: the service's)",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with private_schema(SERVER, prefix="avvik_broadcast") as url:
        upgrade(url)
        figures = asyncio.run(_bench(url, args.recipients, args.rate, args))
    print(f"throttled_429={figures['throttled']}")
    headline = ("recipients", "delivered", "duplicates", "lost", "seconds", "achieved_ratio")
    print(" ".join(f"{name}={figures[name]}" for name in headline))


if __name__ == "__main__":
    main()
