"""The bot's address book: every conversation it is in, kept fresh for proactive messages."""

from __future__ import annotations

from collections.abc import Callable

from botbuilder.schema import Activity

from storage import conversations, outbox
from storage.conversations import ConversationAddress
from storage.db import SessionFactory

# Addresses already written by this process; a write is needed only when one changes.
_REMEMBERED_MAX = 10_000


def address_of(activity: Activity) -> ConversationAddress | None:
    """The reference a proactive message needs, from an inbound activity (None if incomplete)."""
    conversation = activity.conversation
    if conversation is None or not conversation.id or not activity.service_url:
        return None
    kind = conversation.conversation_type or "personal"
    sender = activity.from_property
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant_data = channel_data.get("tenant")
    tenant = conversation.tenant_id or (
        tenant_data.get("id") if isinstance(tenant_data, dict) else None
    )
    return ConversationAddress(
        conversation_id=conversation.id,
        conversation_type=kind,
        person_aad_object_id=sender.aad_object_id if sender and kind == "personal" else None,
        channel_id=activity.channel_id or "msteams",
        service_url=activity.service_url,
        tenant_id=tenant,
        bot_id=(activity.recipient.id if activity.recipient else None) or "",
    )


class ConversationBook:
    def __init__(
        self, sessions: SessionFactory, *, ring: Callable[[], None] = lambda: None
    ) -> None:
        self._sessions = sessions
        self._remembered: dict[str, ConversationAddress] = {}
        self._ring = ring  # the outbox's sender: someone it waited for can be reached now

    async def remember(self, address: ConversationAddress) -> None:
        if self._remembered.get(address.conversation_id) == address:
            return
        async with self._sessions() as session, session.begin():
            await conversations.remember_conversation(session, address)
            woken = 0
            if address.person_aad_object_id and address.conversation_type == "personal":
                woken = await outbox.wake_person(
                    session, aad_object_id=address.person_aad_object_id
                )
        if woken:
            self._ring()
        if len(self._remembered) >= _REMEMBERED_MAX:
            self._remembered.clear()
        self._remembered[address.conversation_id] = address

    async def claim_welcome(self, conversation_id: str) -> bool:
        async with self._sessions() as session, session.begin():
            return await conversations.claim_welcome(session, conversation_id=conversation_id)
