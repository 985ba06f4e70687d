"""A TCP proxy between the bot and its database, which a test can cut and restore.

Listens on a free loopback port and forwards each connection to the upstream (PostgreSQL).
`cut()` drops every live connection at once and, until `restore()`, either refuses new ones
(nothing listens: ECONNREFUSED, like a stopped server), accepts and drops them at once (like a
server that is up but failing), or accepts them and never answers (like a host that went
away behind a firewall). Runs on the test's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from enum import StrEnum

from sqlalchemy.engine import make_url

_CHUNK = 64 * 1024


class Outage(StrEnum):
    REFUSE = "refuse"  # nothing listens
    RESET = "reset"  # accepted, then closed at once
    HANG = "hang"  # accepted, never answered


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._outage: Outage | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._transports: set[asyncio.BaseTransport] = set()
        self._hung: set[asyncio.BaseTransport] = set()  # accepted while hanging
        self.port = 0
        self.connections = 0  # accepted and forwarded, over the proxy's life

    @classmethod
    def to_database(cls, database_url: str) -> TcpProxy:
        url = make_url(database_url)
        return cls(url.host or "127.0.0.1", url.port or 5432)

    def url_for(self, database_url: str) -> str:
        """The database URL with the proxy in the place of the server."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    async def start(self) -> None:
        await self._listen()

    async def stop(self) -> None:
        await self._stop_listening()
        self._drop_all()
        self._drop_hung()
        if self._pipes:
            await asyncio.gather(*self._pipes, return_exceptions=True)

    async def cut(self, outage: Outage = Outage.REFUSE) -> None:
        """The database goes away: live connections are dropped, new ones fail as `outage`."""
        self._outage = outage
        self._drop_all()
        if outage is Outage.REFUSE:
            await self._stop_listening()
        elif self._server is None:
            await self._listen()

    async def restore(self) -> None:
        self._outage = None
        self._drop_hung()
        if self._server is None:
            await self._listen()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _drop_all(self) -> None:
        for transport in list(self._transports):
            transport.abort()  # a reset, not a polite close
        self._transports.clear()
        for pipe in self._pipes:
            pipe.cancel()

    def _drop_hung(self) -> None:
        for transport in self._hung:
            transport.abort()
        self._hung.clear()

    async def _accept(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        if self._outage is Outage.HANG:
            self._hung.add(client.transport)  # open, unread, unanswered
            return
        if self._outage is not None:
            client.transport.abort()
            return
        try:
            upstream_in, upstream = await asyncio.open_connection(*self._upstream)
        except OSError:
            client.transport.abort()
            return
        self.connections += 1
        transports = {client.transport, upstream.transport}
        self._transports |= transports
        pipe = asyncio.current_task()
        assert pipe is not None
        self._pipes.add(pipe)
        try:
            forward = asyncio.ensure_future(_pump(client_in, upstream))
            backward = asyncio.ensure_future(_pump(upstream_in, client))
            try:
                # Either side closing ends both.
                await asyncio.wait({forward, backward}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in (forward, backward):
                    pump.cancel()
                await asyncio.gather(forward, backward, return_exceptions=True)
        except asyncio.CancelledError:
            pass  # cut: the transports are aborted below
        finally:
            for transport in transports:
                transport.abort()
            self._transports -= transports
            self._pipes.discard(pipe)


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await source.read(_CHUNK):
            sink.write(data)
            await sink.drain()
