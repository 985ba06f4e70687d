"""The outbox under load: two sender processes on one PostgreSQL, 5,000 messages to 5,000
people in one tenant, a fake Bot Connector that allows 50 requests a second (429 with
`Retry-After: 1` above that) and answers 5 % of the rest with 502; one sender is killed with
SIGKILL half-way and started again.

    python -m bench.outbox [--messages 5000] [--lease 10]

Last line: delivered= lost= duplicates= kills= max_per_s= achieved_ratio= seconds=, where
max_per_s counts every request that reached the connector in its busiest second (429s too),
and achieved_ratio = delivered ÷ (50 × seconds), seconds from the first request to the last
delivery. Goal: lost=0, duplicates ≤ kills,
max_per_s ≤ 50, achieved_ratio ≥ 0.9. The schema is private and dropped afterwards
(BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import insert, text

from storage.db import create_sync_db_engine
from storage.migrate import upgrade
from storage.models import ConversationRef, OutboxRow, Person
from tests.pg_schema import private_schema

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[1]
LIMIT = 50  # requests per second per tenant
BUSY_SHARE = 0.05  # answered 502


class RateLimitedConnector:
    """Teams as it behaves at its limit: 429 above 50 requests in any second, 5 % 502."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []  # every request
        self.window: deque[float] = deque()  # requests not answered 429, last second
        self.delivered: Counter[str] = Counter()
        self.last_delivery = 0.0
        self.throttled = self.busy = 0
        self._random = random.Random(7)

    async def receive(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        self.arrivals.append(now)
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= LIMIT:
            self.throttled += 1
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"}
            )
        self.window.append(now)
        if self._random.random() < BUSY_SHARE:
            self.busy += 1
            return web.json_response({"error": {"code": "ServiceError"}}, status=502)
        self.delivered[request.match_info["conversation"]] += 1
        self.last_delivery = now
        return web.json_response({"id": f"m{len(self.arrivals)}"})

    def busiest_second(self) -> int:
        times = self.arrivals
        return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def chats(people: int, service_url: str, at: datetime) -> list[dict[str, object]]:
    """A personal chat with the bot for each of people 1…N (`aad-<n>`, chat `a:<n>`)."""
    return [
        {
            "conversation_id": f"a:{n}",
            "conversation_type": "personal",
            "person_aad_object_id": f"aad-{n}",
            "channel_id": "msteams",
            "service_url": service_url,
            "tenant_id": "tenant-bench",
            "bot_id": "28:bench",
            "updated_at": at,
        }
        for n in range(1, people + 1)
    ]


def _fill(database_url: str, messages: int, service_url: str) -> None:
    engine = create_sync_db_engine(database_url)
    now = time.time()
    with engine.begin() as connection:
        at = datetime.fromtimestamp(now, UTC)
        connection.execute(
            insert(Person),
            [
                {"id": n, "aad_object_id": f"aad-{n}", "name": f"Leiar {n}", "created_at": at}
                for n in range(1, messages + 1)
            ],
        )
        connection.execute(text("SELECT setval('person_id_seq', :n)"), {"n": messages})
        connection.execute(insert(ConversationRef), chats(messages, service_url, at))
        payload = json.dumps({"month": 202611, "nudge_id": 0, "unit_name": "Eining"})
        connection.execute(
            insert(OutboxRow),
            [
                {
                    "dedupe_key": f"bench:{n}",
                    "person_id": n,
                    "kind": "nudge",
                    "payload": payload,
                    "status": "queued",
                    "not_before": at,
                    "attempts": 0,
                    "created_at": at,
                }
                for n in range(1, messages + 1)
            ],
        )
    engine.dispose()


def _sender(database_url: str, lease: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.outbox_sender", database_url, str(lease)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _left(database_url: str) -> int:
    engine = create_sync_db_engine(database_url)
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM outbox WHERE status = 'queued'")
        ).scalar_one()
    engine.dispose()
    return int(left)


async def _bench(database_url: str, messages: int, lease: float) -> dict[str, float]:
    connector = RateLimitedConnector()
    app = web.Application()
    for path in ("activities", "activities/{reply_to}"):
        app.router.add_post(f"/v3/conversations/{{conversation}}/{path}", connector.receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    service_url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    await asyncio.to_thread(_fill, database_url, messages, service_url)

    started = time.monotonic()
    senders = [_sender(database_url, lease), _sender(database_url, lease)]
    kills = 0
    deadline = started + 4 * messages / LIMIT + 60
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            if not kills and sum(connector.delivered.values()) >= messages // 2:
                os.kill(senders[0].pid, signal.SIGKILL)
                senders[0].wait()
                kills += 1
                senders[0] = _sender(database_url, lease)
            if len(connector.delivered) >= messages and not await asyncio.to_thread(
                _left, database_url
            ):
                break
    finally:
        for sender in senders:
            if sender.poll() is None:
                sender.send_signal(signal.SIGTERM)
        for sender in senders:
            try:
                sender.wait(timeout=20)
            except subprocess.TimeoutExpired:
                sender.kill()
        await runner.cleanup()
    # From the first request to the last delivery: the senders' work, not Python's start-up.
    seconds = connector.last_delivery - connector.arrivals[0]
    delivered = len(connector.delivered)
    return {
        "delivered": delivered,
        "lost": messages - delivered,
        "duplicates": sum(n - 1 for n in connector.delivered.values()),
        "kills": kills,
        "max_per_s": connector.busiest_second(),
        "achieved_ratio": round(delivered / (LIMIT * seconds), 3),
        "seconds": round(seconds, 1),
        "throttled": connector.throttled,
        "busy_502": connector.busy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--lease", type=float, default=10.0, help="seconds a claim holds a row")
    args = parser.parse_args()
    with private_schema(SERVER, prefix="avvik_bench") as url:
        upgrade(url)
        figures = asyncio.run(_bench(url, args.messages, args.lease))
    print(f"throttled_429={figures['throttled']} busy_502={figures['busy_502']}")
    headline = (
        "delivered",
        "lost",
        "duplicates",
        "kills",
        "max_per_s",
        "achieved_ratio",
        "seconds",
    )
    print(" ".join(f"{name}={figures[name]}" for name in headline))


if __name__ == "__main__":
    main()
