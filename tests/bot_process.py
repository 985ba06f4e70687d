"""Run `python -m bot` as a real process on a free loopback port, and stop it by its own pid."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


def admin_command(database_url: str, *arguments: str) -> None:
    """`python -m bot …` as an admin runs it (an import), in its own process; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "AVVIK_ENV_FILE": os.devnull,  # never a developer's .env
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class BotProcess:
    def __init__(
        self,
        database_url: str,
        *,
        extra_env: dict[str, str] | None = None,
        arguments: tuple[str, ...] = ("serve",),
    ) -> None:
        self._arguments = arguments
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
            "AVVIK_DEV_MODE": "1",
            "AVVIK_ENV_FILE": os.devnull,  # never a developer's .env
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            **(extra_env or {}),
        }
        self._process: subprocess.Popen[bytes] | None = None
        # A file, not a pipe: nobody drains a pipe, and a full one would block the bot.
        self._log = tempfile.NamedTemporaryFile(prefix="avvik-bot-", suffix=".log")  # noqa: SIM115
        self._final_log: str | None = None  # what it wrote, kept once the file is gone

    async def start(self, within_seconds: float = 30.0) -> None:
        self._process = subprocess.Popen(  # noqa: ASYNC220  (started once, polled below)
            [sys.executable, "-m", "bot", *(a.format(port=self.port) for a in self._arguments)],
            cwd=ROOT,
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = asyncio.get_running_loop().time() + within_seconds
        async with aiohttp.ClientSession() as http:
            while asyncio.get_running_loop().time() < deadline:
                if self._process.poll() is not None:
                    raise RuntimeError(f"bot exited:\n{self.log()}")
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        self.kill()
        raise TimeoutError("the bot did not answer /healthz in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; like a crash or an OOM kill."""
        if self._process and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)
        self._close_pipes()

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_pipes()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        """What the process wrote, also after it was killed or stopped."""
        if self._final_log is not None:
            return self._final_log
        return Path(self._log.name).read_text(errors="replace")

    def _close_pipes(self) -> None:
        if not self._log.closed:
            self._final_log = self.log()
        self._log.close()
