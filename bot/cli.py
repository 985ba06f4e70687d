"""`python -m bot …`: serve the bot, or upgrade the database."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web
from dotenv import dotenv_values, find_dotenv

from bot.app import create_app
from bot.config import Settings, SettingsError, load_settings
from bot.manifest_package import PackageError, build_package
from bot.playground import (
    PlaygroundMissing,
    PlaygroundOptions,
    playground_command,
    playground_lifetime,
)
from storage.migrate import upgrade

logger = logging.getLogger("bot")


def _environment() -> dict[str, str]:
    """`.env` (found upward from the working directory) under the real environment."""
    path = os.environ.get("AVVIK_ENV_FILE") or find_dotenv(usecwd=True)
    from_file = {k: v for k, v in dotenv_values(path).items() if v is not None} if path else {}
    return {**from_file, **os.environ}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Avviksboten")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the bot (the default)")
    serve.add_argument("--dev", action="store_true", help="run without authentication")
    serve.add_argument("--port", type=int, help="listen on this port instead of PORT")
    playground = commands.add_parser(
        "playground", help="run the bot in dev mode with the Agents Playground (Teams emulator)"
    )
    playground.add_argument("--port", type=int, help="the bot's port (default PORT or 3978)")
    manifest = commands.add_parser("manifest", help="the Teams app package")
    manifest.add_argument("action", choices=["package"], help="write the zip an admin uploads")
    manifest.add_argument("--out", type=Path, default=Path("build"), help="folder (build/)")
    database = commands.add_parser("db", help="database maintenance")
    database.add_argument("action", choices=["upgrade"], help="apply migrations")
    return parser


def _serve(settings: Settings, *, with_playground: bool = False) -> None:
    if settings.dev_mode:
        logger.warning(
            "DEV MODE: /api/messages accepts requests WITHOUT authentication. "
            "Never run like this where anyone else can reach the port."
        )
    logger.info("Avviksboten on http://%s:%d/api/messages", settings.host, settings.port)
    app = create_app(settings)
    if with_playground:
        playground_command()  # fail before anything starts when it is not installed
        bot_url = f"http://127.0.0.1:{settings.port}/api/messages"
        app.cleanup_ctx.append(playground_lifetime(PlaygroundOptions(bot_url=bot_url)))
    web.run_app(app, host=settings.host, port=settings.port, print=None)


def _package(settings: Settings, out_dir: Path) -> int:
    try:
        target = build_package(settings, out_dir)
    except PackageError as error:
        logger.error("cannot build the app package: %s", error)
        return 2
    logger.info("Teams app package written to %s", target)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = _parser().parse_args(argv)
    env = _environment()
    if getattr(args, "dev", False) or args.command == "playground":
        env["AVVIK_DEV_MODE"] = "1"
    if args.command == "playground":
        env.setdefault("HOST", "127.0.0.1")  # an unauthenticated bot stays on this machine
    if getattr(args, "port", None):
        env["PORT"] = str(args.port)
    try:
        settings = load_settings(env, serving=args.command != "manifest")
    except SettingsError as error:
        logger.error("cannot start: %s", error)
        return 2
    if args.command == "manifest":
        return _package(settings, args.out)
    if args.command == "db":
        upgrade(settings.database_url)
        logger.info("database is up to date")
        return 0
    try:
        _serve(settings, with_playground=args.command == "playground")
    except PlaygroundMissing as error:
        logger.error("cannot start: %s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
