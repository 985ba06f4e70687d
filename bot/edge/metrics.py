"""`GET /metrics` in the Prometheus text format (`AVVIK_METRICS=1`): turns and failed turns,
the outbox (queued, due, sent, failed by reason, waiting, the age of the oldest due row) and
the 429s Teams answered. Served on a port of its own (`AVVIK_METRICS_PORT`, on 127.0.0.1
unless `AVVIK_METRICS_HOST` says otherwise), never on the bot's public port: what is waiting
is nobody's business outside the operator's network."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

from storage.db import SessionFactory
from storage.outbox import outbox_status
from storage.types import utcnow


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "avviksboten_turns", "Activities Teams sent to the bot", registry=self.registry
        )
        self.failed_turns = Counter(
            "avviksboten_failed_turns",
            "Turns that ended in the turn-error handler",
            registry=self.registry,
        )
        self.throttled = Counter(
            "avviksboten_teams_throttled",
            "429 answers from Teams to the bot's own messages",
            registry=self.registry,
        )
        self._outbox = Gauge(
            "avviksboten_outbox_rows",
            "Outbox rows by status (queued, due, sent, waiting)",
            ["status"],
            registry=self.registry,
        )
        self._failed = Gauge(
            "avviksboten_outbox_failed_rows",
            "Outbox rows that failed, by reason",
            ["reason"],
            registry=self.registry,
        )
        self._oldest = Gauge(
            "avviksboten_outbox_oldest_due_seconds",
            "How long the oldest due outbox row has waited (0: none)",
            registry=self.registry,
        )

    async def render(self, sessions: SessionFactory) -> bytes:
        """The figures now: the outbox read from the database at each scrape."""
        async with sessions() as session:
            status = await outbox_status(session, now=utcnow())
        self._outbox.labels("queued").set(status.queued)
        self._outbox.labels("due").set(status.due)
        self._outbox.labels("sent").set(status.sent)
        self._outbox.labels("waiting").set(sum(status.waiting.values()))
        self._failed.clear()
        for reason, n in status.failed.items():
            self._failed.labels(reason).set(n)
        self._oldest.set(status.oldest_due_seconds or 0.0)
        return generate_latest(self.registry)


def metrics_app(metrics: Metrics, sessions: SessionFactory) -> web.Application:
    async def scrape(_request: web.Request) -> web.Response:
        body = await metrics.render(sessions)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    return app
