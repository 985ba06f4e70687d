"""Turn latency of Avviksboten under concurrent reporters, against a bare echo bot.

N simulated Teams users (default 50) each complete a whole report (11 turns) at the same time,
over HTTP, with replies going to a local fake Bot Connector. The same users then talk to a bare
botbuilder echo bot in the same harness. Each bot runs in its own process on a free loopback
port; the load and the connector run here.

    python -m bench.turns [--users 50] [--database sqlite|postgres]

Last line: `ratio=… p50_ms=… p95_ms=… p99_ms=… turns_per_s=…` where ratio is the echo bot's
turns per second divided by Avviksboten's (closed loop: the cost of a turn relative to the
SDK's floor; goal ≤ 1.5), and the latencies are Avviksboten's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.bot_process import ROOT, BotProcess, free_port
from tests.fake_connector import FakeConnector, teams_message
from tests.pg_schema import private_schema

REPORT = (
    "meld avvik",
    "Bebuar kasta ein stol mot tilsett under middagen. Ingen vart treft.",
    "Nestenulukke",
    "vald",
    "Middels",
    "Bu- og miljøteneste aust",
    "Fellesstova",
    "i dag 12:10",
    "Skjerma bebuar og snakka med kollega.",
    "Hopp over",
    "Send inn",
)
WARM_UP_USERS = 3


@dataclass(frozen=True)
class Figures:
    name: str
    turns: int
    seconds: float
    latencies_ms: Sequence[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<12} turns={self.turns} p50_ms={self.quantile(0.5):.1f} "
            f"p95_ms={self.quantile(0.95):.1f} p99_ms={self.quantile(0.99):.1f} "
            f"turns_per_s={self.turns_per_s:.1f}"
        )


async def _user(
    http: aiohttp.ClientSession, bot_url: str, connector: FakeConnector, user: int, run: str
) -> list[float]:
    latencies = []
    for sequence, text in enumerate(REPORT, 1):
        activity = teams_message(
            text,
            service_url=connector.url,
            conversation_id=f"a:{run}-{user}",
            aad_object_id=f"aad-{run}-{user}",
            user_id=f"29:{run}-{user}",
            sequence=sequence,
        )
        started = time.perf_counter()
        async with http.post(f"{bot_url}/api/messages", json=activity) as response:
            await response.read()
            if response.status != 201:
                raise RuntimeError(f"turn {sequence} of user {user}: HTTP {response.status}")
        latencies.append((time.perf_counter() - started) * 1000)
        if not connector.sent[f"a:{run}-{user}"]:
            raise RuntimeError(f"the bot did not answer {text!r}")
    return latencies


async def _load(name: str, bot_url: str, users: int, connector: FakeConnector) -> Figures:
    connections = aiohttp.TCPConnector(limit=users + 5)
    async with aiohttp.ClientSession(connector=connections) as http:
        await asyncio.gather(
            *(_user(http, bot_url, connector, u, f"warm-{name}") for u in range(WARM_UP_USERS))
        )
        started = time.perf_counter()
        results = await asyncio.gather(
            *(_user(http, bot_url, connector, u, name) for u in range(users))
        )
        elapsed = time.perf_counter() - started
    latencies = [ms for user in results for ms in user]
    return Figures(name, len(latencies), elapsed, latencies)


async def _echo_figures(users: int, connector: FakeConnector) -> Figures:
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "bench.echo_bot", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
        return await _load("echo", url, users, connector)
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def _database(kind: str) -> Iterator[str]:
    """A fresh database for one run: a temporary SQLite file, or a private PostgreSQL schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    server = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with private_schema(server, prefix="avvik_bench") as url:
        yield url


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args(argv)

    connector = FakeConnector()
    await connector.start()
    with _database(args.database) as database_url:
        bot = BotProcess(database_url)
        await bot.start()
        try:
            avvik = await _load("avviksboten", bot.url, args.users, connector)
        finally:
            bot.stop()
    echo = await _echo_figures(args.users, connector)
    await connector.stop()

    ratio = echo.turns_per_s / avvik.turns_per_s
    print(f"{args.users} users x {len(REPORT)} turns, database={args.database}")
    print(echo.line())
    print(avvik.line())
    print(
        f"ratio={ratio:.2f} p50_ms={avvik.quantile(0.5):.1f} p95_ms={avvik.quantile(0.95):.1f} "
        f"p99_ms={avvik.quantile(0.99):.1f} turns_per_s={avvik.turns_per_s:.1f} "
        f"echo_p95_ms={echo.quantile(0.95):.1f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
