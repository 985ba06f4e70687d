"""`python -m bot --dev` (README): no authentication, so only this machine may reach it."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.bot_process import BotProcess

_LISTEN = "0A"


def listening_on(port: int) -> set[str]:
    """The addresses (hex, as the kernel writes them) with a listening TCP socket on `port`."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, local_port = local.split(":")
        if state == _LISTEN and int(local_port, 16) == port:
            found.add(address)
    return found


LOOPBACK = "0100007F"  # 127.0.0.1
EVERY_ADDRESS = "00000000"  # 0.0.0.0


async def test_dev_mode_from_the_readme_listens_on_this_machine_only(sqlite_url: str) -> None:
    # HOST as .env.example has it: dev mode still keeps to loopback.
    bot = BotProcess(
        sqlite_url,
        extra_env={"AVVIK_DEV_MODE": "0", "HOST": "0.0.0.0", "PORT": "1"},
        arguments=("--dev", "--port", "{port}"),
    )
    await bot.start()
    try:
        assert listening_on(bot.port) == {LOOPBACK}
        async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/healthz") as answer:
            assert answer.status == 200
    finally:
        bot.stop()
    assert "DEV MODE" in bot.log()
    assert "WITHOUT authentication, on 127.0.0.1" in bot.log()


async def test_dev_mode_said_as_yes_keeps_to_loopback_too(sqlite_url: str) -> None:
    bot = BotProcess(sqlite_url, extra_env={"AVVIK_DEV_MODE": "yes", "HOST": "0.0.0.0"})
    await bot.start()
    try:
        assert listening_on(bot.port) == {LOOPBACK}
    finally:
        bot.stop()


async def test_host_says_otherwise(sqlite_url: str) -> None:
    bot = BotProcess(
        sqlite_url,
        extra_env={"AVVIK_DEV_MODE": "0"},
        arguments=("--dev", "--host", "0.0.0.0"),  # the port from PORT
    )
    await bot.start()
    try:
        assert listening_on(bot.port) == {EVERY_ADDRESS}
    finally:
        bot.stop()
    assert "WITHOUT authentication, on 0.0.0.0" in bot.log()


async def test_serve_dev_is_the_same(sqlite_url: str) -> None:
    bot = BotProcess(
        sqlite_url,
        extra_env={"AVVIK_DEV_MODE": "0", "HOST": "0.0.0.0"},
        arguments=("serve", "--dev"),
    )
    await bot.start()
    try:
        assert listening_on(bot.port) == {LOOPBACK}
    finally:
        bot.stop()
