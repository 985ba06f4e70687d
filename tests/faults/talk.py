"""A Teams user talking to a bot process over HTTP, and the typed report they talk through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.categories import category
from tests.chat import NN
from tests.fake_connector import FakeConnector, teams_message


@dataclass(frozen=True)
class Step:
    answer: str
    asks: str  # the catalogue key of what the bot asks next


# The typed report on the real clock («no nettopp», never a time of day that may be ahead).
# Without an organisation the bot asks for the unit by name.
TYPED_REPORT: tuple[Step, ...] = (
    Step("meld avvik", "report.ask_description"),
    Step("Vasskran lak i garderoben, golvet var glatt.", "report.ask_harm"),
    Step("Nestenulukke", "report.ask_category"),
    Step("7", "report.ask_severity"),
    Step("Låg", "report.ask_unit"),
    Step("Voss symjehall", "report.ask_location"),
    Step("Garderoben", "report.ask_when"),
    Step("no nettopp", "report.ask_immediate_action"),
    Step("Sette ut skilt", "report.ask_suggested_measure"),
    Step("Hopp over", "report.ask_confirm"),
)
SEND = "Send inn"

# What the report holds once sent, whichever step the bot died at: (column, value).
STORED = {
    "description": "Vasskran lak i garderoben, golvet var glatt.",
    "harm": "near_miss",
    "category": "indoor_building",
    "severity": "low",
    "unit_text": "Voss symjehall",
    "location": "Garderoben",
    "immediate_action": "Sette ut skilt",
    "suggested_measure": None,
}
# What the summary shows of those answers.
SUMMARY_SHOWS = (
    "Vasskran lak i garderoben, golvet var glatt.",
    NN("harm.near_miss"),
    category("indoor_building").label("nn"),
    NN("severity.low"),
    "Voss symjehall",
    "Garderoben",
    "Sette ut skilt",
)


# How a receipt begins, whatever its case number.
RECEIPT_STARTS = NN("report.receipt", case="\x00").split("\x00")[0]


def asked(replies: list[str], key: str, texts: Any = NN) -> bool:
    """True when one of the replies contains the catalogue text (questions carry more text)."""
    wanted = texts(key)
    return any(wanted in reply for reply in replies)


@dataclass
class TeamsUser:
    """One person in a personal chat with the bot, as Teams posts their messages."""

    connector: FakeConnector
    name: str = "kari"
    locale: str = "nn-NO"
    sequence: int = 0

    @property
    def conversation_id(self) -> str:
        return f"a:1{self.name}-personal"

    def message(self, text: str) -> dict[str, Any]:
        self.sequence += 1
        return teams_message(
            text,
            service_url=self.connector.url,
            conversation_id=self.conversation_id,
            aad_object_id=f"aad-{self.name}",
            user_id=f"29:1{self.name}",
            locale=self.locale,
            sequence=self.sequence,
        )

    async def post(self, bot_url: str, text: str) -> int:
        """Send one message; the HTTP status the bot answered (the replies go to the connector).
        Teams gives up on a bot that has not answered in 15 seconds; a test waits a bit more."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            http.post(f"{bot_url}/api/messages", json=self.message(text)) as response,
        ):
            return response.status

    async def say(self, bot_url: str, text: str) -> list[str]:
        """Send one message and take what the bot answered to it."""
        status = await self.post(bot_url, text)
        assert status == 201, (text, status)
        return self.connector.take_texts(self.conversation_id)

    async def answer(self, bot_url: str, steps: Sequence[Step]) -> list[str]:
        """Answer these steps of the typed report, checking each next question; the replies to
        the last answer."""
        replies: list[str] = []
        for step in steps:
            replies = await self.say(bot_url, step.answer)
            assert asked(replies, step.asks), (step.answer, replies)
        return replies
