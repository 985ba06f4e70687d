"""Run the bot together with the Microsoft 365 Agents Playground, for a developer's machine.

The Playground is a local Teams emulator (npm `@microsoft/m365agentsplayground`, pinned in
`e2e/package.json`). It is started as a child process with what it needs to run headless
(no browser of its own, standard input held open, a fixed conversation id so its connector
knows the chat) and stopped by its own process id when the bot stops.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_PORT = 56150
# Who is who in the emulator: staff, leader, adviser (see the file). Its personal chat's id
# is ours, so the Playground's connector knows the chat the bot answers in.
CONFIG = ROOT / "e2e" / ".m365agentsplayground.yml"
CONVERSATION_ID = "avviksboten-personal"


class PlaygroundMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class PlaygroundOptions:
    bot_url: str
    port: int = PLAYGROUND_PORT
    conversation_id: str = CONVERSATION_ID
    config: Path = CONFIG


def playground_command() -> list[str]:
    explicit = os.environ.get("AVVIK_PLAYGROUND_BIN")
    local = ROOT / "e2e" / "node_modules" / ".bin" / "agentsplayground"
    found = explicit or (str(local) if local.exists() else shutil.which("agentsplayground"))
    if not found:
        raise PlaygroundMissing(
            "the Agents Playground is not installed: run `npm ci --prefix e2e` (make run does)"
        )
    return [found]


def start_playground(options: PlaygroundOptions) -> subprocess.Popen[bytes]:
    command = [
        *playground_command(),
        "--app-endpoint",
        options.bot_url,
        "--channel-id",
        "msteams",
        "--conversation-id",
        options.conversation_id,
        "--port",
        str(options.port),
        "--disable-telemetry",
    ]
    env = {
        **os.environ,
        "TEAMSAPPTESTER_BROWSER": "none",  # it would otherwise try to open a browser and die
        "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(options.config),
    }
    # Standard input stays open as a pipe: the Playground exits when it reaches end of input.
    # The command is the pinned Playground and our own arguments, nothing a user typed.
    return subprocess.Popen(command, env=env, stdin=subprocess.PIPE, cwd=ROOT / "e2e")  # noqa: S603


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    if process.stdin and not process.stdin.closed:
        process.stdin.close()


def playground_lifetime(
    options: PlaygroundOptions,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        process = start_playground(options)
        logger.info(
            "Agents Playground: open http://localhost:%d to chat with Avviksboten", options.port
        )
        try:
            yield
        finally:
            stop_process(process)

    return lifetime
