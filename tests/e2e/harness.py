"""Teams users in the Agents Playground, one emulator per person, all talking to one bot.

A Playground has one current user and one personal chat. To see a leader get a card while a
member of staff reports, each person gets their own Playground (its own port, so its own
connector URL), configured with them as the current user. The bot keeps each chat's address
as Teams would give it, and writes to each person in their own emulator.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli.playground import (
    PlaygroundMissing,
    PlaygroundOptions,
    playground_command,
    start_playground,
    stop_process,
)
from tests.bot_process import free_port

Message = dict[str, Any]


@dataclass(frozen=True)
class Person:
    key: str  # a short name, and by default their Playground user id and chat id
    name: str
    aad_object_id: str
    user_id: str = ""
    chat_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_id", self.user_id or f"user-{self.key}")
        object.__setattr__(self, "chat_id", self.chat_id or f"personal-{self.key}")


# The people of docs/organisation-sample.csv and e2e/.m365agentsplayground.yml.
KARI = Person("kari", "Kari Nordmann", "5b0d7c51-0a4e-4e8f-9f0a-00000000a001")
LIV = Person("liv", "Liv Leiar", "5b0d7c51-0a4e-4e8f-9f0a-00000000a002")
HANNE = Person("hanne", "Hanne Rådgjevar", "5b0d7c51-0a4e-4e8f-9f0a-00000000a003")
PER = Person("per", "Per Hansen", "5b0d7c51-0a4e-4e8f-9f0a-00000000a004")
INGRID = Person("ingrid", "Ingrid Admin", "5b0d7c51-0a4e-4e8f-9f0a-00000000a005")
SIRI = Person("siri", "Siri Sjef", "5b0d7c51-0a4e-4e8f-9f0a-00000000a006")
PEOPLE = (KARI, LIV, HANNE, PER, INGRID, SIRI)


def require_playground() -> None:
    try:
        playground_command()
    except PlaygroundMissing as missing:
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so the Agents Playground cannot run here")
        raise AssertionError(f"{missing} (npm is here, so `make test` installs it)") from None


def words(message: Message) -> str:
    """A message's text and the texts of its cards, to search in."""
    cards = [a.get("content") for a in message.get("attachments") or []]
    shown = [message.get("text") or "", *(json.dumps(c, ensure_ascii=False) for c in cards)]
    return " ".join(shown)


def _user(person: Person) -> dict[str, str]:
    first, _, last = person.name.partition(" ")
    email = f"{person.key}@voss.example"
    return {
        "id": person.user_id,
        "name": person.name,
        "userPrincipleName": email,  # sic: the Playground's spelling
        "aadObjectId": person.aad_object_id,
        "givenName": first,
        "surname": last,
        "email": email,
    }


def config_for(current: Person) -> dict[str, Any]:
    """The Playground's config (YAML; JSON is YAML) with `current` as its user. It needs
    five other users, no fewer and (as tried) no more, or it stops serving without a word."""
    return {
        "version": "0.1.1",
        "tenantId": "7a3d6a60-5b1e-4c55-9a0e-000000000001",
        "bot": {"id": "00000000-0000-0000-0000-00000000000011", "name": "Avviksboten"},
        "currentUser": _user(current),
        "users": [_user(p) for p in PEOPLE if p != current][:5],
        "personalChat": {"id": current.chat_id},
        "groupChat": {"id": f"group-{current.key}", "name": "Leiargruppa"},
        "team": {
            "id": f"team-{current.key}",
            "name": "Oppvekst",
            "aadGroupId": "7a3d6a60-5b1e-4c55-9a0e-000000000031",
            "channels": [{"id": f"channel-{current.key}", "name": "HMS"}],
        },
    }


async def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], seconds: float = 30.0
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Playground exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the Playground did not listen on {port}")


@dataclass
class PlaygroundUser:
    """One person in their own Playground: types, presses card buttons, reads their chat."""

    person: Person
    http: aiohttp.ClientSession
    stream: aiohttp.ClientWebSocketResponse
    base: str
    updated: list[Message] = field(default_factory=list)
    waiting: list[Message] = field(default_factory=list)  # arrived, not yet read

    async def install(self, *, until: str) -> list[Message]:
        """Add the app to the personal chat, as Teams does on install (two events)."""
        await self._post(f"/_debug/conversation/{self.person.chat_id}/installation", {})
        return await self.replies(until)

    async def say(self, text: str, *, until: str, seconds: float = 15.0) -> list[Message]:
        """Send as this person; the bot's messages up to one that shows `until`."""
        await self._post(
            f"/_conversation/v1/conversations/{self.person.chat_id}/messages",
            {"from": {"id": self.person.user_id}, "text": text, "textFormat": "plain"},
        )
        return await self.replies(until, seconds)

    async def says(self, text: str, *, until: str) -> list[str]:
        return [m.get("text") or "" for m in await self.say(text, until=until)]

    async def press(
        self, card_message: Message, data: dict[str, Any], inputs: dict[str, str], *, until: str
    ) -> list[Message]:
        """Press a button with `data` on a card, with the card's inputs filled in."""
        await self._post(
            "/_conversation/v1/submit",
            {
                "conversation": {"id": self.person.chat_id},
                "from": {"id": self.person.user_id},
                "replyToId": card_message["messageId"],
                "value": {**data, **inputs},
            },
        )
        return await self.replies(until, 15.0)

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        async with self.http.post(f"{self.base}{path}", json=body) as response:
            assert response.status == 200, await response.text()

    async def replies(self, until: str, seconds: float = 15.0) -> list[Message]:
        """The bot's new messages, up to and including one that shows `until`."""
        try:
            await self._receive_until(until, seconds)
        except TimeoutError:
            got = [words(m)[:300] for m in self.waiting]
            # Still a timeout (a test may wait for nothing to come), saying what did come.
            raise TimeoutError(f"{until!r} did not come in {seconds} s; came: {got}") from None
        last = next(i for i, m in enumerate(self.waiting) if until in words(m))
        taken, self.waiting = self.waiting[: last + 1], self.waiting[last + 1 :]
        return taken

    async def _receive_until(self, until: str, seconds: float) -> None:
        async with asyncio.timeout(seconds):
            while not any(until in words(m) for m in self.waiting):
                event: dict[str, Any] = json.loads((await self.stream.receive()).data)
                message = event.get("message", {})
                if message.get("from", {}).get("id") == self.person.user_id:
                    continue
                if event.get("action") == "createMessage":
                    self.waiting.append(message)
                elif event.get("action") == "updateMessage":
                    self.updated.append(message)

    async def updated_to(self, message_id: str, showing: str, seconds: float = 15.0) -> Message:
        """The card `message_id` once it has been updated to show `showing`."""
        async with asyncio.timeout(seconds):
            while True:
                for message in reversed(self.updated):
                    if message.get("messageId") == message_id and showing in words(message):
                        return message
                event: dict[str, Any] = json.loads((await self.stream.receive()).data)
                if event.get("action") == "updateMessage":
                    self.updated.append(event.get("message", {}))
                elif event.get("action") == "createMessage":
                    message = event.get("message", {})
                    if message.get("from", {}).get("id") != self.person.user_id:
                        self.waiting.append(message)


@asynccontextmanager
async def playground_for(
    person: Person, bot_url: str, folder: Path, *, config: Path | None = None
) -> AsyncIterator[PlaygroundUser]:
    """A Playground with `person` as its user (or the given config), talking to the bot."""
    if config is None:
        config = folder / f"playground-{person.key}.yml"
        config.write_text(json.dumps(config_for(person), ensure_ascii=False), "utf-8")
    port, process = await _started(bot_url, person, config)
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            stream = await _stream(http, f"{base}/_ws_conversation/v1/conversations/stream")
            try:
                yield PlaygroundUser(person, http, stream, base)
            finally:
                await stream.close()
    finally:
        stop_process(process)


async def _started(
    bot_url: str, person: Person, config: Path, attempts: int = 3
) -> tuple[int, subprocess.Popen[bytes]]:
    """A Playground listening on a free port. A port free when picked may be taken by another
    process before the Playground binds it; then it exits, and another port is tried."""
    for attempt in range(attempts):
        port = free_port()
        process = start_playground(
            PlaygroundOptions(
                bot_url=f"{bot_url}/api/messages",
                port=port,
                conversation_id=person.chat_id,
                config=config,
            )
        )
        try:
            await _wait_for_port(port, process)
        except RuntimeError:
            stop_process(process)
            if attempt == attempts - 1:
                raise
            continue
        return port, process
    raise AssertionError("unreachable")


async def _stream(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    """The chat's event stream; the Playground may listen a moment before it serves it."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        try:
            return await http.ws_connect(url)
        except aiohttp.ClientError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


def buttons(message: Message) -> dict[str, dict[str, Any]]:
    """The submit buttons on a message's card by what they do, including those in «show card»
    and in the card's body (a handling card's legal duties)."""

    def walk(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        in_body = [
            a for e in card.get("body", []) if e["type"] == "ActionSet" for a in e["actions"]
        ]
        for action in [*card.get("actions", []), *in_body]:
            if action["type"] == "Action.Submit":
                found[action["data"].get("op", action["data"]["action"])] = action["data"]
            elif action["type"] == "Action.ShowCard":
                found.update(walk(action["card"]))
        return found

    [card] = [a["content"] for a in message["attachments"]]
    return walk(card)
