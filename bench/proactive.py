"""Proactive sends under load: does the bot keep to Teams' 50 requests/s per app and tenant,
and does every message arrive exactly once when Teams answers «too many requests»?

A leader fan-out at its worst: `--messages` cards (default 400) to as many personal chats in
one tenant, all started at once, through `bot.proactive.messenger.TeamsMessenger` (the same adapter,
limiter and retry policy as the bot) to a local fake Bot Connector. The connector answers
`--busy` of the requests (default 10 %) with 429 and `Retry-After: 1`, at random.

    python -m bench.proactive [--messages 400] [--busy 0.1]

Last line: `max_per_s=… delivered=… duplicates=… retries=… seconds=…`; `max_per_s` is the
most requests the connector saw in any one-second window (Teams' limit: 50).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter

from aiohttp import web
from botbuilder.core import MessageFactory

from bot.app import build_adapter
from bot.config import Settings
from bot.proactive.messenger import TeamsMessenger
from storage.conversations import ConversationAddress
from tests.fake_connector import FakeConnector


async def run(messages: int, busy: float, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    connector = FakeConnector()
    await connector.start()
    # One busy answer per request that draws it, decided up front: repeatable for a seed.
    connector.failures = []
    adapter = build_adapter(Settings(dev_mode=True))
    messenger = TeamsMessenger(adapter, "")
    addresses = [
        ConversationAddress(
            conversation_id=f"a:leader-{n}",
            conversation_type="personal",
            person_aad_object_id=f"aad-{n}",
            channel_id="msteams",
            service_url=connector.url,
            tenant_id="tenant-voss",
            bot_id="28:avviksboten",
        )
        for n in range(messages)
    ]
    original = connector._failure

    def sometimes_busy(conversation: str) -> web.Response | None:
        if rng.random() < busy:
            connector.failures.append((429, {"Retry-After": "1"}))
        return original(conversation)

    connector._failure = sometimes_busy  # type: ignore[method-assign]
    started = time.perf_counter()
    try:
        await asyncio.gather(
            *(
                messenger.send(a, MessageFactory.text(f"Nytt avvik {n}"))
                for n, a in enumerate(addresses)
            )
        )
    finally:
        seconds = time.perf_counter() - started
        await adapter.bot_framework_authentication.close()
        await connector.stop()
    arrived = Counter(c for c, activities in connector.sent.items() for _ in activities)
    return {
        "max_per_s": connector.busiest_second(),
        "delivered": len(arrived),
        "duplicates": sum(n - 1 for n in arrived.values()),
        "retries": connector.requests - messages,
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--busy", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    figures = asyncio.run(run(args.messages, args.busy, args.seed))
    print(f"{args.messages} messages to one tenant, {args.busy:.0%} answered 429 (Retry-After: 1)")
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
