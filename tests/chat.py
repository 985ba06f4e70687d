"""Drive the real bot (handler, dialogs, SQL state) one user message at a time, without HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.app import build_bot
from bot.config import Settings
from bot.handler import AvvikBot
from domain.i18n import Catalogues, Texts
from storage.conversations import ConversationAddress
from storage.db import SessionFactory

# Tuesday 24 November 2026, 14:30 in Voss.
NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
CATALOGUES = Catalogues()
NN, NB, EN = CATALOGUES["nn"], CATALOGUES["nb"], CATALOGUES["en"]


def first_receipt(case: str, *, anonymous: bool = False) -> str:
    """What someone hears when a typed report of theirs is stored and it is their first: the
    case number, and the offer of the training (issue 15)."""
    told = NN("report.receipt", case=case)
    if anonymous:
        told = f"{told} {NN('report.receipt_anonymous')}"
    return f"{told}\n\n{NN('training.offer')}"


class RecordingMessenger:
    """Proactive messages, kept instead of sent: (conversation id, activity)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Activity]] = []
        self.updated: list[tuple[str, str, Activity]] = []

    async def send(self, address: ConversationAddress, activity: Activity) -> str:
        self.sent.append((address.conversation_id, activity))
        return f"proactive-{len(self.sent)}"

    async def update(
        self, address: ConversationAddress, activity_id: str, activity: Activity
    ) -> None:
        self.updated.append((address.conversation_id, activity_id, activity))


def make_bot(sessions: SessionFactory, *, now: datetime = NOW) -> AvvikBot:
    """The bot as the service wires it; what it queues in the outbox stays there (the outbox's
    own tests send it)."""
    return build_bot(Settings(dev_mode=True), sessions, lambda: now)


@dataclass
class Chat:
    bot: AvvikBot
    locale: str = "nn-NO"
    aad_object_id: str | None = "aad-kari"
    user_id: str = "29:kari"
    conversation_id: str = "a:kari-personal"
    adapter: TestAdapter = field(init=False)

    def __post_init__(self) -> None:
        self.adapter = TestAdapter(
            self.bot.on_turn,
            template_or_conversation=Activity(
                channel_id="msteams",
                service_url="https://smba.example.invalid/emea/",
                from_property=ChannelAccount(
                    id=self.user_id, name="Kari Nordmann", aad_object_id=self.aad_object_id
                ),
                recipient=ChannelAccount(id="28:avviksboten", name="Avviksboten"),
                conversation=ConversationAccount(id=self.conversation_id),
                locale=self.locale,
            ),
        )

    async def say(self, text: str | None = None, **extra: Any) -> list[Activity]:
        """Everything the bot answered to one message; fails when it answered nothing."""
        self.adapter.activity_buffer.clear()
        await self.adapter.receive_activity(Activity(type="message", text=text, **extra))
        replies = [a for a in self.adapter.activity_buffer if a.type == "message"]
        self.adapter.activity_buffer.clear()
        assert replies, f"the bot said nothing to {text!r}"
        return replies

    async def says(self, text: str | None = None, **extra: Any) -> str:
        """The bot's answer as one text (several messages joined by a blank line)."""
        return "\n\n".join(a.text or "" for a in await self.say(text, **extra))


def card_of(activity: Activity) -> dict[str, Any]:
    """The one Adaptive Card a message carries."""
    [attachment] = activity.attachments or []
    assert attachment.content_type == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachment.content
    return card


def card_words(activity: Activity) -> str:
    """Every text a card shows, as one string to search in."""
    return json.dumps(card_of(activity)["body"], ensure_ascii=False)


def buttons(activity: Activity) -> list[str]:
    actions = activity.suggested_actions.actions if activity.suggested_actions else []
    return [a.title for a in actions]


def choice_list(texts: Texts, group: str, codes: list[str]) -> list[str]:
    return [texts(f"{group}.{code}") for code in codes]
