"""Turns of one conversation run one at a time; other conversations are not held up."""

from __future__ import annotations

import asyncio

from bot.edge.turn_locks import KeyedLocks


async def test_same_key_waits_other_keys_do_not() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_inside = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with locks.hold("a"):
            order.append("a1 in")
            first_inside.set()
            await release_first.wait()
            order.append("a1 out")

    async def second_same() -> None:
        await first_inside.wait()
        async with locks.hold("a"):
            order.append("a2 in")

    async def other() -> None:
        await first_inside.wait()
        async with locks.hold("b"):
            order.append("b in")

    tasks = [asyncio.create_task(t()) for t in (first, second_same, other)]
    await first_inside.wait()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == ["a1 in", "b in"]  # b went ahead; a2 waits for a1
    release_first.set()
    await asyncio.gather(*tasks)
    assert order == ["a1 in", "b in", "a1 out", "a2 in"]
    assert len(locks) == 0  # nothing kept once nobody holds or waits


async def test_a_failing_turn_releases_the_lock() -> None:
    locks = KeyedLocks()
    try:
        async with locks.hold("a"):
            raise RuntimeError("turn failed")
    except RuntimeError:
        pass
    async with asyncio.timeout(1), locks.hold("a"):
        pass
    assert len(locks) == 0
