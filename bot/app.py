"""`create_app(settings)`: the aiohttp application with explicit wiring and lifetimes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import ConversationState
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError  # type: ignore[attr-defined]
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.desks.leader_desk import LeaderDesk
from bot.desks.report_cards import ReportCards
from bot.desks.report_desk import SqlReportDesk
from bot.desks.risk_desk import RiskDesk
from bot.desks.statistics_desk import StatisticsDesk
from bot.desks.tips_desk import TipsDesk
from bot.desks.training_desk import TrainingDesk
from bot.edge.activity_guard import MAX_BODY_BYTES, read_activity_body
from bot.edge.connector_reuse import AuthenticationUnavailable, ReusingAuthentication
from bot.edge.metrics import Metrics, metrics_app
from bot.edge.turn_errors import make_turn_error_handler
from bot.handler import AvvikBot
from bot.logs import request_ids
from bot.proactive.app_install import GraphAppInstaller, MsalTokens
from bot.proactive.chat_opener import OpenerSettings, TeamsChatOpener
from bot.proactive.conversation_book import ConversationBook
from bot.proactive.messenger import ONE_TRY, Messenger, TeamsMessenger
from bot.proactive.nudges import MonthlyNudges
from bot.proactive.outbox_messages import OutboxMessages
from bot.proactive.outbox_sender import OutboxSender, SenderSettings
from bot.proactive.reminders import Reminders, run_every
from bot.proactive.tips import TipsScheduler
from bot.statistics.links import LinkSigner
from dialogs.report_dialog import ReportDialog
from dialogs.turn import Clock
from domain.commands import CommandParser
from domain.i18n import Catalogues
from domain.training import load_modules
from storage.bot_state import SqlStorage
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.migrate import upgrade
from storage.types import utcnow

logger = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
ENGINE = web.AppKey("engine", AsyncEngine)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", AvvikBot)
OUTBOX = web.AppKey("outbox", OutboxSender)
METRICS = web.AppKey("metrics", Metrics)


@dataclass(frozen=True)
class _SdkConfiguration:
    """The attribute names botbuilder's configuration-based authentication reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def build_bot(
    settings: Settings,
    sessions: SessionFactory,
    clock: Clock,
    *,
    ring: Callable[[], None] = lambda: None,
) -> AvvikBot:
    """The bot; `ring` tells the outbox's sender that a turn queued something."""
    storage = SqlStorage(sessions)
    catalogues = Catalogues()
    commands = CommandParser(catalogues)
    leaders = LeaderDesk(
        sessions,
        catalogues,
        clock,
        settings.default_language,
        rules=settings.reminder_rules,
        ring=ring,
    )

    async def tell_leaders(_report_id: int) -> None:
        # The leaders' cards were queued with the report: send them now.
        ring()

    desk = SqlReportDesk(sessions, clock, after_submit=tell_leaders)
    tips = TipsDesk(sessions, catalogues, clock, settings.reminder_rules.calendar, ring=ring)
    signer = LinkSigner(settings.link_secret.encode() or None)
    risk = RiskDesk(sessions, catalogues, clock, signer, settings.public_url or None)
    return AvvikBot(
        conversation_state=ConversationState(storage),
        report_dialog=ReportDialog(
            catalogues=catalogues, desk=desk, commands=commands, clock=clock
        ),
        desk=desk,
        conversations=ConversationBook(sessions, ring=ring),
        cards=ReportCards(desk, clock),
        leaders=leaders,
        tips=tips,
        training=TrainingDesk(sessions, clock, load_modules(), tips),
        risk=risk,
        statistics=StatisticsDesk(
            sessions,
            catalogues,
            clock,
            signer,
            settings.public_url or None,
            calendar=settings.reminder_rules.calendar,
            risk_files=risk,
        ),
        catalogues=catalogues,
        commands=commands,
        default_language=settings.default_language,
    )


def build_sender(
    settings: Settings,
    sessions: SessionFactory,
    clock: Clock,
    messenger: Messenger,
    bell: asyncio.Event,
    *,
    on_throttled: Callable[[], None] = lambda: None,
) -> OutboxSender:
    """The outbox's sender: the one way the bot's own messages leave (bot.proactive)."""
    catalogues = Catalogues()
    leaders = LeaderDesk(sessions, catalogues, clock, settings.default_language)
    drawer = OutboxMessages(
        leaders, catalogues, clock, settings.default_language, settings.reminder_rules
    )
    return OutboxSender(
        sessions,
        messenger,
        drawer,
        clock,
        SenderSettings(tenant_rate=settings.outbox_rate),
        bell=bell,
        on_throttled=on_throttled,
        opener=build_opener(settings, sessions, messenger),
    )


def build_opener(
    settings: Settings, sessions: SessionFactory, messenger: Messenger
) -> TeamsChatOpener:
    """Opens chats with people who never wrote to the bot: Teams first, then Graph if allowed."""
    installer = None
    if settings.graph_install:
        installer = GraphAppInstaller(
            MsalTokens(settings.app_id, settings.app_password),
            settings.catalog_app_id or settings.teams_app_id or settings.app_id,
            graph_url=settings.graph_url,
        )
    place = OpenerSettings(
        service_url=settings.service_url,
        tenant_id=settings.tenant_id,
        bot_id=f"28:{settings.app_id}" if settings.app_id else "",
    )
    return TeamsChatOpener(sessions, messenger, place, installer)


def build_adapter(settings: Settings) -> CloudAdapter:
    configuration = _SdkConfiguration(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    authentication = ReusingAuthentication(ConfigurationBotFrameworkAuthentication(configuration))
    return CloudAdapter(authentication)


async def _bot_lifetime(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.migrate_on_start:
        await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_async_db_engine(settings.database_url)
    app[ENGINE] = engine
    adapter = build_adapter(settings)
    # One try per send, not paced: the outbox's sender paces and tries again itself.
    messenger = TeamsMessenger(adapter, settings.app_id, policy=ONE_TRY, limiter_factory=None)
    sessions = session_factory(engine)
    bell = asyncio.Event()
    bot = build_bot(settings, sessions, app[CLOCK], ring=bell.set)
    metrics = app[METRICS]
    adapter.on_turn_error = make_turn_error_handler(
        bot.texts_for_locale, on_failure=metrics.failed_turns.inc
    )
    sender = build_sender(
        settings, sessions, app[CLOCK], messenger, bell, on_throttled=metrics.throttled.inc
    )
    app[ADAPTER], app[BOT], app[OUTBOX] = adapter, bot, sender
    scraping = None
    if settings.metrics:
        scraping = web.AppRunner(metrics_app(metrics, sessions), access_log=None)
        await scraping.setup()
        await web.TCPSite(scraping, settings.metrics_host, settings.metrics_port).start()
        logger.info("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(sender.run(stop), name="outbox-sender")]
    calendar = settings.reminder_rules.calendar
    # The adviser's tips go when she said, whatever else is switched off.
    jobs = [TipsScheduler(sessions, app[CLOCK], calendar, ring=bell.set).queue_due]
    if settings.reminders:
        rules = settings.reminder_rules
        jobs.append(Reminders(sessions, app[CLOCK], rules, ring=bell.set).queue_due)
    if settings.nudges:
        nudges = MonthlyNudges(sessions, app[CLOCK], calendar=calendar, ring=bell.set)
        jobs.append(lambda: nudges.queue_due(stop))
    if jobs:
        tasks.append(
            asyncio.create_task(run_every(stop, settings.scheduler_seconds, jobs), name="scheduler")
        )
    try:
        yield
    finally:
        stop.set()
        # The scheduler ends at once, or after the job under way; the sender after its batch.
        await asyncio.gather(*tasks, return_exceptions=True)
        if scraping is not None:
            await scraping.cleanup()
        await adapter.bot_framework_authentication.close()
        await engine.dispose()


async def _messages(request: web.Request) -> web.Response:
    body = await read_activity_body(request)
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, ValueError, TypeError, AttributeError):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "not a Bot Framework activity"}),
            content_type="application/json",
        ) from None
    adapter, bot = request.app[ADAPTER], request.app[BOT]
    request.app[METRICS].turns.inc()
    try:
        invoke = await adapter.process_activity(
            request.headers.get("Authorization", ""), activity, bot.on_turn
        )
    except PermissionError:
        raise web.HTTPUnauthorized() from None
    except AuthenticationUnavailable:
        raise web.HTTPServiceUnavailable() from None
    if invoke:
        return web.json_response(invoke.body, status=invoke.status)
    return web.Response(status=201)


async def _stats_download(request: web.Request) -> web.Response:
    """A chart or spreadsheet behind a signed link on a statistics card (bot.statistics.links)."""
    download = await request.app[BOT].statistics.download(
        request.match_info["token"], request.match_info["filename"]
    )
    if download is None:
        # One answer for forged, expired and no-longer-allowed: a link reveals nothing.
        raise web.HTTPNotFound()
    disposition = "attachment" if download.attachment else "inline"
    return web.Response(
        body=download.body,
        content_type=download.content_type.split(";")[0],
        charset="utf-8" if "charset" in download.content_type else None,
        headers={
            "Content-Disposition": f'{disposition}; filename="{download.filename}"',
            # Counts of a person's units: no shared cache keeps them.
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[ENGINE].connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        logger.warning("health check: database unavailable: %s", type(error).__name__)
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "up"})


def create_app(settings: Settings, *, clock: Clock = utcnow) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[request_ids])
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_bot_lifetime)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/stats/{token}/{filename}", _stats_download)
    return app
