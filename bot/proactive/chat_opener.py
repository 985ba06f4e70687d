"""A 1:1 chat with someone who has never written to the bot, for the outbox's sender.

First Teams is asked for the chat (Bot Connector `create_conversation` with the person's Entra
id and the tenant): that works when the app is installed for them, by them or by an admin's
policy. When it is not, and the admin has allowed it, the app is installed for them through
Microsoft Graph (bot.proactive.app_install) and Teams asked again. Otherwise the person cannot be
reached: their messages wait for them, and the HMS adviser is told (docs/outbox.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.proactive.app_install import AppInstaller
from bot.proactive.messenger import ChatPlace, DeliveryFailed, Messenger
from bot.proactive.outbox_sender import RETRIED, Later, Unreachable
from storage import conversations, handling, outbox
from storage.conversations import ConversationAddress
from storage.db import SessionFactory
from storage.outbox import NOT_INSTALLED

logger = logging.getLogger(__name__)

# Teams' answer when the bot may not talk to the person at all: installing will not help.
_DISABLED = "BotDisabledByAdmin"
_NO_TENANT = "no chat with anyone in the organisation yet: the tenant is not known"
_JUST_INSTALLED = "installed for them through Graph; Teams has not opened the chat yet"


@dataclass(frozen=True)
class OpenerSettings:
    """Where to open chats before anyone has written to the bot (after that, where they did)."""

    service_url: str = "https://smba.trafficmanager.net/teams/"
    tenant_id: str = ""
    bot_id: str = ""  # "28:<the bot's app id>"
    # A person who could not be reached is not asked about again for so long: a batch may hold
    # many of their messages.
    remember_seconds: float = 60.0


class TeamsChatOpener:
    def __init__(
        self,
        sessions: SessionFactory,
        messenger: Messenger,
        settings: OpenerSettings,
        installer: AppInstaller | None = None,
    ) -> None:
        self._sessions = sessions
        self._messenger = messenger
        self._settings = settings
        self._installer = installer
        self._not_now: dict[int, tuple[Unreachable | Later, float]] = {}

    async def open(
        self, person_id: int, pace: Callable[[str], Awaitable[None]]
    ) -> ConversationAddress | Unreachable | Later:
        remembered = self._not_now.get(person_id)
        if remembered is not None and remembered[1] > time.monotonic():
            return remembered[0]
        opened = await self._open(person_id, pace)
        if isinstance(opened, ConversationAddress):
            self._not_now.pop(person_id, None)
        else:
            self._not_now[person_id] = (opened, time.monotonic() + self._settings.remember_seconds)
        return opened

    async def _open(
        self, person_id: int, pace: Callable[[str], Awaitable[None]]
    ) -> ConversationAddress | Unreachable | Later:
        async with self._sessions() as session:
            person = await handling.person_by_id(session, person_id=person_id)
            latest = await conversations.latest_personal_conversation(session)
        if person is None:
            return Unreachable("no such person")
        if person.address is not None:
            return person.address  # someone wrote it down meanwhile
        place = self._place(latest)
        if place is None:
            return Unreachable(_NO_TENANT)
        first = await self._ask_teams(place, person.aad_object_id, pace)
        if not (isinstance(first, Unreachable) and first.reason == NOT_INSTALLED):
            return first
        if self._installer is None:
            return first
        installing = await self._installer.install(person.aad_object_id, place.tenant_id)
        if installing is not None:
            return installing
        logger.info("installed the app for person %s through Graph", person_id)
        second = await self._ask_teams(place, person.aad_object_id, pace)
        if isinstance(second, ConversationAddress):
            return second
        # Teams needs a moment after an installation; it also tells the bot (installationUpdate),
        # which wakes the person's messages.
        return Later(_JUST_INSTALLED)

    def _place(self, latest: ConversationAddress | None) -> ChatPlace | None:
        if latest is not None and latest.tenant_id:
            return ChatPlace(
                service_url=latest.service_url,
                tenant_id=latest.tenant_id,
                bot_id=latest.bot_id or self._settings.bot_id,
                channel_id=latest.channel_id,
            )
        if self._settings.tenant_id and self._settings.bot_id:
            return ChatPlace(
                service_url=self._settings.service_url,
                tenant_id=self._settings.tenant_id,
                bot_id=self._settings.bot_id,
            )
        return None

    async def _ask_teams(
        self, place: ChatPlace, aad_object_id: str, pace: Callable[[str], Awaitable[None]]
    ) -> ConversationAddress | Unreachable | Later:
        await pace(place.tenant_id)
        try:
            conversation_id = await self._messenger.open_chat(place, aad_object_id)
        except DeliveryFailed as failed:
            if failed.status is None or failed.status in RETRIED:
                return Later(f"Teams could not open a chat: {failed.reason}", failed.retry_after)
            if failed.status in (403, 404) and failed.code != _DISABLED:
                return Unreachable(NOT_INSTALLED)
            return Unreachable(f"Teams refused to open a chat: {failed.reason}")
        address = ConversationAddress(
            conversation_id=conversation_id,
            conversation_type="personal",
            person_aad_object_id=aad_object_id,
            channel_id=place.channel_id,
            service_url=place.service_url,
            tenant_id=place.tenant_id,
            bot_id=place.bot_id,
        )
        async with self._sessions() as session, session.begin():
            await conversations.remember_conversation(session, address)
            await outbox.wake_person(session, aad_object_id=aad_object_id)
        return address
