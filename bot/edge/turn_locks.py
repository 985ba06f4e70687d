"""One turn at a time per conversation, in this process.

Teams can deliver a second message (a double tap, two quick lines) while the first turn is
still running; both would read the same saved state and one would overwrite the other. A lock
per conversation makes the second turn wait and read what the first saved. Across replicas
the storage's e-tag check refuses the lost update instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # nobody else holds or waits: forget the lock
                del self._waiting[key], self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
